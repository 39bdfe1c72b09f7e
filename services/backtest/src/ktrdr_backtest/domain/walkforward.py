"""Walk-forward analysis: retrain per window, test out of sample, chain the tests.

Windows are counted in bars of the strategy's base timeframe inside ``[start, end)``. Window
``k`` trains on ``[a_k, b_k)`` and tests on ``[b_k + embargo, b_k + embargo + test_bars)``:

- **rolling**: ``a_k = k * step`` and ``b_k = a_k + train_bars`` (a fixed-length window moves);
- **expanding**: ``a_k = 0`` and ``b_k = train_bars + k * step`` (the window grows).

The model is trained (through a :class:`Trainer`: the neural service, or the neural domain
in-process) on ``[a_k, b_k - purge)``: the **purge** drops the last bars, whose labels would read
``label horizon`` bars ahead into what follows; the **embargo** leaves further bars unused
before the test starts (features carry information across the boundary). Both are at least the
strategy's label horizon (the longest label window, ``ktrdr_core.strategy.training``); a
shorter one is refused. ``step`` is at least ``test_bars``, so test windows never overlap; with
``step == test_bars`` they tile the out-of-sample period.

Each window's test is an ordinary backtest (stored, with the window's pinned model; its warm-up
history comes from before the test window and only feeds features). The **aggregate** feeds the
same batches and decisions into one more engine, window after window, as trading would have
happened with the model retrained at each boundary (a position may stay open across one); it is
stored as a run of its own, with per-window and aggregated out-of-sample metrics.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import numpy as np

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.engine import EngineConfig
from ktrdr_backtest.domain.run import (
    DEFAULT_BATCH,
    BacktestOutcome,
    BacktestPlan,
    BacktestRequest,
    BacktestRunner,
    ModelInfo,
    RunEvent,
    Simulation,
    resolve_symbol,
)
from ktrdr_core.dates import to_us
from ktrdr_core.errors import FailedPreconditionError
from ktrdr_core.problems import Problems
from ktrdr_core.strategy.document import Strategy

MIN_TRAIN_BARS, MAX_WINDOW_BARS = 100, 1_000_000
MIN_TEST_BARS = 10
DEFAULT_MAX_WINDOWS, MAX_WINDOWS = 20, 50


class WalkForwardMode(enum.StrEnum):
    ROLLING = "rolling"
    EXPANDING = "expanding"


class Trainer(Protocol):
    async def train(
        self,
        strategy: Strategy,
        *,
        symbol: str,
        start: dt.datetime,
        end: dt.datetime,
        overrides: Mapping[str, Any],
    ) -> str:
        """Train a model of ``strategy`` on ``symbol``'s bars ``[start, end)``; its pinned name."""
        ...


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WalkForwardConfig:
    """A walk-forward to run (bounds in the module docstring and :meth:`check`).

    ``engine``, ``confidence_threshold``, ``batch_size`` and ``risk_free_rate`` apply to every
    window's backtest; ``overrides`` to every window's training section (``{"epochs": 5}``).
    ``purge_bars`` and ``embargo_bars`` of 0 mean the label horizon; ``step_bars`` of 0 means
    ``test_bars``.
    """

    strategy_id: str
    start: dt.datetime
    end: dt.datetime
    train_bars: int
    test_bars: int
    symbol: str = ""
    mode: WalkForwardMode = WalkForwardMode.ROLLING
    step_bars: int = 0
    purge_bars: int = 0
    embargo_bars: int = 0
    max_windows: int = DEFAULT_MAX_WINDOWS
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    engine: EngineConfig = dataclasses.field(default_factory=EngineConfig)
    confidence_threshold: float | None = None
    batch_size: int = DEFAULT_BATCH
    risk_free_rate: float = 0.0

    def __post_init__(self) -> None:
        problems = Problems(code=codes.BAD_WALK_FORWARD)
        if not MIN_TRAIN_BARS <= self.train_bars <= MAX_WINDOW_BARS:
            problems.add("train_bars", f"'train_bars' must be in [{MIN_TRAIN_BARS}, 1000000].")
        if not MIN_TEST_BARS <= self.test_bars <= MAX_WINDOW_BARS:
            problems.add("test_bars", f"'test_bars' must be in [{MIN_TEST_BARS}, 1000000].")
        if self.step_bars and not self.test_bars <= self.step_bars <= MAX_WINDOW_BARS:
            problems.add(
                "step_bars", "'step_bars' must be at least 'test_bars' (tests never overlap)."
            )
        for name in ("purge_bars", "embargo_bars"):
            if not 0 <= getattr(self, name) <= MAX_WINDOW_BARS:
                problems.add(name, f"'{name}' must be in [0, 1000000] (0: the label horizon).")
        if not 1 <= self.max_windows <= MAX_WINDOWS:
            problems.add("max_windows", f"'max_windows' must be in [1, {MAX_WINDOWS}].")
        if not isinstance(self.mode, WalkForwardMode):
            problems.add("mode", f"'mode' must be one of {', '.join(WalkForwardMode)}.")
        problems.raise_if_any("the walk-forward settings")

    def gaps(self, horizon: int) -> tuple[int, int]:
        """The purge and embargo in bars; ``BACKTEST-020`` when one is below ``horizon``."""
        purge = self.purge_bars or horizon
        embargo = self.embargo_bars or horizon
        problems = Problems(code=codes.BAD_WALK_FORWARD)
        for name, value in (("purge_bars", purge), ("embargo_bars", embargo)):
            if value < horizon:
                problems.add(
                    name,
                    f"'{name}' {value} is shorter than the strategy's label horizon ({horizon} "
                    "bars): training labels would read into the test window.",
                )
        problems.raise_if_any("the walk-forward settings")
        return purge, embargo

    def backtest(self, **fields: Any) -> BacktestRequest:
        """A window's backtest request with this walk-forward's engine settings."""
        return BacktestRequest(
            strategy_id=self.strategy_id,
            engine=self.engine,
            confidence_threshold=self.confidence_threshold,
            batch_size=self.batch_size,
            risk_free_rate=self.risk_free_rate,
            **fields,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    """Bar times (UTC microseconds) of one window; the ends are exclusive."""

    index: int
    train_start_us: int
    train_end_us: int
    test_start_us: int
    test_end_us: int

    def dates(self) -> tuple[dt.datetime, dt.datetime, dt.datetime, dt.datetime]:
        return tuple(  # type: ignore[return-value]
            dt.datetime.fromtimestamp(us / 1e6, dt.UTC)
            for us in (self.train_start_us, self.train_end_us, self.test_start_us, self.test_end_us)
        )


def plan_windows(
    stamps: np.ndarray, config: WalkForwardConfig, *, horizon: int, end_us: int
) -> list[Window]:
    """The windows over bars opening at ``stamps`` (the range's, in order); see the module
    docstring. The last test window ends at the next bar's open (or ``end_us``).

    Raises
    ------
    ValidationError
        ``BACKTEST-020`` for a purge or embargo below the label horizon.
    FailedPreconditionError
        ``BACKTEST-021`` when the bars do not hold one whole window.
    """
    purge, embargo = config.gaps(horizon)
    step = config.step_bars or config.test_bars
    n = len(stamps)
    windows: list[Window] = []
    for k in range(config.max_windows):
        if config.mode is WalkForwardMode.ROLLING:
            a, b = k * step, k * step + config.train_bars
        else:
            a, b = 0, config.train_bars + k * step
        test_lo, test_hi = b + embargo, b + embargo + config.test_bars
        if test_hi > n:
            break
        windows.append(
            Window(
                k,
                int(stamps[a]),
                int(stamps[b - purge]),
                int(stamps[test_lo]),
                int(stamps[test_hi]) if test_hi < n else end_us,
            )
        )
    if not windows:
        need = config.train_bars + embargo + config.test_bars
        raise FailedPreconditionError(
            codes.WALK_FORWARD_TOO_SHORT,
            f"The range holds {n} bars; one window needs {need} (train_bars {config.train_bars}, "
            f"the last {purge} of them purged, + embargo {embargo} + test_bars "
            f"{config.test_bars}).",
            field="start_date",
        )
    return windows


@dataclasses.dataclass(frozen=True, slots=True)
class WindowResult:
    """A finished window: its model, its stored backtest and what it produced."""

    window: Window
    model: str
    run_id: str
    plan: BacktestPlan
    outcome: BacktestOutcome


@dataclasses.dataclass(frozen=True, slots=True)
class WalkForwardEvent:
    """Progress of a walk-forward; the last (``stage == "done"``) carries every window and the
    aggregate (its run id, plan and outcome)."""

    walk_forward_id: str
    stage: str
    window: int
    windows: int
    percent: float
    message: str
    completed: tuple[WindowResult, ...] = ()
    aggregate: tuple[str, BacktestPlan, BacktestOutcome] | None = None


class WalkForward:
    """Runs walk-forwards with a :class:`BacktestRunner` and a :class:`Trainer`."""

    def __init__(self, *, runner: BacktestRunner, trainer: Trainer) -> None:
        self.runner = runner
        self.trainer = trainer
        self._settings: dict[str, str] = {}

    async def run(self, config: WalkForwardConfig) -> AsyncIterator[WalkForwardEvent]:
        """Plan the windows, then train and test each; see the module docstring."""
        valid = (await self.runner.strategies.check(config.strategy_id)).require()
        symbol, timeframe = resolve_symbol(
            config.backtest(start=config.start, end=config.end, symbol=config.symbol),
            valid.strategy,
        )
        wid = uuid.uuid4().hex
        self._settings = _settings_of(config, valid.label_horizon_bars)
        yield WalkForwardEvent(wid, "planning", 0, 0, 0.0, "reading the bars of the range")
        stamps = await self._stamps(symbol, timeframe, config)
        windows = plan_windows(
            stamps, config, horizon=valid.label_horizon_bars, end_us=to_us(config.end)
        )
        count = len(windows)
        done: list[WindowResult] = []
        chain: Simulation | None = None
        for window in windows:
            train_start, train_end, test_start, test_end = window.dates()
            yield WalkForwardEvent(
                wid, "training", window.index, count, 100.0 * window.index / count,
                f"training window {window.index + 1}/{count} on [{train_start}, {train_end})",
                tuple(done),
            )  # fmt: skip
            model = await self.trainer.train(
                valid.strategy,
                symbol=symbol,
                start=train_start,
                end=train_end,
                overrides=config.overrides,
            )
            yield WalkForwardEvent(
                wid, "backtesting", window.index, count, 100.0 * (window.index + 0.5) / count,
                f"testing window {window.index + 1}/{count} with {model}", tuple(done),
            )  # fmt: skip
            request = config.backtest(
                start=test_start, end=test_end, symbol=symbol, model=model, walk_forward_id=wid
            )
            plan = await self.runner.plan(request)
            if chain is None:
                chain = Simulation(_aggregate_plan(plan, config, count))
            final = await _last(self.runner.run(request, tap=chain.feed))
            assert final.outcome is not None
            done.append(WindowResult(window, model, final.run_id, final.plan, final.outcome))
        assert chain is not None
        yield WalkForwardEvent(wid, "aggregating", count, count, 99.0, "chaining the windows")
        aggregate = await self._aggregate(chain, wid)
        yield WalkForwardEvent(wid, "done", count, count, 100.0, "done", tuple(done), aggregate)

    async def _stamps(self, symbol: str, timeframe: str, config: WalkForwardConfig) -> np.ndarray:
        parts = [
            bars.timestamps_us
            async for bars in self.runner.feed.range(
                symbol=symbol, timeframe=timeframe, start=config.start, end=config.end,
                batch_size=10_000,
            )
        ]  # fmt: skip
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    async def _aggregate(
        self, chain: Simulation, wid: str
    ) -> tuple[str, BacktestPlan, BacktestOutcome]:
        plan = chain.plan
        calendar = await self.runner.feed.calendar(symbol=plan.symbol, timeframe=plan.timeframe)
        outcome = await self.runner.offload(chain.finish, calendar)
        run_id = ""
        recorder = self.runner.recorder
        if recorder is not None:
            info = dataclasses.replace(plan.info, settings={**plan.info.settings, **self._settings})
            run_id = await recorder.started(info)
            try:
                await recorder.succeeded(run_id, outcome)
            except BaseException as exc:
                await self.runner._record_failure(run_id, exc)
                raise
        return run_id, plan, outcome


def _settings_of(config: WalkForwardConfig, horizon: int) -> dict[str, str]:
    purge, embargo = config.purge_bars or horizon, config.embargo_bars or horizon
    return {
        "walk_forward.mode": config.mode.value,
        "walk_forward.train_bars": str(config.train_bars),
        "walk_forward.test_bars": str(config.test_bars),
        "walk_forward.step_bars": str(config.step_bars or config.test_bars),
        "walk_forward.purge_bars": str(purge),
        "walk_forward.embargo_bars": str(embargo),
        "walk_forward.label_horizon_bars": str(horizon),
        "walk_forward.overrides": str(dict(config.overrides)),
    }


def _aggregate_plan(first: BacktestPlan, config: WalkForwardConfig, windows: int) -> BacktestPlan:
    """The plan of the chained run: the first window's, over the whole range, named for the
    walk-forward."""
    request = dataclasses.replace(first.request, start=config.start, end=config.end, model="")
    model = ModelInfo(
        name=f"walk-forward: {windows} models ({config.mode.value})",
        features=first.model.features,
        timeframe=first.model.timeframe,
        symbols=first.model.symbols,
    )
    return dataclasses.replace(first, request=request, model=model)


async def _last(events: AsyncIterator[RunEvent]) -> RunEvent:
    last: RunEvent | None = None
    async for event in events:
        last = event
    assert last is not None
    return last
