"""Metrics: hand-computed references, annualisation by the real bar frequency, gross vs net."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from bt_testutil import HOUR_US, T0_US, flat_bars, random_bars, run

from ktrdr_backtest.domain import (
    BacktestResult,
    Costs,
    DecisionConfig,
    EngineConfig,
    RateCommission,
    ShortSelling,
    calendar_periods_per_year,
    compute_metrics,
    observed_periods_per_year,
)
from ktrdr_backtest.domain.metrics import drawdown
from ktrdr_core.calendars import get_calendar
from ktrdr_core.errors import ValidationError

CASH = 10_000.0


def _long_then_flat() -> BacktestResult:
    # BUY at bar 0 fills at bar 1's open (10): 1000 units; SELL at bar 3 fills at bar 4 (12).
    return run(flat_bars([10, 10, 11, 9, 12, 12]), [1, 0, 0, -1, 0, 0])


def test_risk_ratios_match_a_hand_computation():
    result = _long_then_flat()
    equity = [CASH, CASH, CASH, 11_000, 9_000, 12_000, 12_000]  # initial cash first
    r = [b / a - 1 for a, b in itertools.pairwise(equity)]
    ppy, rf = 8_760.0, 0.03
    rf_p = (1 + rf) ** (1 / ppy) - 1
    excess = [x - rf_p for x in r]
    sharpe = statistics.mean(excess) / statistics.stdev(r) * math.sqrt(ppy)
    downside = math.sqrt(sum(min(x, 0) ** 2 for x in excess) / len(excess))
    sortino = statistics.mean(excess) / downside * math.sqrt(ppy)
    annual = (12_000 / CASH) ** (ppy / len(r)) - 1

    report = compute_metrics(result, periods_per_year=ppy, risk_free_rate=rf)
    net = report.net
    assert net.total_return_pct == pytest.approx(20.0)
    assert net.sharpe_ratio.value == pytest.approx(sharpe, rel=1e-12)
    assert net.sortino_ratio.value == pytest.approx(sortino, rel=1e-12)
    assert net.annualized_return_pct.value == pytest.approx(annual * 100, rel=1e-9)
    assert net.volatility_annualized_pct.value == pytest.approx(
        statistics.stdev(r) * math.sqrt(ppy) * 100, rel=1e-12
    )
    assert net.max_drawdown == pytest.approx(2_000)
    assert net.max_drawdown_pct == pytest.approx(2_000 / 11_000 * 100)
    assert net.calmar_ratio.value == pytest.approx(annual / (2_000 / 11_000), rel=1e-9)
    assert net.sharpe_ratio.periods_per_year == ppy and net.sharpe_ratio.risk_free_rate == rf
    assert "sqrt(P)" in net.sharpe_ratio.formula


def test_the_same_returns_on_four_times_the_bars_per_year_double_the_sharpe():
    result = run(random_bars(300, seed=4), np.random.default_rng(4).choice([-1, 0, 0, 1], 300))
    daily = compute_metrics(result, periods_per_year=252).net.sharpe_ratio.value
    quad = compute_metrics(result, periods_per_year=1008).net.sharpe_ratio.value
    assert quad == pytest.approx(2 * daily, rel=1e-12)


def test_drawdown_duration_runs_from_the_peak_to_its_recovery_or_the_end():
    equity = np.array([100, 120, 90, 100, 121, 130, 125, 110], dtype=float)
    ts = T0_US + np.arange(8) * HOUR_US
    dd = drawdown(equity, ts)
    assert dd.max_pct == pytest.approx(25.0)  # 120 -> 90
    assert dd.max_abs == pytest.approx(30.0)
    assert dd.duration_bars == 3  # peak at bar 1, regained at bar 4
    assert dd.duration_seconds == 3 * 3_600
    unrecovered = drawdown(np.array([100, 90, 95, 99.0]), ts[:4])
    assert (unrecovered.duration_bars, unrecovered.max_pct) == (3, pytest.approx(10.0))


def test_trade_statistics_of_hand_made_trades():
    # Long 1000 @10 -> 12 (+2000), then long 1200 @10 -> 9 (-1200), then flat.
    bars = flat_bars([10, 10, 12, 12, 10, 9, 9])
    result = run(bars, [1, 0, -1, 1, 0, -1, 0])
    stats = compute_metrics(result, periods_per_year=252).net.trades
    assert (stats.total_trades, stats.winning_trades, stats.losing_trades) == (2, 1, 1)
    assert stats.win_rate_pct == 50
    assert stats.profit_factor == pytest.approx(2_000 / 1_200)
    assert (stats.largest_win, stats.largest_loss) == (pytest.approx(2_000), pytest.approx(-1_200))
    assert stats.avg_trade_pnl == pytest.approx(400)
    assert stats.avg_holding_bars == 2 and stats.max_holding_bars == 2
    assert stats.avg_holding_seconds == 2 * 3_600


def test_gross_metrics_add_the_costs_back():
    costs = Costs(commission=RateCommission(0.001), spread_bps=10)
    result = run(
        random_bars(500, seed=9),
        np.random.default_rng(9).choice([-1, 0, 0, 0, 1], 500),
        config=EngineConfig(initial_cash=CASH, costs=costs),
        decisions=DecisionConfig(short_selling=ShortSelling.REVERSE),
    )
    report = compute_metrics(result, periods_per_year=6_240)
    assert report.total_costs > 0
    assert report.gross.final_equity - report.net.final_equity == pytest.approx(report.total_costs)
    assert report.gross.trades.avg_trade_pnl > report.net.trades.avg_trade_pnl
    assert report.gross.total_return_pct > report.net.total_return_pct


def test_exposure_counts_bars_from_entry_to_exit_inclusive():
    report = compute_metrics(_long_then_flat(), periods_per_year=252)
    assert report.net.exposure_pct == pytest.approx(4 / 6 * 100)  # bars 1..4 of 6


def test_a_run_without_trades_has_no_ratios_rather_than_zero():
    report = compute_metrics(run(flat_bars([10] * 5), [0] * 5), periods_per_year=252)
    assert math.isnan(report.net.sharpe_ratio.value)
    assert report.net.trades.total_trades == 0 and math.isnan(report.net.trades.win_rate_pct)
    assert report.net.max_drawdown_pct == 0


def test_observed_periods_per_year_follow_the_calendar():
    hourly_24_7 = T0_US + np.arange(24 * 365) * HOUR_US
    assert observed_periods_per_year(hourly_24_7) == pytest.approx(8_766, rel=1e-3)
    weekdays = np.array(
        [d for d in range(0, 3 * 365) if (d + 3) % 7 < 5], dtype=np.int64
    )  # 1970-01-01 is a Thursday
    assert observed_periods_per_year(weekdays * 86_400 * 1_000_000) == pytest.approx(261, rel=2e-2)


YEAR_2018_US = (1_514_764_800_000_000, 1_546_214_400_000_000)  # 2018-01-01, 2018-12-31


@pytest.mark.parametrize(
    ("calendar", "bar_seconds", "low", "high"),
    [
        ("fx_24_5", 3_600, 6_150, 6_260),  # 24 bars x ~258 weekdays (less the FX holidays)
        ("us_equity", 86_400, 250, 253),  # trading days
        ("us_equity", 3_600, 1_740, 1_770),  # 7 bars a session (the last one half an hour)
        ("crypto_24_7", 3_600, 8_760, 8_760),
        ("us_equity", 7 * 86_400, 52.1, 52.2),
    ],
)
def test_periods_per_year_come_from_the_calendar_and_the_bar_length(
    calendar, bar_seconds, low, high
):
    ppy = calendar_periods_per_year(
        get_calendar(calendar),
        bar_seconds=bar_seconds,
        first_us=YEAR_2018_US[0],
        last_us=YEAR_2018_US[1],
    )
    assert low <= ppy <= high


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"periods_per_year": 0}, "periods_per_year"),
        ({"periods_per_year": float("nan")}, "periods_per_year"),
        ({"periods_per_year": 252, "risk_free_rate": 1.5}, "risk_free_rate"),
    ],
)
def test_bad_annualisation_inputs_are_refused(kwargs, field):
    with pytest.raises(ValidationError) as info:
        compute_metrics(_long_then_flat(), **kwargs)
    assert (info.value.code, info.value.field) == ("BACKTEST-007", field)


def test_every_formula_names_its_periods_per_year_and_risk_free_rate():
    report = compute_metrics(
        _long_then_flat(), periods_per_year=6_240, periods_per_year_source="FX 24/5, 1h"
    )
    formulas = report.formulas()
    assert set(formulas) >= {"sharpe_ratio", "sortino_ratio", "calmar_ratio"}
    assert all("P=6240 (FX 24/5, 1h)" in f and "rf=0" in f for f in formulas.values())


def test_metric_values_flatten_for_storage():
    values = compute_metrics(_long_then_flat(), periods_per_year=252).net.values()
    assert values["total_return_pct"] == pytest.approx(20.0)
    assert values["total_trades"] == 1.0
    assert "sharpe_ratio" in values and "basis" not in values
