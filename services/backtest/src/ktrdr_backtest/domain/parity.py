"""backtesting.py's statistics convention (0.6.x ``compute_stats``), for like-for-like comparisons.

How it differs from KTRDR's convention (:mod:`ktrdr_backtest.domain.metrics`):

======================  ==============================================  ============================
statistic               backtesting.py                                  KTRDR
======================  ==============================================  ============================
returns                 equity resampled to calendar days (last value   per bar, from the initial
                        of each UTC day with bars), then day-on-day     cash
periods per year        252 (365 when > 17 % of bars fall on weekends;  the instrument's calendar
                        52/12/1 for weekly/monthly/yearly bars)         and timeframe (an input)
annualised return       ``(1 + g) ** N - 1``, ``g`` the geometric mean  ``(E_n/E_0) ** (P/n) - 1``
                        daily return
volatility              ``sqrt((var(r) + (1+g)**2) ** N                 ``std(r) * sqrt(P)``
                        - (1+g) ** (2N))``
Sharpe                  (annual return - rf) / annual volatility        mean excess / std * sqrt(P)
Sortino                 (annual return - rf) /                          mean excess / downside
                        (sqrt(mean(min(r, 0)**2)) * sqrt(N))            deviation * sqrt(P)
CAGR                    over calendar years (days / 365.25)             (not reported)
profit factor           sum of winning / losing ``ReturnPct``           money P&L
average trade           geometric mean of ``ReturnPct``                 arithmetic mean
equity curve            the bars only                                   the initial cash first
======================  ==============================================  ============================

Fills and equity are the engine's and match backtesting.py exactly, bit for bit, when the engine
is configured as it is: next-open fills, the spread charged at entry, whole units of
``1 - 2**-52`` of the cash sized with ``SizingConvention.BACKTESTING_PY`` (it estimates the
commission at the quote before spread, and counts a fixed fee per unit), stop-and-reverse, the
last trade closed at the last open (``tests/unit/backtest/test_parity_backtesting_py.py``).
Buy & Hold, alpha and beta are not reproduced (they need the close series).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ktrdr_backtest.domain.engine import BacktestResult
from ktrdr_backtest.domain.metrics import exposure_pct, trade_columns

_DAY_US = 86_400 * 1_000_000


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BacktestingPyStats:
    """backtesting.py's ``Backtest.run()`` statistics, named with units (durations in seconds)."""

    exposure_time_pct: float
    equity_final: float
    equity_peak: float
    commissions: float
    return_pct: float
    return_ann_pct: float
    volatility_ann_pct: float
    cagr_pct: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown_pct: float
    avg_drawdown_pct: float
    max_drawdown_duration_seconds: float
    avg_drawdown_duration_seconds: float
    trades: int
    win_rate_pct: float
    best_trade_pct: float
    worst_trade_pct: float
    avg_trade_pct: float
    max_trade_duration_seconds: float
    avg_trade_duration_seconds: float
    profit_factor: float
    expectancy_pct: float
    sqn: float
    kelly_criterion: float
    annual_trading_days: float


def backtesting_py_stats(
    result: BacktestResult, *, risk_free_rate: float = 0.0
) -> BacktestingPyStats:
    """The statistics backtesting.py computes, from the engine's equity curve and trades."""
    equity = result.equity
    ts = result.timestamps_us
    rf = risk_free_rate
    dd = 1 - equity / np.maximum.accumulate(equity)
    durations, peaks = _drawdown_periods(dd, ts)
    days, day_returns = _day_returns(equity, ts)
    g = _geometric_mean(day_returns)
    ann = (1 + g) ** days - 1
    var = float(np.var(day_returns, ddof=1)) if len(day_returns) > 1 else math.nan
    vol = math.sqrt((var + (1 + g) ** 2) ** days - (1 + g) ** (2 * days))
    years = (ts[-1] - ts[0]) / 1e6 / 86_400 / 365.25
    max_dd = float(np.nan_to_num(dd.max()))
    downside = math.sqrt(float(np.mean(np.minimum(day_returns, 0) ** 2))) * math.sqrt(days)
    sortino = _divide(ann - rf, downside)
    cols = trade_columns(result.trades)
    pl = cols["pnl"]
    rets = cols["return_pct"] / 100
    spans = (cols["exit_time_us"] - cols["entry_time_us"]) / 1e6
    n = len(pl)
    win_rate = float((pl > 0).mean()) if n else math.nan
    losing = float(abs(rets[rets < 0].sum()))
    std_pl = float(np.std(pl, ddof=1)) if n > 1 else math.nan
    mean_loss = -pl[pl < 0].mean() if (pl < 0).any() else math.nan
    mean_win = pl[pl > 0].mean() if (pl > 0).any() else math.nan
    return BacktestingPyStats(
        exposure_time_pct=exposure_pct(cols, result.bars),
        equity_final=float(equity[-1]),
        equity_peak=float(equity.max()),
        commissions=float(cols["commission"].sum()),
        return_pct=(equity[-1] - equity[0]) / equity[0] * 100,
        return_ann_pct=ann * 100,
        volatility_ann_pct=vol * 100,
        cagr_pct=((equity[-1] / equity[0]) ** (1 / years) - 1) * 100 if years else math.nan,
        sharpe_ratio=(ann * 100 - rf * 100) / (vol * 100) if vol else math.nan,
        sortino_ratio=sortino,
        calmar_ratio=ann / max_dd if max_dd else math.nan,
        max_drawdown_pct=-max_dd * 100,
        avg_drawdown_pct=-float(np.mean(peaks)) * 100 if len(peaks) else math.nan,
        max_drawdown_duration_seconds=float(durations.max()) if len(durations) else math.nan,
        avg_drawdown_duration_seconds=float(durations.mean()) if len(durations) else math.nan,
        trades=n,
        win_rate_pct=win_rate * 100,
        best_trade_pct=float(rets.max()) * 100 if n else math.nan,
        worst_trade_pct=float(rets.min()) * 100 if n else math.nan,
        avg_trade_pct=_geometric_mean(rets) * 100 if n else math.nan,
        max_trade_duration_seconds=float(spans.max()) if n else math.nan,
        avg_trade_duration_seconds=float(spans.mean()) if n else math.nan,
        profit_factor=float(rets[rets > 0].sum()) / losing if losing else math.nan,
        expectancy_pct=float(rets.mean()) * 100 if n else math.nan,
        sqn=math.sqrt(n) * float(pl.mean()) / std_pl if n > 1 and std_pl else math.nan,
        kelly_criterion=win_rate - (1 - win_rate) / (mean_win / mean_loss) if n else math.nan,
        annual_trading_days=days,
    )


def _day_returns(equity: np.ndarray, ts: np.ndarray) -> tuple[float, np.ndarray]:
    """backtesting.py's periods per year, and the equity's returns between its buckets.

    Buckets are UTC calendar days, or weeks ending on Sunday, months, years for weekly,
    monthly, yearly bars (pandas ``resample("D" | "W" | "ME" | "YE").last().dropna()``).
    """
    spacing = np.median(np.diff(ts[-100:])) if len(ts) > 1 else 0
    freq_days = int(spacing // _DAY_US)
    day = ts // _DAY_US
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    have_weekends = float(np.mean(weekday >= 5)) > 2 / 7 * 0.6
    periods = {7: 52, 31: 12, 365: 1}.get(freq_days, 365 if have_weekends else 252)
    stamps = ts.astype("datetime64[us]")
    if freq_days == 7:
        bucket = (day + 3) // 7  # Monday-to-Sunday weeks
    elif freq_days in (31, 365):
        bucket = stamps.astype("datetime64[M]" if freq_days == 31 else "datetime64[Y]").astype(
            np.int64
        )
    else:
        bucket = day
    last = np.flatnonzero(np.append(bucket[1:] != bucket[:-1], True))
    values = equity[last]
    return float(periods), values[1:] / values[:-1] - 1


def _geometric_mean(returns: np.ndarray) -> float:
    grown = np.nan_to_num(returns) + 1
    if (grown <= 0).any():
        return 0.0
    return float(np.exp(np.log(grown).sum() / len(grown)) - 1) if len(grown) else math.nan


def _drawdown_periods(dd: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Duration (seconds) and depth of each drawdown, as ``compute_drawdown_duration_peaks``."""
    iloc = np.unique(np.append(np.flatnonzero(dd == 0), len(dd) - 1))
    prev, cur = iloc[:-1], iloc[1:]
    keep = cur > prev + 1
    prev, cur = prev[keep], cur[keep]
    durations = (ts[cur] - ts[prev]) / 1e6
    if not len(prev):
        return durations, np.empty(0)
    # Max over each [prev, cur]: reduceat on (start, stop) pairs, keeping the even slots.
    padded = np.append(dd, -np.inf)
    peaks = np.maximum.reduceat(padded, np.column_stack([prev, cur + 1]).ravel())[::2]
    return durations, peaks


def _divide(a: float, b: float) -> float:
    """``a / b`` with NumPy's rules for zero (inf or NaN, never an exception)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))
