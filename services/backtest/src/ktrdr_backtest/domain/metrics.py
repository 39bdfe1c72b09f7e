"""Performance metrics of a backtest, net and gross of costs, each ratio with its formula.

KTRDR's convention (this module)
--------------------------------
- Returns are per bar: ``r_t = E_t / E_{t-1} - 1`` of the equity marked at each close, starting
  from the initial cash (so ``n`` bars give ``n`` returns).
- ``P``, the periods per year, is an input: the number of bars a year holds for this instrument's
  calendar and timeframe (FX 24/5 hourly about 6,200, NYSE daily 252, crypto hourly 8,766):
  :func:`calendar_periods_per_year` counts them on the core's trading calendar,
  :func:`observed_periods_per_year` from the timestamps. Never a fixed ``sqrt(252)`` on
  intraday bars.
- ``rf`` is an annual risk-free rate, ``rf_p = (1 + rf) ** (1 / P) - 1`` per bar.
- Annualised return ``(E_n / E_0) ** (P / n) - 1``; volatility ``std(r, ddof=1) * sqrt(P)``;
  Sharpe ``mean(r - rf_p) / std(r, ddof=1) * sqrt(P)``; Sortino
  ``mean(r - rf_p) / sqrt(mean(min(r - rf_p, 0) ** 2)) * sqrt(P)``; Calmar annualised return
  over maximum drawdown (both fractions).
- Drawdown ``1 - E / max(E so far)``; its duration runs from the peak to the bar that regains
  it (or the last bar), in bars and in seconds.
- Profit factor is money-based (gross wins over gross losses of the trades' P&L).
- Gross metrics use the gross equity (every cost added back) and each trade's P&L before costs.

backtesting.py's convention, which differs (daily-resampled geometric returns, 252 or 365 days,
returns-based profit factor), is reproduced by :mod:`ktrdr_backtest.domain.parity`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.engine import BacktestResult, Trade
from ktrdr_core.calendars import TradingCalendar
from ktrdr_core.errors import ValidationError

SECONDS_PER_YEAR = 365.25 * 86_400
MAX_PERIODS_PER_YEAR = 1e8  # one bar a second, all year, is 3.2e7

FORMULAS = {
    "annualized_return_pct": "((E_n / E_0) ** (P / n) - 1) * 100, n = bar returns",
    "volatility_annualized_pct": "std(r, ddof=1) * sqrt(P) * 100, r = per-bar returns",
    "sharpe_ratio": "mean(r - rf_p) / std(r, ddof=1) * sqrt(P), rf_p = (1 + rf) ** (1 / P) - 1",
    "sortino_ratio": "mean(r - rf_p) / sqrt(mean(min(r - rf_p, 0) ** 2)) * sqrt(P)",
    "calmar_ratio": "annualized_return / max_drawdown (fractions)",
    "profit_factor": "sum(trade P&L > 0) / -sum(trade P&L < 0)",
    "max_drawdown_pct": "max(1 - E / cummax(E)) * 100",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Annualised:
    """A value that depends on the annualisation, with how it was computed."""

    value: float
    formula: str
    periods_per_year: float
    risk_free_rate: float


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TradeStats:
    """Statistics of closed trades (P&L in account currency, holding in bars and seconds)."""

    total_trades: int
    winning_trades: int
    losing_trades: int
    win_rate_pct: float
    profit_factor: float
    avg_win: float
    avg_loss: float
    largest_win: float
    largest_loss: float
    avg_trade_pnl: float
    avg_trade_return_pct: float
    avg_holding_bars: float
    avg_holding_seconds: float
    avg_winning_holding_bars: float
    avg_losing_holding_bars: float
    max_holding_bars: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """Metrics on one basis: ``net`` (after every cost) or ``gross`` (before costs)."""

    basis: str
    initial_equity: float
    final_equity: float
    total_return_pct: float
    annualized_return_pct: Annualised
    volatility_annualized_pct: Annualised
    sharpe_ratio: Annualised
    sortino_ratio: Annualised
    calmar_ratio: Annualised
    max_drawdown: float
    max_drawdown_pct: float
    max_drawdown_duration_bars: int
    max_drawdown_duration_seconds: float
    exposure_pct: float
    trades: TradeStats

    def values(self) -> dict[str, float]:
        """Every metric by name (annualised ones by their value), for storage."""
        out: dict[str, float] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Annualised):
                out[f.name] = value.value
            elif isinstance(value, TradeStats):
                out.update({k: float(v) for k, v in dataclasses.asdict(value).items()})
            elif f.name != "basis":
                out[f.name] = float(value)
        return out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MetricsReport:
    """Net and gross metrics of one run, and the run's costs and annualisation inputs."""

    net: Metrics
    gross: Metrics
    commission: float
    spread_cost: float
    slippage_cost: float
    periods_per_year: float
    periods_per_year_source: str
    risk_free_rate: float
    convention: str = "ktrdr"

    @property
    def total_costs(self) -> float:
        return self.commission + self.spread_cost + self.slippage_cost

    def formulas(self) -> dict[str, str]:
        """Each formula with its inputs spelled out (``P`` and ``rf``)."""
        suffix = f" [P={self.periods_per_year:g} ({self.periods_per_year_source}), "
        suffix += f"rf={self.risk_free_rate:g}]"
        return {name: formula + suffix for name, formula in FORMULAS.items()}


def calendar_periods_per_year(
    calendar: TradingCalendar, *, bar_seconds: int, first_us: int, last_us: int
) -> float:
    """Bars a year holds on ``calendar``, averaged over the calendar years of a run.

    Intraday bars: each session split into ``bar_seconds`` bars (a partial last bar counts);
    daily bars: trading days; weekly 365.25 / 7; monthly (30 days or more) 12. E.g. FX 24/5
    hourly about 6,200, NYSE daily about 252, crypto hourly 8,766 (365.25 days of 24 bars).

    Raises
    ------
    ValidationError
        ``BACKTEST-007`` for a bar length <= 0 or a span of more than 100 years.
    """
    if bar_seconds <= 0:
        raise ValidationError(
            codes.BAD_METRIC_INPUT, f"bar_seconds must be > 0, got {bar_seconds}.", field="bar"
        )
    if bar_seconds >= 30 * 86_400:
        return 12.0
    if bar_seconds >= 7 * 86_400:
        return 365.25 / 7
    first, last = (dt.datetime.fromtimestamp(t / 1e6, dt.UTC).year for t in (first_us, last_us))
    years = last - first + 1
    if not 1 <= years <= 100:
        raise ValidationError(
            codes.BAD_METRIC_INPUT,
            f"A run spans {years} calendar years; at most 100.",
            field="timestamps",
        )
    dates, opens, closes = calendar.sessions(dt.date(first, 1, 1), dt.date(last, 12, 31))
    if bar_seconds >= 86_400:
        return len(dates) / years
    bar_us = bar_seconds * 1_000_000
    bars = -((opens - closes) // bar_us)  # ceil((close - open) / bar)
    return float(bars.sum()) / years


def observed_periods_per_year(timestamps_us: np.ndarray) -> float:
    """Bars per year as observed: ``(bars - 1)`` over the span in years (365.25 days).

    It follows the instrument's real calendar (weekends, holidays, sessions) when the span is
    long enough; prefer the calendar's figure for short runs. NaN for fewer than two bars.
    """
    ts = np.asarray(timestamps_us, dtype=np.int64)
    if len(ts) < 2 or ts[-1] <= ts[0]:
        return math.nan
    return (len(ts) - 1) * SECONDS_PER_YEAR / ((ts[-1] - ts[0]) / 1e6)


def compute_metrics(
    result: BacktestResult,
    *,
    periods_per_year: float,
    periods_per_year_source: str = "given",
    risk_free_rate: float = 0.0,
) -> MetricsReport:
    """Net and gross metrics of ``result`` in KTRDR's convention (module docstring).

    Parameters
    ----------
    periods_per_year
        Bars per year for the instrument's calendar and timeframe, in (0, 1e8].
    periods_per_year_source
        Where it came from, e.g. ``"calendar FX 24/5, 1h"`` or ``"observed"``.
    risk_free_rate
        Annual, in (-1, 1).

    Raises
    ------
    ValidationError
        ``BACKTEST-007`` for periods per year or a risk-free rate out of range.
    """
    ppy, rf = float(periods_per_year), float(risk_free_rate)
    if not (math.isfinite(ppy) and 0 < ppy <= MAX_PERIODS_PER_YEAR):
        raise ValidationError(
            codes.BAD_METRIC_INPUT,
            f"periods_per_year must be in (0, {MAX_PERIODS_PER_YEAR:g}], got {periods_per_year}.",
            field="periods_per_year",
        )
    if not (math.isfinite(rf) and -1 < rf < 1):
        raise ValidationError(
            codes.BAD_METRIC_INPUT,
            f"risk_free_rate must be an annual fraction in (-1, 1), got {risk_free_rate}.",
            field="risk_free_rate",
        )
    cols = trade_columns(result.trades)
    exposure = exposure_pct(cols, result.bars)
    run = _Run(result.timestamps_us, result.initial_cash, ppy, rf, exposure, cols)
    net = _metrics(run, "net", result.equity, cols["pnl"], cols["return_pct"])
    gross_returns = 100 * cols["gross_pnl"] / (cols["units"] * cols["entry_quote"])
    gross = _metrics(run, "gross", result.gross_equity, cols["gross_pnl"], gross_returns)
    return MetricsReport(
        net=net,
        gross=gross,
        commission=float(cols["commission"].sum()),
        spread_cost=float(cols["spread_cost"].sum()),
        slippage_cost=float(cols["slippage_cost"].sum()),
        periods_per_year=ppy,
        periods_per_year_source=periods_per_year_source,
        risk_free_rate=rf,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Run:
    ts: np.ndarray
    initial: float
    ppy: float
    rf: float
    exposure: float
    trades: dict[str, np.ndarray]


def _metrics(
    run: _Run, basis: str, equity: np.ndarray, pnl: np.ndarray, returns_pct: np.ndarray
) -> Metrics:
    ts, initial, ppy, rf = run.ts, run.initial, run.ppy, run.rf
    curve = np.concatenate([[initial], equity])
    stamps = np.concatenate([ts[:1], ts])
    risk = _risk(curve, ppy, rf)
    dd = drawdown(curve, stamps)

    def annualised(name: str, value: float) -> Annualised:
        return Annualised(value, FORMULAS[name], ppy, rf)

    max_dd = dd.max_pct / 100
    calmar = risk.annual_return / max_dd if max_dd > 0 else math.nan
    return Metrics(
        basis=basis,
        initial_equity=initial,
        final_equity=float(curve[-1]),
        total_return_pct=(float(curve[-1]) / initial - 1) * 100,
        annualized_return_pct=annualised("annualized_return_pct", risk.annual_return * 100),
        volatility_annualized_pct=annualised("volatility_annualized_pct", risk.volatility * 100),
        sharpe_ratio=annualised("sharpe_ratio", risk.sharpe),
        sortino_ratio=annualised("sortino_ratio", risk.sortino),
        calmar_ratio=annualised("calmar_ratio", calmar),
        max_drawdown=dd.max_abs,
        max_drawdown_pct=dd.max_pct,
        max_drawdown_duration_bars=dd.duration_bars,
        max_drawdown_duration_seconds=dd.duration_seconds,
        exposure_pct=run.exposure,
        trades=trade_stats(pnl, returns_pct, run.trades),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Risk:
    annual_return: float
    volatility: float
    sharpe: float
    sortino: float


def _risk(curve: np.ndarray, ppy: float, rf: float) -> _Risk:
    n = len(curve) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        r = curve[1:] / curve[:-1] - 1
    growth = curve[-1] / curve[0]
    annual = growth ** (ppy / n) - 1 if growth > 0 and n > 0 else -1.0
    if n < 2 or not np.isfinite(r).all():
        return _Risk(annual, math.nan, math.nan, math.nan)
    rf_p = (1 + rf) ** (1 / ppy) - 1
    excess = r - rf_p
    std = float(np.std(r, ddof=1))
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0) ** 2)))
    root = math.sqrt(ppy)
    sharpe = float(np.mean(excess)) / std * root if std > 0 else math.nan
    sortino = float(np.mean(excess)) / downside * root if downside > 0 else math.nan
    return _Risk(annual, std * root, sharpe, sortino)


@dataclasses.dataclass(frozen=True, slots=True)
class Drawdown:
    """The deepest drawdown (absolute and %) and the longest time under water."""

    max_abs: float
    max_pct: float
    duration_bars: int
    duration_seconds: float


def drawdown(equity: np.ndarray, timestamps_us: np.ndarray) -> Drawdown:
    """Drawdown of an equity curve; durations run from a peak to the bar that regains it."""
    peak = np.maximum.accumulate(equity)
    depth = peak - equity
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(peak > 0, depth / peak, 0.0)
    under = depth > 0
    if not under.any():
        return Drawdown(0.0, 0.0, 0, 0.0)
    edges = np.diff(np.concatenate([[0], under.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)  # first bar under water
    ends = np.flatnonzero(edges == -1)  # first bar back at the peak (may be len: never)
    ends = np.minimum(ends, len(equity) - 1)
    peaks = starts - 1
    bars = ends - peaks
    longest = int(np.argmax(bars))
    seconds = (timestamps_us[ends] - timestamps_us[peaks]) / 1e6
    return Drawdown(
        float(depth.max()), float(pct.max() * 100), int(bars[longest]), float(seconds.max())
    )


_NUMERIC_FIELDS = frozenset(
    (
        "side", "units", "entry_bar", "exit_bar", "entry_time_us", "exit_time_us",
        "entry_quote", "entry_price", "exit_quote", "exit_price", "commission", "spread_cost",
        "slippage_cost", "gross_pnl", "pnl", "return_pct",
    )
)  # fmt: skip
_INTEGER_FIELDS = frozenset(("side", "entry_bar", "exit_bar", "entry_time_us", "exit_time_us"))


def trade_columns(trades: tuple[Trade, ...]) -> dict[str, np.ndarray]:
    """The trades' numeric fields as columns (int64 for bars and times, else float64)."""
    columns = list(zip(*trades, strict=True)) if trades else [()] * len(Trade._fields)
    return {
        name: np.asarray(values, dtype=np.int64 if name in _INTEGER_FIELDS else np.float64)
        for name, values in zip(Trade._fields, columns, strict=True)
        if name in _NUMERIC_FIELDS
    }


def exposure_pct(trades: dict[str, np.ndarray], bars: int) -> float:
    """Share of bars with a position, entry bar to exit bar inclusive (as backtesting.py).

    ``trades`` holds :func:`trade_columns`.
    """
    if not bars:
        return 0.0
    marks = np.zeros(bars + 1, dtype=np.int64)
    np.add.at(marks, trades["entry_bar"], 1)
    np.add.at(marks, trades["exit_bar"] + 1, -1)
    return float((np.cumsum(marks[:-1]) > 0).mean() * 100)


def trade_stats(
    pnl: np.ndarray, returns_pct: np.ndarray, trades: dict[str, np.ndarray]
) -> TradeStats:
    """Win rate, profit factor, averages and holding periods (``trades``: trade columns)."""
    p = np.asarray(pnl, dtype=np.float64)
    held = trades["exit_bar"] - trades["entry_bar"]
    secs = (trades["exit_time_us"] - trades["entry_time_us"]) / 1e6
    wins, losses = p > 0, p < 0
    won, lost = float(p[wins].sum()), float(-p[losses].sum())
    nan = math.nan
    return TradeStats(
        total_trades=len(p),
        winning_trades=int(wins.sum()),
        losing_trades=int(losses.sum()),
        win_rate_pct=float(wins.mean() * 100) if len(p) else nan,
        profit_factor=won / lost if lost > 0 else (math.inf if won > 0 else nan),
        avg_win=_mean(p[wins]),
        avg_loss=_mean(p[losses]),
        largest_win=float(p.max()) if wins.any() else nan,
        largest_loss=float(p.min()) if losses.any() else nan,
        avg_trade_pnl=_mean(p),
        avg_trade_return_pct=_mean(np.asarray(returns_pct, dtype=np.float64)),
        avg_holding_bars=_mean(held),
        avg_holding_seconds=_mean(secs),
        avg_winning_holding_bars=_mean(held[wins]),
        avg_losing_holding_bars=_mean(held[losses]),
        max_holding_bars=int(held.max()) if len(held) else 0,
    )


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else math.nan
