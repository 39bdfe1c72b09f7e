"""Running a strategy's backtest: bars -> features -> predictions -> decisions -> results.

One runner for both transports. The domain declares what it needs as Protocols of core types
and a composition root plugs them in: the backtest service's app the gRPC clients (data
``StreamBars``, indicators ``StreamIndicators`` piped into fuzzy ``StreamFuzzy`` piped into
neural ``StreamPredictions``), ``ktrdr_pipeline`` the other domains in-process. Both give the
same trades, bit for bit (tested against real processes).

=================  ===================================================================
Protocol           what it gives
=================  ===================================================================
BarFeed            the stored extent, the history before a date, a range in batches,
                   the instrument's calendar
SignalSource       a :class:`SignalStream`: bars in, features and class probabilities out
ModelCatalog       a model's description (pinned name, features, metrics)
StrategySource     a strategy checked in every section (:mod:`.strategies`)
RunRecorder        where runs are stored (started, succeeded, failed)
=================  ===================================================================

Semantics
---------
- The range ``[start, end)`` is simulated; before ``start`` the runner feeds the last
  ``warmup_bars`` stored bars (the strategy's :func:`~.strategies.warmup_bars`) through the
  same streams, without trading, so every feature is ready at ``start``. The history fed is a
  fixed number of bars, so the result does not depend on how much older history is stored.
- Bars stream in batches (``batch_size``) and keep their bar-by-bar meaning: every stage is
  causal and gives the same values for any split of the bars into batches. Up to
  :data:`PIPELINE_DEPTH` batches are in flight, so the stages work at the same time.
- A row whose prediction is not ready (warm-up, a not-ready feature) is a HOLD.
- A run is recorded as started, then either succeeded with all its results written in one
  transaction, or failed with the reason and nothing else (no partial metrics or trades).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, Protocol

import numpy as np

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.decisions import DecisionConfig, ShortSelling
from ktrdr_backtest.domain.engine import BacktestEngine, BacktestResult, EngineConfig
from ktrdr_backtest.domain.inputs import ModelOutput
from ktrdr_backtest.domain.metrics import (
    MetricsReport,
    calendar_periods_per_year,
    compute_metrics,
)
from ktrdr_backtest.domain.runner import settings_summary
from ktrdr_backtest.domain.strategies import StrategyCheck, ValidStrategy
from ktrdr_core.bars import Bars
from ktrdr_core.calendars import TradingCalendar
from ktrdr_core.dates import to_us
from ktrdr_core.errors import (
    FailedPreconditionError,
    KtrdrError,
    NotFoundError,
    ValidationError,
)
from ktrdr_core.offload import Offload
from ktrdr_core.problems import Problems
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_core.values import ValueFrame

#: Bars per batch between the stages: default and bounds.
DEFAULT_BATCH = 2_000
MAX_BATCH = 10_000
#: Batches in flight between the stages at once.
PIPELINE_DEPTH = 4
#: Seconds between two progress events (the first and the last are always sent).
PROGRESS_INTERVAL = 0.25
#: Bound on the warm-up history a run feeds (bars).
MAX_WARMUP_BARS = 1_000_000
# Class probabilities of a row that is not ready (counted as a HOLD, never stored).
_HOLD_ROW = np.array([0.0, 1.0, 0.0])


# -- what the runner needs ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Extent:
    """The stored bars of a series: first and last open times (UTC microseconds)."""

    first_us: int
    last_us: int


class BarFeed(Protocol):
    """Stored bars of one instrument (the data service, or its store in-process)."""

    async def extent(self, *, symbol: str, timeframe: str) -> Extent:
        """The stored extent; ``NotFoundError`` when nothing is stored."""
        ...

    async def history(self, *, symbol: str, timeframe: str, before: dt.datetime, bars: int) -> Bars:
        """The last ``bars`` stored bars opening before ``before`` (fewer when fewer exist)."""
        ...

    def range(
        self,
        *,
        symbol: str,
        timeframe: str,
        start: dt.datetime,
        end: dt.datetime,
        batch_size: int,
    ) -> AsyncIterator[Bars]:
        """The stored bars of ``[start, end)`` in time order, ``batch_size`` at a time."""
        ...

    async def calendar(self, *, symbol: str, timeframe: str) -> TradingCalendar:
        """The instrument's trading calendar (to annualise with the bars a year holds)."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """What the stages made of one batch of bars: the features (one row per bar, in the
    model's order) and the model's class probabilities (BUY, HOLD, SELL; NaN where ``ready`` is
    false)."""

    features: ValueFrame
    probabilities: np.ndarray
    ready: np.ndarray

    def __len__(self) -> int:
        return len(self.features)


class SignalStream(Protocol):
    """Bars in, a :class:`Step` out per batch, in order (one :meth:`receive` per :meth:`send`);
    several batches may be sent before the first is received."""

    async def send(self, bars: Bars) -> None: ...

    async def receive(self) -> Step: ...

    async def close(self) -> None: ...


class SignalSource(Protocol):
    async def open(self, strategy: Strategy, *, symbol: str, model: str) -> SignalStream:
        """A fresh stream of ``strategy``'s features on ``symbol`` into ``model``."""
        ...


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """A stored model as a backtest needs it.

    ``name`` pins the version; ``metrics`` are its test-split figures from training, with the
    baselines it was compared with (``majority_accuracy``, ...).
    """

    name: str
    features: tuple[str, ...]
    timeframe: str
    symbols: tuple[str, ...] = ()
    window: int = 1
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    # The training split's most frequent label as a signal (BUY 1, HOLD 0, SELL -1): what the
    # majority-class baseline always answers; None when the model does not say.
    majority_signal: int | None = None

    def __post_init__(self) -> None:
        if self.majority_signal not in (None, -1, 0, 1):
            raise ValueError(f"majority_signal must be -1, 0, 1 or None: {self.majority_signal}")


def majority_signal(metadata: Mapping[str, Any]) -> int | None:
    """The most frequent label of a model's training split (summed over its symbols; a tie
    goes to BUY, then HOLD, as the neural domain's ``argmax`` does) as a signal, from the
    model's metadata (``data.symbols.<symbol>.splits.train.classes``); None when absent."""
    counts = dict.fromkeys(("BUY", "HOLD", "SELL"), 0.0)
    symbols = (metadata.get("data") or {}).get("symbols") or {}
    for info in symbols.values():
        classes = ((info.get("splits") or {}).get("train") or {}).get("classes") or {}
        for name in counts:
            counts[name] += float(classes.get(name, 0))
    if not any(counts.values()):
        return None
    best = max(counts, key=lambda name: counts[name])  # first of the largest
    return {"BUY": 1, "HOLD": 0, "SELL": -1}[best]


class ModelCatalog(Protocol):
    async def describe(self, name: str) -> ModelInfo:
        """The model ``name`` names (the latest version unless pinned); ``NotFoundError``."""
        ...


class StrategySource(Protocol):
    async def check(self, strategy_id: str) -> StrategyCheck:
        """The stored strategy ``strategy_id`` checked in every section; ``NotFoundError``."""
        ...


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """What a run is about, known before it starts (stored with it)."""

    strategy_id: str
    symbol: str
    timeframe: str
    model: str = ""
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    warmup_bars: int = 0
    walk_forward_id: str = ""
    model_metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    feature_names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """An acted decision: the bar (from the run's first bar) whose close took it, the signal
    (+1 BUY, -1 SELL), the class probabilities and the features the model saw."""

    bar: int
    time_us: int
    signal: int
    probabilities: tuple[float, float, float]
    features: tuple[float, ...]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BacktestOutcome:
    """A finished run: the engine's result, its metrics, the buy-and-hold baseline's metrics
    (same costs and conventions), the trace of every acted decision and the warm-up bars fed
    (fewer than the strategy's when no more are stored before the range)."""

    result: BacktestResult
    report: MetricsReport
    buy_and_hold: MetricsReport | None = None
    decisions: tuple[Decision, ...] = ()
    warmup_bars: int = 0
    # The majority-class model (always the training split's most frequent label) through the
    # same engine, decisions and costs; None when the model does not name that label.
    majority_class: MetricsReport | None = None


class RunRecorder(Protocol):
    async def started(self, info: RunInfo) -> str:
        """Record a run that starts; its id."""
        ...

    async def succeeded(self, run_id: str, outcome: BacktestOutcome) -> None:
        """Store everything a run produced, all or nothing."""
        ...

    async def failed(self, run_id: str, error: str) -> None:
        """Mark a run failed with the reason (nothing else of it is stored)."""
        ...


# -- requests and plans -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BacktestRequest:
    """One backtest to run.

    Parameters
    ----------
    strategy_id
        A stored strategy (file stem or name).
    start, end
        The range ``[start, end)`` (UTC-aware), ``start < end``.
    symbol
        Default: the strategy's only symbol (required when it lists several).
    timeframe
        Default and only allowed value: the strategy's base timeframe.
    model
        A model name; empty: ``{strategy}.{SYMBOL}_{tf}`` (the latest version).
    engine
        Account, fills, costs and sizing.
    confidence_threshold
        Overrides the strategy's ``decisions.confidence_threshold`` ([0, 1]).
    batch_size
        Bars per batch between the stages, [1, 10000].
    risk_free_rate
        Annual, [0, 1).
    walk_forward_id
        Set by a walk-forward for its windows' runs.

    Raises
    ------
    ValidationError
        ``BACKTEST-018`` listing every field out of bounds.
    """

    strategy_id: str
    start: dt.datetime
    end: dt.datetime
    symbol: str = ""
    timeframe: str = ""
    model: str = ""
    engine: EngineConfig = dataclasses.field(default_factory=EngineConfig)
    confidence_threshold: float | None = None
    batch_size: int = DEFAULT_BATCH
    risk_free_rate: float = 0.0
    walk_forward_id: str = ""

    def __post_init__(self) -> None:
        problems = Problems(code=codes.BAD_RUN_REQUEST)
        if not self.strategy_id:
            problems.add("strategy_id", "'strategy_id' is required.", code=codes.MISSING_FIELD)
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, dt.datetime) or value.tzinfo is None:
                problems.add(f"{name}_date", f"'{name}_date' is required (a date or date-time).")
        if not problems and self.start >= self.end:
            problems.add("end_date", "'end_date' must be after 'start_date'.")
        if not 1 <= self.batch_size <= MAX_BATCH:
            problems.add("batch_size", f"'batch_size' must be in [1, {MAX_BATCH}].")
        if not 0 <= self.risk_free_rate < 1:
            problems.add("risk_free_rate", "'risk_free_rate' must be in [0, 1).")
        threshold = self.confidence_threshold
        if threshold is not None and not 0 <= threshold <= 1:
            problems.add("confidence_threshold", "'confidence_threshold' must be in [0, 1].")
        problems.raise_if_any("the backtest request")


def default_model_name(strategy: Strategy, symbol: str) -> str:
    """``{strategy}.{SYMBOL}_{base timeframe}``: the latest model of the strategy there."""
    return f"{strategy.name}.{symbol}_{strategy.training_data.base_timeframe}"


def train_hint(strategy: Strategy, symbol: str) -> str:
    """How to train the model a backtest needs."""
    return (
        f"train one first: `ktrdr models train {strategy.name} --symbol {symbol}` or "
        f'POST /api/v1/models/train {{"strategy": "{strategy.name}", "symbols": ["{symbol}"]}}'
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BacktestPlan:
    """A request resolved against its strategy, model and stored data."""

    request: BacktestRequest
    strategy: ValidStrategy
    symbol: str
    timeframe: str
    model: ModelInfo
    decisions: DecisionConfig
    extent: Extent

    @property
    def info(self) -> RunInfo:
        settings = {
            **settings_summary(self.request.engine, self.decisions),
            "start_date": self.request.start.isoformat(),
            "end_date": self.request.end.isoformat(),
            "batch_size": str(self.request.batch_size),
            "risk_free_rate": str(self.request.risk_free_rate),
        }
        return RunInfo(
            strategy_id=self.request.strategy_id,
            symbol=self.symbol,
            timeframe=self.timeframe,
            model=self.model.name,
            settings=settings,
            warmup_bars=self.strategy.warmup_bars,
            walk_forward_id=self.request.walk_forward_id,
            model_metrics=dict(self.model.metrics),
            feature_names=self.model.features,
        )


async def plan_backtest(
    request: BacktestRequest,
    *,
    strategies: StrategySource,
    models: ModelCatalog,
    feed: BarFeed,
) -> BacktestPlan:
    """Check everything a run needs before it starts.

    Raises
    ------
    ValidationError
        ``BACKTEST-014`` an invalid strategy (every problem listed), ``BACKTEST-018`` a symbol
        or timeframe that is not the strategy's.
    FailedPreconditionError
        ``BACKTEST-016`` no trained model (with the command to train one), ``BACKTEST-017`` a
        model trained on other features or bars, ``BACKTEST-019`` no stored bars in the range.
    """
    valid = (await strategies.check(request.strategy_id)).require()
    strategy = valid.strategy
    symbol, timeframe = resolve_symbol(request, strategy)
    name = request.model or default_model_name(strategy, symbol)
    try:
        model = await models.describe(name)
    except NotFoundError as exc:
        raise FailedPreconditionError(
            codes.NO_MODEL,
            f"No trained model '{name}' for strategy '{strategy.name}' on {symbol} {timeframe}: "
            f"{train_hint(strategy, symbol)}.",
            field="model",
            suggestions=exc.suggestions,
        ) from exc
    _check_model(model, valid, timeframe)
    extent = await _extent(feed, request, symbol, timeframe)
    decisions = valid.decisions
    if request.confidence_threshold is not None:
        decisions = dataclasses.replace(
            decisions, confidence_threshold=request.confidence_threshold
        )
    return BacktestPlan(
        request=request,
        strategy=valid,
        symbol=symbol,
        timeframe=timeframe,
        model=model,
        decisions=decisions,
        extent=extent,
    )


def resolve_symbol(request: BacktestRequest, strategy: Strategy) -> tuple[str, str]:
    """The request's symbol (default: the strategy's only one) and the strategy's base
    timeframe; ``BACKTEST-018`` for another timeframe, or no symbol for a multi-symbol one."""
    base = strategy.training_data.base_timeframe
    if request.timeframe and parse_timeframe(request.timeframe).code != base:
        raise ValidationError(
            codes.BAD_RUN_REQUEST,
            f"Strategy '{strategy.name}' decides on {base} bars; leave 'timeframe' empty or "
            f"give {base}.",
            field="timeframe",
            suggestions=[base],
        )
    symbol = request.symbol.strip().upper()
    if not symbol:
        if len(strategy.symbols) != 1:
            raise ValidationError(
                codes.BAD_RUN_REQUEST,
                f"Strategy '{strategy.name}' trades {', '.join(strategy.symbols)}: name the "
                "'symbol' to backtest.",
                field="symbol",
                suggestions=list(strategy.symbols),
            )
        symbol = strategy.symbols[0].upper()
    return symbol, base


def _check_model(model: ModelInfo, valid: ValidStrategy, timeframe: str) -> None:
    names = tuple(f.name for f in valid.features)
    if model.timeframe != timeframe or model.features != names:
        i = next(
            (k for k, (a, b) in enumerate(zip(model.features, names, strict=False)) if a != b),
            min(len(model.features), len(names)),
        )
        had = model.features[i] if i < len(model.features) else "nothing"
        has = names[i] if i < len(names) else "nothing"
        what = (
            f"works on {model.timeframe} bars, not {timeframe}"
            if model.timeframe != timeframe
            else f"was trained on {len(model.features)} features, the strategy now has "
            f"{len(names)} (feature {i + 1}: the model has {had}, the strategy {has})"
        )
        raise FailedPreconditionError(
            codes.MODEL_MISMATCH,
            f"Model '{model.name}' {what}: retrain it.",
            field="model",
        )


async def _extent(feed: BarFeed, request: BacktestRequest, symbol: str, timeframe: str) -> Extent:
    load = f"load them first (`ktrdr data load {symbol} {timeframe}`)"
    try:
        extent = await feed.extent(symbol=symbol, timeframe=timeframe)
    except NotFoundError as exc:
        raise FailedPreconditionError(
            codes.NO_BARS, f"No {symbol} {timeframe} bars are stored: {load}.", field="symbol"
        ) from exc
    if extent.last_us < to_us(request.start) or extent.first_us >= to_us(request.end):
        raise FailedPreconditionError(
            codes.NO_BARS,
            f"No stored {symbol} {timeframe} bars in [{request.start.date()}, "
            f"{request.end.date()}); stored: {_day(extent.first_us)} to {_day(extent.last_us)}.",
            field="start_date",
        )
    return extent


def _day(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).date().isoformat()


# -- the run ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class RunProgress:
    """Where a run stands; ``stage`` is ``warming_up``, ``running``, ``saving`` or ``done``."""

    stage: str
    percent: float
    bars: int
    equity: float
    trades: int
    last_bar_us: int | None
    elapsed_seconds: float
    position_units: float = 0.0

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class RunEvent:
    """One progress report; the last carries the outcome (``outcome`` is set)."""

    run_id: str
    plan: BacktestPlan
    progress: RunProgress
    outcome: BacktestOutcome | None = None


def model_output(step: Step) -> ModelOutput:
    """Decisions from predictions: the most probable class where ready, else HOLD."""
    ready = np.asarray(step.ready, dtype=bool)
    probs = np.where(ready[:, None], step.probabilities, _HOLD_ROW)
    signals = np.where(ready, 1 - np.argmax(probs, axis=1), 0)  # BUY 0 -> 1, SELL 2 -> -1
    return ModelOutput(signals.astype(np.int8), probs)


class Simulation:
    """The engine, the buy-and-hold baseline and the decision trace, fed batch by batch (a
    walk-forward also chains its windows into one)."""

    def __init__(self, plan: BacktestPlan) -> None:
        self.plan = plan
        config = plan.request.engine
        self.engine = BacktestEngine(config, plan.decisions)
        self.baseline = BacktestEngine(
            config, DecisionConfig(confidence_threshold=0.0, short_selling=ShortSelling.NEVER)
        )
        majority = plan.model.majority_signal
        self.majority = None if majority is None else BacktestEngine(config, plan.decisions)
        self._majority_signal = majority or 0
        self.decisions: list[Decision] = []
        self.warmup_fed = 0
        self._seen = 0

    @property
    def bars(self) -> int:
        return self.engine.progress.bars

    def feed(self, bars: Bars, step: Step) -> None:
        if len(step) != len(bars) or not np.array_equal(
            step.features.timestamps_us, bars.timestamps_us
        ):
            raise FailedPreconditionError(
                codes.OUT_OF_STEP,
                f"The signal stream answered {len(step)} rows for {len(bars)} bars (or other "
                "times): the services are out of step.",
            )
        offset = self.bars
        output = model_output(step)
        self.engine.feed(bars, output)
        hold = np.zeros(len(bars), dtype=np.int8)
        if offset == 0 and len(bars):
            hold[0] = 1  # buy and hold: BUY at the first bar's close
        self.baseline.feed(bars, ModelOutput(hold))
        if self.majority is not None:  # always the same answer, with certainty
            constant = np.full(len(bars), self._majority_signal, dtype=np.int8)
            self.majority.feed(bars, ModelOutput(constant))
        acted = self.engine.acted_bars
        for bar in acted[self._seen :]:
            i = bar - offset
            buy, hold_p, sell = (float(x) for x in output.probabilities[i])  # type: ignore[index]
            self.decisions.append(
                Decision(
                    bar=bar,
                    time_us=int(bars.timestamps_us[i]),
                    signal=int(output.signals[i]),
                    probabilities=(buy, hold_p, sell),
                    features=tuple(float(x) for x in step.features.values[i]),
                )
            )
        self._seen = len(acted)

    def finish(self, calendar: TradingCalendar) -> BacktestOutcome:
        if self.bars == 0:
            raise FailedPreconditionError(
                codes.NO_BARS, "No stored bars in the requested range.", field="start_date"
            )
        result = self.engine.finish()
        baseline = self.baseline.finish()
        tf = parse_timeframe(self.plan.timeframe)
        ppy = calendar_periods_per_year(
            calendar,
            bar_seconds=tf.seconds,
            first_us=int(result.timestamps_us[0]),
            last_us=int(result.timestamps_us[-1]),
        )
        source = f"calendar {calendar.description or calendar.name}, {tf.code}"
        rf = self.plan.request.risk_free_rate
        report = compute_metrics(
            result, periods_per_year=ppy, periods_per_year_source=source, risk_free_rate=rf
        )
        hold = compute_metrics(
            baseline, periods_per_year=ppy, periods_per_year_source=source, risk_free_rate=rf
        )
        majority = None
        if self.majority is not None:
            majority = compute_metrics(
                self.majority.finish(),
                periods_per_year=ppy,
                periods_per_year_source=source,
                risk_free_rate=rf,
            )
        return BacktestOutcome(
            result=result,
            report=report,
            buy_and_hold=hold,
            decisions=tuple(self.decisions),
            warmup_bars=self.warmup_fed,
            majority_class=majority,
        )


class BacktestRunner:
    """Plans and runs backtests over the sources a composition root plugs in.

    Parameters
    ----------
    strategies, models, feed, signals
        See the module docstring.
    recorder
        Where runs are stored; ``None`` stores nothing (run ids are then empty).
    offload
        Runs the engine's CPU work (default ``asyncio.to_thread``).
    """

    def __init__(
        self,
        *,
        strategies: StrategySource,
        models: ModelCatalog,
        feed: BarFeed,
        signals: SignalSource,
        recorder: RunRecorder | None = None,
        offload: Offload = asyncio.to_thread,
    ) -> None:
        self.strategies = strategies
        self.models = models
        self.feed = feed
        self.signals = signals
        self.recorder = recorder
        self.offload = offload

    async def plan(self, request: BacktestRequest) -> BacktestPlan:
        return await plan_backtest(
            request, strategies=self.strategies, models=self.models, feed=self.feed
        )

    async def run(
        self, request: BacktestRequest, *, tap: Tap | None = None
    ) -> AsyncIterator[RunEvent]:
        """Plan, then simulate, yielding progress; the last event carries the outcome.

        ``tap`` also receives every batch's bars and decisions (a walk-forward chains its
        windows with it). Errors before the run starts are raised as they are; a run that
        fails afterwards (a service down, the caller gone) is recorded as failed with the
        reason, and the error is raised.
        """
        plan = await self.plan(request)
        run_id = await self.recorder.started(plan.info) if self.recorder else ""
        try:
            async with contextlib.aclosing(self._simulate(plan, run_id, tap)) as events:
                async for event in events:
                    yield event
        except BaseException as exc:
            await self._record_failure(run_id, exc)
            raise

    async def _record_failure(self, run_id: str, exc: BaseException) -> None:
        if self.recorder is None:
            return
        if isinstance(exc, KtrdrError):
            reason = f"[{exc.code}] {exc.full_message}"
        elif isinstance(exc, asyncio.CancelledError | GeneratorExit):
            reason = "cancelled: the caller went away before the run finished"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.shield(self.recorder.failed(run_id, reason))

    async def _simulate(
        self, plan: BacktestPlan, run_id: str, tap: Tap | None
    ) -> AsyncGenerator[RunEvent, None]:
        clock = _Clock(plan)
        sim = Simulation(plan)
        stream = await self.signals.open(
            plan.strategy.strategy, symbol=plan.symbol, model=plan.model.name
        )
        try:
            yield RunEvent(run_id, plan, clock.progress("warming_up", sim))
            sim.warmup_fed = await self._warm_up(plan, stream)
            async for _ in self._pipeline(plan, stream, sim, tap):
                if clock.due():
                    yield RunEvent(run_id, plan, clock.progress("running", sim))
            yield RunEvent(run_id, plan, clock.progress("saving", sim))
            calendar = await self.feed.calendar(symbol=plan.symbol, timeframe=plan.timeframe)
            outcome = await self.offload(sim.finish, calendar)
            if self.recorder is not None:
                await self.recorder.succeeded(run_id, outcome)
        finally:
            await stream.close()
        yield RunEvent(run_id, plan, clock.progress("done", sim, final=outcome), outcome)

    async def _warm_up(self, plan: BacktestPlan, stream: SignalStream) -> int:
        """Feed the history before the range through the stream; the bars fed."""
        count = min(plan.strategy.warmup_bars, MAX_WARMUP_BARS)
        if count <= 0:
            return 0
        history = await self.feed.history(
            symbol=plan.symbol, timeframe=plan.timeframe, before=plan.request.start, bars=count
        )
        size = plan.request.batch_size
        parts = [history.take(slice(i, i + size)) for i in range(0, len(history), size)]
        pending = 0
        for part in parts:
            await stream.send(part)
            pending += 1
            if pending >= PIPELINE_DEPTH:
                await stream.receive()
                pending -= 1
        for _ in range(pending):
            await stream.receive()
        return len(history)

    async def _pipeline(
        self, plan: BacktestPlan, stream: SignalStream, sim: Simulation, tap: Tap | None
    ) -> AsyncIterator[None]:
        """Send batches ahead, consume them in order; yields after each consumed batch."""
        pending: collections.deque[Bars] = collections.deque()
        batches = self.feed.range(
            symbol=plan.symbol,
            timeframe=plan.timeframe,
            start=plan.request.start,
            end=plan.request.end,
            batch_size=plan.request.batch_size,
        )
        async for bars in batches:
            if not len(bars):
                continue
            await stream.send(bars)
            pending.append(bars)
            if len(pending) >= PIPELINE_DEPTH:
                await self._consume(sim, pending.popleft(), await stream.receive(), tap)
                yield None
        while pending:
            await self._consume(sim, pending.popleft(), await stream.receive(), tap)
            yield None

    async def _consume(self, sim: Simulation, bars: Bars, step: Step, tap: Tap | None) -> None:
        await self.offload(sim.feed, bars, step)
        if tap is not None:
            await self.offload(tap, bars, step)


class Tap(Protocol):
    def __call__(self, bars: Bars, step: Step) -> None: ...


class _Clock:
    """Progress by time through the range (up to the last stored bar), throttled."""

    def __init__(self, plan: BacktestPlan) -> None:
        self.started = time.monotonic()
        self.last = 0.0
        bar_us = parse_timeframe(plan.timeframe).seconds * 1_000_000
        self.start_us = to_us(plan.request.start)
        self.end_us = max(
            self.start_us + 1, min(to_us(plan.request.end), plan.extent.last_us + bar_us)
        )
        self.bar_us = bar_us

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            return True
        return False

    def progress(
        self, stage: str, sim: Simulation, *, final: BacktestOutcome | None = None
    ) -> RunProgress:
        state = sim.engine.progress
        last = state.last_timestamp_us
        if final is not None:
            percent = 100.0
            equity, trades = final.result.final_equity, len(final.result.trades)
        else:
            done = 0 if last is None else last + self.bar_us - self.start_us
            percent = max(0.0, min(99.9, 100.0 * done / (self.end_us - self.start_us)))
            equity, trades = state.equity, state.trades
        return RunProgress(
            stage=stage,
            percent=percent,
            bars=state.bars,
            equity=equity,
            trades=trades,
            last_bar_us=last,
            elapsed_seconds=time.monotonic() - self.started,
            position_units=0.0 if final is not None else state.position_units,
        )


__all__ = [
    "DEFAULT_BATCH",
    "MAX_BATCH",
    "PIPELINE_DEPTH",
    "BacktestOutcome",
    "BacktestPlan",
    "BacktestRequest",
    "BacktestRunner",
    "BarFeed",
    "Decision",
    "Extent",
    "ModelCatalog",
    "ModelInfo",
    "RunEvent",
    "RunInfo",
    "RunProgress",
    "RunRecorder",
    "SignalSource",
    "SignalStream",
    "Simulation",
    "Step",
    "StrategySource",
    "default_model_name",
    "model_output",
    "plan_backtest",
    "resolve_symbol",
]
