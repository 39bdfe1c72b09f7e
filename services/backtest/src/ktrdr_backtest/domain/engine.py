"""The backtest engine: bars and decisions in, fills, trades and equity out.

One engine serves plain signal series and model decisions alike, fed incrementally::

    engine = BacktestEngine(EngineConfig(initial_cash=10_000), DecisionConfig())
    for bars, output in batches:            # any split, including all bars at once
        engine.feed(bars, output)           # ktrdr_core Bars, ModelOutput of the same length
        engine.progress                     # bars so far, equity, open position, trades
    result = engine.finish()                # closes the position; BacktestResult

The result does not depend on how the bars are split into batches.

Conventions
-----------
- A decision at bar ``t`` is taken at ``t``'s close. By default it fills at bar ``t + 1``'s open
  (``FillTiming.NEXT_OPEN``); ``THIS_CLOSE`` fills at ``t``'s close. A decision at the last bar
  with next-open fills is never filled (there is no next bar).
- One position at a time, long or short. Opposite signals close it (and reverse it under
  ``short_selling: reverse``: close, then open, at the same quote).
- Sizing: a fraction of the cash when flat (whole units by default, as backtesting.py; the most
  units whose fill plus commission fits, or backtesting.py's own estimate, see
  :class:`SizingConvention`) or fixed units; an order that cannot buy one unit is cancelled
  (counted as ``insufficient_cash``).
- Stops and targets are fixed at entry from the quoted entry price. Inside a bar: an open beyond
  the stop (or target) fills at the open (gap); otherwise, when both levels lie inside the bar's
  range, the stop wins (pessimistic). They are watched from the entry bar on (the rest of that
  bar for next-open fills).
- Equity is marked at every bar's close: ``balance + (close * units - units * entry_price)``
  where ``balance`` is the cash after realised profit and commissions.
- A short whose equity reaches zero or less at a close is liquidated there (``ruin``) and the
  engine stops trading; longs cannot lose more than they cost.
- At the end the position is closed at the last close (``EndOfData.LAST_CLOSE``) or at the last
  bar's open (``LAST_OPEN``, what backtesting.py's ``finalize_trades=True`` does).

Bounds
------
At most :data:`MAX_BATCH_BARS` bars per batch and :data:`MAX_TOTAL_BARS` bars per run (equity
and timestamps are kept for every bar: 16 bytes a bar).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections import Counter
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.atr import WilderAtr
from ktrdr_backtest.domain.checks import Problems
from ktrdr_backtest.domain.costs import Costs
from ktrdr_backtest.domain.decisions import (
    DecisionConfig,
    ExitRule,
    ExitUnit,
    ShortSelling,
    candidate_mask,
    transition,
)
from ktrdr_backtest.domain.inputs import ModelOutput, check_bars
from ktrdr_core.bars import Bars
from ktrdr_core.errors import FailedPreconditionError, ResourceExhaustedError

MAX_BATCH_BARS = 5_000_000
MAX_TOTAL_BARS = 20_000_000
_FIRST_SCAN = 64  # bars scanned first when looking for a stop or target; doubles after
_NO_ATR: dict[int, float] = {}


class FillTiming(enum.StrEnum):
    NEXT_OPEN = "next_open"
    THIS_CLOSE = "this_close"


class EndOfData(enum.StrEnum):
    LAST_CLOSE = "last_close"
    LAST_OPEN = "last_open"


class ExitReason(enum.StrEnum):
    SIGNAL = "signal"
    STOP = "stop"
    TARGET = "target"
    END = "end"
    RUIN = "ruin"


class SizingConvention(enum.StrEnum):
    """How :class:`FractionOfEquity` turns cash into units.

    ``exact``: the most units whose fill value plus the commission charged on the fill fits in
    the budget. ``backtesting.py``: ``budget // (fill + commission(fraction, quote) / fraction)``
    as backtesting.py 0.6 sizes (commission estimated at the quote before spread, a fixed fee
    counted per unit); it can differ from ``exact`` by a unit when both commission and spread
    are set. Use it only to compare with backtesting.py.
    """

    EXACT = "exact"
    BACKTESTING_PY = "backtesting.py"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FractionOfEquity:
    """Size each entry as ``fraction`` of the cash (the equity, since entries start flat).

    ``fraction`` in (0, 1]; backtesting.py's default is ``1 - 2**-52``. ``convention`` is a
    :class:`SizingConvention` (``backtesting.py`` needs whole units).
    """

    fraction: float = 1.0
    whole_units: bool = True
    convention: SizingConvention = SizingConvention.EXACT

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_ENGINE_CONFIG, "sizing")
        problems.check_number("fraction", self.fraction, low=0, high=1, low_open=True)
        if not isinstance(self.convention, SizingConvention):
            problems.add("convention", f"must be one of {', '.join(SizingConvention)}.")
        elif self.convention is SizingConvention.BACKTESTING_PY and not self.whole_units:
            problems.add("convention", "backtesting.py sizes in whole units only.")
        problems.raise_if_any("sizing")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FixedUnits:
    """Enter ``units`` units every time (cancelled when the cash does not cover them)."""

    units: float
    whole_units: bool = True

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_ENGINE_CONFIG, "sizing")
        if problems.check_number("units", self.units, low=0, low_open=True) and (
            self.whole_units and float(self.units) != math.floor(self.units)
        ):
            problems.add("units", f"{self.units} is not a whole number (whole_units is true).")
        problems.raise_if_any("sizing")


Sizing = FractionOfEquity | FixedUnits


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """Account, fills, costs and sizing of one backtest.

    Parameters
    ----------
    initial_cash
        Starting cash, in (0, 1e15].
    fill_timing
        ``next_open`` (default) or ``this_close``.
    costs
        Commission, spread and slippage (:class:`~ktrdr_backtest.domain.costs.Costs`).
    sizing
        :class:`FractionOfEquity` (default: all of it, whole units) or :class:`FixedUnits`.
    end_of_data
        Where the position still open at the end is closed (``last_open`` needs
        ``next_open`` fills).
    """

    initial_cash: float = 100_000.0
    fill_timing: FillTiming = FillTiming.NEXT_OPEN
    costs: Costs = dataclasses.field(default_factory=Costs)
    sizing: Sizing = dataclasses.field(default_factory=FractionOfEquity)
    end_of_data: EndOfData = EndOfData.LAST_CLOSE

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_ENGINE_CONFIG, "engine")
        problems.check_number("initial_cash", self.initial_cash, low=0, high=1e15, low_open=True)
        for name, kind in (("fill_timing", FillTiming), ("end_of_data", EndOfData)):
            if not isinstance(getattr(self, name), kind):
                problems.add(name, f"must be one of {', '.join(kind)}.")
        if self.end_of_data is EndOfData.LAST_OPEN and self.fill_timing is FillTiming.THIS_CLOSE:
            problems.add(
                "end_of_data",
                "last_open goes with next_open fills (backtesting.py's finalize_trades); a "
                "position entered at the last close cannot exit at that bar's open.",
            )
        if not isinstance(self.sizing, FractionOfEquity | FixedUnits):
            problems.add("sizing", "must be FractionOfEquity or FixedUnits.")
        if not isinstance(self.costs, Costs):
            problems.add("costs", "must be a Costs.")
        problems.raise_if_any("engine settings")


class Trade(NamedTuple):
    """One closed trade. Bars are indices from the first bar fed; times are UTC microseconds.

    ``*_quote`` is the bar price the fill was based on, ``*_price`` the fill after spread and
    slippage; ``*_signal_bar`` the bar whose close took the decision (``None`` for an exit by
    stop, target, ruin or the end). ``pnl`` is net of every cost, ``gross_pnl`` of none;
    ``return_pct`` is ``pnl`` over the entry value (backtesting.py's ``ReturnPct`` times 100).
    Immutable (a named tuple: a run may close hundreds of thousands of trades).
    """

    side: int  # +1 long, -1 short
    units: float
    entry_bar: int
    exit_bar: int
    entry_time_us: int
    exit_time_us: int
    entry_quote: float
    entry_price: float
    exit_quote: float
    exit_price: float
    exit_reason: ExitReason
    commission: float
    spread_cost: float
    slippage_cost: float
    gross_pnl: float
    pnl: float
    return_pct: float
    stop_price: float | None = None
    target_price: float | None = None
    entry_probabilities: tuple[float, float, float] | None = None
    exit_probabilities: tuple[float, float, float] | None = None
    # The bars whose close decided the entry and (for a signal exit) the exit.
    entry_signal_bar: int | None = None
    exit_signal_bar: int | None = None

    @property
    def costs(self) -> float:
        return self.commission + self.spread_cost + self.slippage_cost

    @property
    def holding_bars(self) -> int:
        return self.exit_bar - self.entry_bar


@dataclasses.dataclass(frozen=True, slots=True)
class BacktestResult:
    """Everything a run produced.

    ``equity`` is marked at each bar's close (net of costs); ``gross_equity`` adds back every
    cost paid so far (the same trades without costs). ``signals`` counts what happened to the
    signals: ``hold``, ``below_threshold``, ``redundant``, ``short_blocked``, ``too_soon``,
    ``acted``, ``insufficient_cash``, ``atr_not_ready``, ``halted``, ``unfilled_at_end``.
    """

    config: EngineConfig
    decisions: DecisionConfig
    timestamps_us: np.ndarray
    equity: np.ndarray
    gross_equity: np.ndarray
    trades: tuple[Trade, ...]
    signals: Mapping[str, int]

    @property
    def bars(self) -> int:
        return len(self.equity)

    @property
    def initial_cash(self) -> float:
        return self.config.initial_cash

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1])


@dataclasses.dataclass(frozen=True, slots=True)
class EngineProgress:
    """Where a run stands (for progress reports while streaming)."""

    bars: int
    last_timestamp_us: int | None
    equity: float
    position_units: float
    trades: int


@dataclasses.dataclass(slots=True)
class _Order:
    """A decision waiting for the next open."""

    signal_bar: int
    close: bool
    open_side: int
    probabilities: tuple[float, float, float] | None
    atr: dict[int, float]


@dataclasses.dataclass(slots=True)
class _Position:
    side: int
    units: float
    entry_bar: int
    entry_time_us: int
    entry_quote: float
    entry_price: float
    entry_commission: float
    entry_spread: float
    entry_slippage: float
    stop: float | None
    target: float | None
    probabilities: tuple[float, float, float] | None
    signal_bar: int


class _Batch:
    """One batch's arrays, indexed locally; ``offset`` is the global index of its first bar."""

    __slots__ = (
        "_max_close_from", "atr", "bars", "close", "confidence", "high", "low", "n", "offset",
        "open", "output", "probabilities", "ts",
    )  # fmt: skip

    def __init__(
        self, bars: Bars, output: ModelOutput, offset: int, atr: dict[int, np.ndarray]
    ) -> None:
        self.bars = bars
        self.output = output
        self.offset = offset
        self.n = len(bars)
        self.ts = bars.timestamps_us
        self.open = bars.open
        self.high = bars.high
        self.low = bars.low
        self.close = bars.close
        self.probabilities = output.probabilities
        self.confidence = output.confidence()
        self.atr = atr
        self._max_close_from: np.ndarray | None = None

    def max_close_from(self, i: int) -> float:
        """The highest close from local bar ``i`` to the end of the batch."""
        if self._max_close_from is None:
            self._max_close_from = np.maximum.accumulate(self.close[::-1])[::-1]
        return float(self._max_close_from[i])


class _NextCandidates:
    """For each bar, the next candidate BUY and SELL at or after it (``n`` when none)."""

    __slots__ = ("buy", "n", "prefix", "sell")

    def __init__(self, signals: np.ndarray, mask: np.ndarray) -> None:
        n = len(signals)
        self.n = n
        self.buy = self._next(mask & (signals > 0), n)
        self.sell = self._next(mask & (signals < 0), n)
        self.prefix = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(mask, out=self.prefix[1:])

    @staticmethod
    def _next(where: np.ndarray, n: int) -> np.ndarray:
        index = np.where(where, np.arange(n), n)
        return np.minimum.accumulate(index[::-1])[::-1]

    def next_buy(self, i: int) -> int:
        return int(self.buy[i])

    def next_sell(self, i: int) -> int:
        return int(self.sell[i])

    def any(self, i: int) -> int:
        return int(min(self.buy[i], self.sell[i]))

    def count(self, start: int, stop: int) -> int:
        """Candidates in local bars ``[start, stop)``."""
        stop = min(stop, self.n)
        return int(self.prefix[stop] - self.prefix[start]) if stop > start else 0


class BacktestEngine:
    """Simulates one account on one instrument, batch by batch (see the module docstring).

    Parameters
    ----------
    config
        Account, fills, costs, sizing.
    decisions
        How signals become orders.
    """

    def __init__(self, config: EngineConfig, decisions: DecisionConfig | None = None) -> None:
        self.config = config
        self.decisions = decisions if decisions is not None else DecisionConfig()
        costs = self._costs = config.costs
        self._atrs = {p: WilderAtr(p) for p in self.decisions.atr_periods}
        # Per-fill cost fractions, computed once (the hot path runs once per trade).
        self._entry_spread = costs.spread_fraction(entry=True)
        self._exit_spread = costs.spread_fraction(entry=False)
        self._slip = costs.slippage_fraction
        self._entry_frac = self._entry_spread + self._slip
        self._exit_frac = self._exit_spread + self._slip
        self._commission = costs.commission.cost
        self._balance = float(config.initial_cash)
        self._position: _Position | None = None
        self._pending: _Order | None = None
        self._last_acted: int | None = None
        self._halted = False
        self._finished = False
        self._bars = 0
        self._last_ts: int | None = None
        self._last_open = math.nan
        self._last_close = math.nan
        self._equity_parts: list[np.ndarray] = []
        self._ts_parts: list[np.ndarray] = []
        self._cost_bars: list[int] = []
        self._cost_amounts: list[float] = []
        self._trades: list[Trade] = []
        self._counts: Counter[str] = Counter()
        self._acted: list[int] = []
        # Segments of constant (balance, units, entry price) inside the current batch.
        self._seg_start: list[int] = []
        self._seg_state: list[tuple[float, float, float]] = []

    # -- public API -------------------------------------------------------------------------

    @property
    def progress(self) -> EngineProgress:
        equity = self._equity_parts[-1][-1] if self._equity_parts else self._balance
        units = self._position.units * self._position.side if self._position else 0.0
        return EngineProgress(self._bars, self._last_ts, float(equity), units, len(self._trades))

    @property
    def acted_bars(self) -> list[int]:
        """The bars (from the first fed) whose decision was acted on, in order (a growing list;
        read the new ones after each :meth:`feed`)."""
        return self._acted

    def feed(self, bars: Bars, output: ModelOutput) -> None:
        """Simulate the next batch of bars with the decisions taken at their closes.

        Raises
        ------
        ValidationError
            ``BACKTEST-003``/``BACKTEST-004`` for malformed or out-of-order input.
        FailedPreconditionError
            ``BACKTEST-005`` after :meth:`finish`.
        ResourceExhaustedError
            ``BACKTEST-006`` past the bounds.
        """
        self._check_feed(bars, output)
        n = len(bars)
        if n == 0:
            return
        atr = {p: a.update(bars.high, bars.low, bars.close) for p, a in self._atrs.items()}
        batch = _Batch(bars, output, self._bars, atr)
        self._seg_start = [0]
        self._seg_state = [self._state()]
        self._run(batch)
        self._equity_parts.append(self._mark(bars.close))
        self._ts_parts.append(bars.timestamps_us)
        self._bars += n
        self._last_ts = int(bars.timestamps_us[-1])
        self._last_open = float(bars.open[-1])
        self._last_close = float(bars.close[-1])

    def finish(self) -> BacktestResult:
        """Close the open position at the end of the data and return the result.

        Raises
        ------
        FailedPreconditionError
            ``BACKTEST-005`` when called twice or before any bar.
        """
        if self._finished:
            raise FailedPreconditionError(codes.ENGINE_STATE, "The backtest is already finished.")
        if self._bars == 0:
            raise FailedPreconditionError(
                codes.ENGINE_STATE, "The backtest was finished before any bar was fed."
            )
        self._finished = True
        if self._pending is not None:
            self._counts["unfilled_at_end"] += 1
            self._pending = None
        equity = np.concatenate(self._equity_parts)
        self._equity_parts = []
        if self._position is not None:
            last = self._bars - 1
            at_open = self.config.end_of_data is EndOfData.LAST_OPEN
            quote = self._last_open if at_open else self._last_close
            self._close(last, self._last_ts or 0, quote, ExitReason.END, None)
            equity[-1] = self._balance
        costs = np.zeros(len(equity))
        np.add.at(costs, np.asarray(self._cost_bars, dtype=np.int64), self._cost_amounts)
        return BacktestResult(
            config=self.config,
            decisions=self.decisions,
            timestamps_us=np.concatenate(self._ts_parts),
            equity=equity,
            gross_equity=equity + np.cumsum(costs),
            trades=tuple(self._trades),
            signals=dict(self._counts),
        )

    # -- the event loop -----------------------------------------------------------------------

    def _run(self, b: _Batch) -> None:
        signals = b.output.signals
        hold = signals == 0
        mask = candidate_mask(signals, b.confidence, self.decisions.confidence_threshold)
        self._counts["hold"] += int(hold.sum())
        self._counts["below_threshold"] += int(b.n - hold.sum() - mask.sum())
        nxt = _NextCandidates(signals, mask)
        i = 0
        while i < b.n and not self._halted:
            if self._pending is not None:
                self._fill_pending(b, i)
            side = self._position.side if self._position else 0
            j, skipped_as = self._next_relevant(nxt, i, side)
            if self._position is not None:
                k = self._first_exit(b, i, min(j, b.n - 1))
                if k >= 0:
                    self._counts[skipped_as] += nxt.count(i, k)
                    self._exit_inside_bar(b, k)
                    i = k  # bar k's close is decided again, now without the position
                    continue
            self._counts[skipped_as] += nxt.count(i, j)
            if j >= b.n:
                return
            self._decide(b, j, int(signals[j]))
            i = j + 1
        if self._halted:
            self._counts["halted"] += nxt.count(i, b.n)

    def _next_relevant(self, nxt: _NextCandidates, i: int, side: int) -> tuple[int, str]:
        """The next candidate that can change something, and what the ones before it are.

        With position awareness, signals that cannot change the position are skipped (and
        counted) without a Python step each; without it every candidate is decided.
        """
        if not self.decisions.position_awareness:
            return nxt.any(i), "redundant"
        if side > 0:
            return nxt.next_sell(i), "redundant"
        if side < 0:
            return nxt.next_buy(i), "redundant"
        if self.decisions.short_selling is ShortSelling.NEVER:
            return nxt.next_buy(i), "short_blocked"
        return nxt.any(i), "redundant"

    def _decide(self, b: _Batch, j: int, signal: int) -> None:
        bar = b.offset + j
        side = self._position.side if self._position else 0
        move = transition(signal, side, self.decisions.short_selling)
        if move.noop and self.decisions.position_awareness:
            self._counts[move.noop] += 1
            return
        last = self._last_acted
        if last is not None and bar - last < self.decisions.min_bars_between_signals:
            self._counts["too_soon"] += 1
            return
        self._last_acted = bar
        if move.noop:
            self._counts[move.noop] += 1
            return
        self._counts["acted"] += 1
        self._acted.append(bar)
        probs = b.probabilities
        order = _Order(
            bar,
            move.close,
            move.open_side,
            None if probs is None else tuple(probs[j].tolist()),  # type: ignore[arg-type]
            {p: float(a[j]) for p, a in b.atr.items()} if b.atr else _NO_ATR,
        )
        if self.config.fill_timing is FillTiming.THIS_CLOSE:
            self._execute(b, j, order, float(b.close[j]))
        else:
            self._pending = order

    def _fill_pending(self, b: _Batch, i: int) -> None:
        order, self._pending = self._pending, None
        assert order is not None
        self._execute(b, i, order, float(b.open[i]))

    def _execute(self, b: _Batch, i: int, order: _Order, quote: float) -> None:
        bar, ts = b.offset + i, int(b.ts[i])
        if order.close and self._position is not None:
            self._close(bar, ts, quote, ExitReason.SIGNAL, order.probabilities, order.signal_bar)
        if order.open_side:
            self._open(bar, ts, quote, order)
        self._segment(i)

    # -- positions ----------------------------------------------------------------------------

    def _open(self, bar: int, ts: int, quote: float, order: _Order) -> None:
        side = order.open_side
        stop = target = None
        decisions = self.decisions
        if decisions.stop_loss is not None or decisions.take_profit is not None:
            stop = self._level(decisions.stop_loss, quote, order, -side)
            target = self._level(decisions.take_profit, quote, order, side)
            if (decisions.stop_loss and stop is None) or (decisions.take_profit and target is None):
                self._counts["atr_not_ready"] += 1
                return
        price = quote * (1 + side * self._entry_frac)
        units = self._size(price, quote)
        if units <= 0:
            self._counts["insufficient_cash"] += 1
            return
        commission = self._commission(units, price)
        self._balance -= commission
        spread_cost, slip_cost = units * quote * self._entry_spread, units * quote * self._slip
        self._pay(bar, commission + spread_cost + slip_cost)
        self._position = _Position(
            side, units, bar, ts, quote, price, commission, spread_cost, slip_cost,
            stop, target, order.probabilities, order.signal_bar,
        )  # fmt: skip

    def _size(self, price: float, quote: float) -> float:
        sizing = self.config.sizing
        commission = self._costs.commission
        if isinstance(sizing, FixedUnits):
            units = float(sizing.units)
            cost = units * price + commission.cost(units, price)
            return units if cost <= self._balance else 0.0
        budget = self._balance * sizing.fraction
        if sizing.convention is SizingConvention.BACKTESTING_PY:
            per_unit = price + commission.cost(sizing.fraction, quote) / sizing.fraction
            return float(max(budget, 0.0) // per_unit)
        return self._costs.max_units(budget, price, whole_units=sizing.whole_units)

    def _level(
        self, rule: ExitRule | None, quote: float, order: _Order, direction: int
    ) -> float | None:
        if rule is None:
            return None
        atr = order.atr.get(rule.atr_period, math.nan) if rule.unit is ExitUnit.ATR else 0.0
        distance = rule.distance(quote, atr)
        if math.isnan(distance):
            return None
        return quote + direction * distance

    def _close(
        self,
        bar: int,
        ts: int,
        quote: float,
        reason: ExitReason,
        probabilities: tuple[float, float, float] | None,
        signal_bar: int | None = None,
    ) -> None:
        pos = self._position
        assert pos is not None
        side, units, entry = pos.side, pos.units, pos.entry_price
        price = quote * (1 - side * self._exit_frac)
        signed = side * units
        commission = self._commission(units, price)
        self._balance += signed * (price - entry) - commission
        spread_cost, slip_cost = units * quote * self._exit_spread, units * quote * self._slip
        self._pay(bar, commission + spread_cost + slip_cost)
        total_commission = commission + pos.entry_commission
        pnl = signed * (price - entry) - total_commission
        ret = side * (price / entry - 1) - total_commission / (units * entry)
        trade = Trade(  # positional, in the field order of Trade (the fastest way to build it)
            side, units, pos.entry_bar, bar, pos.entry_time_us, ts, pos.entry_quote, entry,
            quote, price, reason, total_commission, pos.entry_spread + spread_cost,
            pos.entry_slippage + slip_cost, signed * (quote - pos.entry_quote), pnl,
            ret * 100.0, pos.stop, pos.target, pos.probabilities, probabilities, pos.signal_bar,
            signal_bar,
        )  # fmt: skip
        self._trades.append(trade)
        self._position = None

    def _pay(self, bar: int, amount: float) -> None:
        if amount:
            self._cost_bars.append(bar)
            self._cost_amounts.append(amount)

    # -- stops, targets and ruin ----------------------------------------------------------------

    def _first_exit(self, b: _Batch, start: int, stop_at: int) -> int:
        """First local bar in ``[start, stop_at]`` where the position must exit, or -1."""
        pos = self._position
        assert pos is not None
        down, up = (pos.stop, pos.target) if pos.side > 0 else (pos.target, pos.stop)
        # A short is ruined once a close reaches about entry + balance / units.
        ruin = pos.entry_price + self._balance / pos.units if pos.side < 0 else None
        if ruin is not None and b.max_close_from(start) < ruin * (1 - 1e-9):
            ruin = None  # no close left in this batch comes near it
        if down is None and up is None and ruin is None:
            return -1
        lo, width = start, _FIRST_SCAN
        while lo <= stop_at:
            hi = min(stop_at + 1, lo + width)
            maybe = (
                (down is not None and b.low[lo:hi].min() <= down)
                or (up is not None and b.high[lo:hi].max() >= up)
                or (ruin is not None and b.close[lo:hi].max() >= ruin * (1 - 1e-9))
            )
            if maybe:
                hit = self._exit_mask(b, pos, lo, hi)
                if hit.any():
                    return lo + int(np.argmax(hit))
            lo, width = hi, width * 2
        return -1

    def _exit_mask(self, b: _Batch, pos: _Position, lo: int, hi: int) -> np.ndarray:
        """Exactly which bars of ``[lo, hi)`` touch the stop or target, or ruin a short."""
        hit = np.zeros(hi - lo, dtype=bool)
        down, up = (pos.stop, pos.target) if pos.side > 0 else (pos.target, pos.stop)
        if down is not None:
            hit |= b.low[lo:hi] <= down
        if up is not None:
            hit |= b.high[lo:hi] >= up
        if pos.side < 0:
            units = -pos.units
            marked = self._balance + (b.bars.close[lo:hi] * units - units * pos.entry_price)
            hit |= marked <= 0
        return hit

    def _exit_inside_bar(self, b: _Batch, k: int) -> None:
        pos = self._position
        assert pos is not None
        o, high, low = float(b.bars.open[k]), float(b.high[k]), float(b.low[k])
        s = pos.side
        stop, target = pos.stop, pos.target
        if stop is not None and s * (o - stop) <= 0:
            quote, reason = o, ExitReason.STOP  # gapped through the stop
        elif target is not None and s * (o - target) >= 0:
            quote, reason = o, ExitReason.TARGET  # gapped through the target
        elif stop is not None and (low <= stop if s > 0 else high >= stop):
            quote, reason = stop, ExitReason.STOP  # pessimistic when both are inside
        elif target is not None and (high >= target if s > 0 else low <= target):
            quote, reason = target, ExitReason.TARGET
        else:
            quote, reason = float(b.bars.close[k]), ExitReason.RUIN
            self._halted = True
        self._close(b.offset + k, int(b.bars.timestamps_us[k]), quote, reason, None)
        self._segment(k)

    # -- equity ---------------------------------------------------------------------------------

    def _state(self) -> tuple[float, float, float]:
        pos = self._position
        if pos is None:
            return (self._balance, 0.0, 0.0)
        return (self._balance, pos.side * pos.units, pos.entry_price)

    def _segment(self, i: int) -> None:
        """The account changed during local bar ``i``: bars from ``i`` on use the new state."""
        if self._seg_start[-1] == i:
            self._seg_state[-1] = self._state()
        else:
            self._seg_start.append(i)
            self._seg_state.append(self._state())

    def _mark(self, close: np.ndarray) -> np.ndarray:
        n = len(close)
        starts = np.asarray(self._seg_start, dtype=np.int64)
        lengths = np.diff(np.append(starts, n))
        state = np.asarray(self._seg_state, dtype=np.float64)
        balance, units, entry = (np.repeat(state[:, c], lengths) for c in range(3))
        return balance + (close * units - units * entry)

    def _check_feed(self, bars: Bars, output: ModelOutput) -> None:
        if self._finished:
            raise FailedPreconditionError(
                codes.ENGINE_STATE, "Bars were fed after the backtest finished."
            )
        n = len(bars)
        if n > MAX_BATCH_BARS or self._bars + n > MAX_TOTAL_BARS:
            raise ResourceExhaustedError(
                codes.TOO_MANY_BARS,
                f"At most {MAX_BATCH_BARS:,} bars per batch and {MAX_TOTAL_BARS:,} per backtest "
                f"(got {n:,} after {self._bars:,}).",
            )
        check_bars(bars, after_us=self._last_ts)
        output.check_length(n)
