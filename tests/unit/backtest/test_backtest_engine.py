"""The backtest engine: fills, costs, sizing, stops, decisions and batch-split invariance."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import talib
from bt_testutil import bars_from, flat_bars, make_bars, random_bars, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ktrdr_backtest.domain import (
    BacktestEngine,
    Costs,
    DecisionConfig,
    EndOfData,
    EngineConfig,
    ExitReason,
    ExitRule,
    ExitUnit,
    FillTiming,
    FixedPlusRateCommission,
    FixedUnits,
    FractionOfEquity,
    ModelOutput,
    PerShareCommission,
    RateCommission,
    ShortSelling,
    SpreadCharging,
    run_backtest,
)
from ktrdr_backtest.domain import engine as engine_module
from ktrdr_backtest.domain.atr import WilderAtr
from ktrdr_core.errors import (
    FailedPreconditionError,
    ResourceExhaustedError,
    ValidationError,
)

CASH = 10_000.0
REVERSE = DecisionConfig(short_selling=ShortSelling.REVERSE)


# -- fills ---------------------------------------------------------------------------------


def test_a_signal_at_a_close_fills_at_the_next_open_by_default():
    bars = bars_from([(10, 11, 9, 10), (12, 13, 11, 12), (14, 15, 13, 14), (16, 17, 15, 16)])
    result = run(bars, [1, 0, -1, 0])
    (trade,) = result.trades
    assert (trade.entry_bar, trade.entry_price) == (1, 12.0)
    assert (trade.exit_bar, trade.exit_price, trade.exit_reason) == (3, 16.0, ExitReason.SIGNAL)
    assert trade.units == 833  # floor(10000 / 12), whole units
    assert trade.pnl == pytest.approx(833 * 4)
    assert result.equity.tolist() == pytest.approx([CASH, CASH, CASH + 833 * 2, CASH + 833 * 4])


def test_this_bar_close_fills_at_the_signal_bars_close():
    bars = bars_from([(10, 11, 9, 10), (12, 13, 11, 12), (14, 15, 13, 14), (16, 17, 15, 16)])
    config = EngineConfig(initial_cash=CASH, fill_timing=FillTiming.THIS_CLOSE)
    result = run(bars, [1, 0, -1, 0], config=config)
    (trade,) = result.trades
    assert (trade.entry_bar, trade.entry_price, trade.units) == (0, 10.0, 1000)
    assert (trade.exit_bar, trade.exit_price) == (2, 14.0)
    assert result.final_equity == pytest.approx(CASH + 4000)


def test_the_open_position_is_closed_at_the_last_close_or_open():
    bars = bars_from([(10, 10, 10, 10), (10, 12, 9, 11), (12, 14, 11, 13)])
    at_close = run(bars, [1, 0, 0])
    at_open = run(
        bars, [1, 0, 0], config=EngineConfig(initial_cash=CASH, end_of_data=EndOfData.LAST_OPEN)
    )
    assert at_close.trades[0].exit_reason is ExitReason.END
    assert (at_close.trades[0].exit_bar, at_close.trades[0].exit_price) == (2, 13.0)
    assert (at_open.trades[0].exit_bar, at_open.trades[0].exit_price) == (2, 12.0)
    assert at_open.final_equity == pytest.approx(CASH + 1000 * 2)
    assert at_close.final_equity == pytest.approx(CASH + 1000 * 3)


def test_a_decision_at_the_last_bar_is_never_filled():
    result = run(flat_bars([10, 10, 10]), [0, 0, 1])
    assert result.trades == ()
    assert result.signals["unfilled_at_end"] == 1
    assert result.final_equity == CASH


# -- costs and sizing ----------------------------------------------------------------------------


def test_half_the_spread_and_the_slippage_are_paid_on_each_side():
    costs = Costs(spread_bps=20, slippage_bps=5)  # 10 bps + 5 bps per side
    result = run(
        flat_bars([100, 100, 100, 100]),
        [1, 0, -1, 0],
        config=EngineConfig(initial_cash=CASH, costs=costs, sizing=FixedUnits(units=10)),
    )
    (trade,) = result.trades
    assert trade.entry_price == pytest.approx(100 * 1.0015)
    assert trade.exit_price == pytest.approx(100 * 0.9985)
    assert trade.spread_cost == pytest.approx(2 * 10 * 100 * 0.001)
    assert trade.slippage_cost == pytest.approx(2 * 10 * 100 * 0.0005)
    assert trade.gross_pnl == 0
    assert trade.pnl == pytest.approx(-3.0)
    assert result.final_equity == pytest.approx(CASH - 3.0)


def test_backtesting_py_spread_convention_charges_it_all_at_entry():
    costs = Costs(spread_bps=20, spread_charging=SpreadCharging.FULL_AT_ENTRY)
    result = run(
        flat_bars([100, 100, 100, 100]),
        [1, 0, -1, 0],
        config=EngineConfig(initial_cash=CASH, costs=costs, sizing=FixedUnits(units=10)),
    )
    (trade,) = result.trades
    assert (trade.entry_price, trade.exit_price) == (pytest.approx(100.2), 100.0)
    assert trade.pnl == pytest.approx(-2.0)


def test_commission_is_charged_on_both_fills_and_kept_on_the_trade():
    costs = Costs(commission=FixedPlusRateCommission(fixed=1.0, rate=0.001))
    result = run(
        flat_bars([100, 100, 110, 110]),
        [1, 0, -1, 0],
        config=EngineConfig(initial_cash=CASH, costs=costs, sizing=FixedUnits(units=10)),
    )
    (trade,) = result.trades
    assert trade.commission == pytest.approx((1 + 1.0) + (1 + 1.1))
    assert trade.gross_pnl == pytest.approx(100)
    assert trade.pnl == pytest.approx(100 - 4.1)
    assert trade.return_pct == pytest.approx((100 - 4.1) / 1000 * 100)


@pytest.mark.parametrize(
    ("units", "price", "expected"),
    [(10, 100.0, 1.0), (1000, 50.0, 5.0), (10_000, 0.1, 10.0)],
    ids=["minimum", "per-share", "capped"],
)
def test_per_share_commission_has_a_minimum_and_a_cap(units, price, expected):
    ib = PerShareCommission(per_share=0.005, minimum=1.0, maximum_rate=0.01)
    assert ib.cost(units, price) == pytest.approx(expected)


COMMISSIONS = st.one_of(
    st.builds(RateCommission, st.floats(0, 0.05)),
    st.builds(FixedPlusRateCommission, st.floats(0, 50), st.floats(0, 0.05)),
    st.builds(
        PerShareCommission,
        st.floats(0, 0.05),
        st.floats(0, 5),
        st.one_of(st.none(), st.floats(0.001, 0.05)),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    commission=COMMISSIONS,
    budget=st.floats(1, 1e7),
    price=st.floats(0.01, 5_000),
    whole=st.booleans(),
)
def test_sizing_buys_the_most_units_the_cash_covers_with_commission(
    commission, budget, price, whole
):
    costs = Costs(commission=commission)
    units = costs.max_units(budget, price, whole_units=whole)
    assert units >= 0
    if units:
        assert units * price + commission.cost(units, price) <= budget * (1 + 1e-12)
    if whole:
        assert units == math.floor(units)
        more = units + 1
        assert more * price + commission.cost(more, price) > budget
    else:
        more = units * 1.001 + 1e-9
        assert more * price + commission.cost(more, price) > budget


def test_an_entry_the_cash_cannot_cover_is_cancelled_and_counted():
    result = run(
        flat_bars([100, 100, 100]),
        [1, 0, 0],
        config=EngineConfig(initial_cash=CASH, sizing=FixedUnits(units=101)),
    )
    assert result.trades == ()
    assert result.signals["insufficient_cash"] == 1


def test_fractional_units_use_the_whole_fraction_of_cash():
    config = EngineConfig(
        initial_cash=CASH, sizing=FractionOfEquity(fraction=0.5, whole_units=False)
    )
    result = run(flat_bars([30, 30, 30]), [1, 0, 0], config=config)
    assert result.trades[0].units == pytest.approx(5_000 / 30)


# -- stops and targets ---------------------------------------------------------------------------


def _with_exits(stop_pct: float | None, target_pct: float | None, **kwargs) -> DecisionConfig:
    def rule(pct):
        return None if pct is None else ExitRule(unit=ExitUnit.PERCENT, value=pct)

    return DecisionConfig(stop_loss=rule(stop_pct), take_profit=rule(target_pct), **kwargs)


def test_when_stop_and_target_are_both_inside_a_bar_the_stop_fills():
    bars = bars_from([(100, 100, 100, 100), (100, 100, 100, 100), (100, 111, 89, 100)])
    result = run(bars, [1, 0, 0], decisions=_with_exits(10, 10))
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price, trade.exit_bar) == (ExitReason.STOP, 90.0, 2)


def test_a_gap_through_the_stop_fills_at_the_open():
    bars = bars_from([(100, 100, 100, 100), (100, 101, 99, 100), (80, 85, 79, 84)])
    (trade,) = run(bars, [1, 0, 0], decisions=_with_exits(10, None)).trades
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.STOP, 80.0)


def test_a_target_inside_the_bar_fills_at_the_target():
    bars = bars_from([(100, 100, 100, 100), (100, 101, 99, 100), (101, 106, 100, 102)])
    (trade,) = run(bars, [1, 0, 0], decisions=_with_exits(10, 5)).trades
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.TARGET, 105.0)


def test_the_stop_is_watched_on_the_entry_bar_after_the_open():
    bars = bars_from([(100, 100, 100, 100), (100, 100, 85, 95), (95, 95, 95, 95)])
    (trade,) = run(bars, [1, 0, 0], decisions=_with_exits(10, None)).trades
    assert (trade.entry_bar, trade.exit_bar, trade.exit_price) == (1, 1, 90.0)


def test_a_short_stop_sits_above_the_entry():
    bars = bars_from([(100, 100, 100, 100), (100, 100, 100, 100), (104, 112, 103, 110)])
    decisions = _with_exits(10, None, short_selling=ShortSelling.FROM_FLAT)
    (trade,) = run(bars, [-1, 0, 0], decisions=decisions).trades
    assert (trade.side, trade.exit_reason, trade.exit_price) == (-1, ExitReason.STOP, 110.0)
    assert trade.pnl == pytest.approx(-trade.units * 10)


def test_a_signal_at_the_stop_bar_is_decided_after_the_stop():
    bars = bars_from([(100, 100, 100, 100), (100, 100, 100, 100), (100, 100, 85, 90)] * 1)
    bars = bars_from([*[(100, 100, 100, 100)] * 2, (100, 100, 85, 90), (91, 92, 90, 91)])
    result = run(bars, [1, 0, 1, 0], decisions=_with_exits(10, None))
    first, second = result.trades
    assert (first.exit_bar, first.exit_reason) == (2, ExitReason.STOP)
    assert (second.entry_bar, second.entry_price) == (3, 91.0)  # the BUY at bar 2 re-entered


def test_atr_stops_use_wilders_atr_at_the_signal_bar():
    bars = random_bars(200, seed=3)
    signals = np.zeros(200, dtype=np.int8)
    signals[[60, 120]] = 1
    decisions = DecisionConfig(stop_loss=ExitRule(unit=ExitUnit.ATR, value=1.5, atr_period=14))
    result = run(bars, signals, decisions=decisions)
    atr = talib.ATR(bars.high, bars.low, bars.close, timeperiod=14)
    entry = result.trades[0]
    assert entry.entry_bar == 61
    assert entry.stop_price == pytest.approx(bars.open[61] - 1.5 * atr[60], rel=1e-12)


def test_an_atr_stop_before_the_atr_is_ready_refuses_the_entry():
    decisions = DecisionConfig(stop_loss=ExitRule(unit=ExitUnit.ATR, value=2, atr_period=14))
    result = run(random_bars(30, seed=1), [1] + [0] * 29, decisions=decisions)
    assert result.trades == ()
    assert result.signals["atr_not_ready"] == 1


@pytest.mark.parametrize("split", [1, 7, 50, 500])
def test_wilder_atr_matches_talib_whatever_the_batches(split):
    bars = random_bars(500, seed=11)
    atr = WilderAtr(14)
    parts = [
        atr.update(bars.high[i : i + split], bars.low[i : i + split], bars.close[i : i + split])
        for i in range(0, 500, split)
    ]
    expected = talib.ATR(bars.high, bars.low, bars.close, timeperiod=14)
    np.testing.assert_allclose(np.concatenate(parts), expected, rtol=1e-12, equal_nan=True)


def test_a_short_whose_equity_reaches_zero_is_liquidated_and_trading_stops():
    bars = flat_bars([100, 100, 150, 210, 220, 100, 100])
    decisions = DecisionConfig(short_selling=ShortSelling.FROM_FLAT)
    result = run(bars, [-1, 0, 0, 0, 0, 1, 0], decisions=decisions)
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_bar) == (ExitReason.RUIN, 3)
    assert result.signals["halted"] == 1
    assert result.equity[3] <= 0 and (result.equity[3:] == result.equity[3]).all()


# -- decisions -----------------------------------------------------------------------------------


def test_position_awareness_ignores_a_second_buy_while_long():
    result = run(flat_bars([10] * 6), [1, 1, 1, 0, -1, 0])
    assert len(result.trades) == 1
    assert result.signals["redundant"] == 2
    assert result.signals["acted"] == 2


def test_a_sell_from_flat_is_blocked_unless_shorting_is_allowed():
    long_only = run(flat_bars([10] * 4), [-1, 0, 0, 0])
    shorting = run(
        flat_bars([10] * 4),
        [-1, 0, 0, 0],
        decisions=DecisionConfig(short_selling=ShortSelling.FROM_FLAT),
    )
    assert long_only.trades == () and long_only.signals["short_blocked"] == 1
    assert shorting.trades[0].side == -1


def test_reverse_closes_and_opens_the_other_side_at_the_same_open():
    result = run(flat_bars([10, 10, 12, 12]), [1, -1, 0, 0], decisions=REVERSE)
    long, short = result.trades
    assert (long.side, long.exit_bar, short.side, short.entry_bar) == (1, 2, -1, 2)
    assert long.exit_price == short.entry_price == 12


def test_from_flat_closes_on_an_opposite_signal_without_reversing():
    decisions = DecisionConfig(short_selling=ShortSelling.FROM_FLAT)
    result = run(flat_bars([10] * 5), [1, -1, -1, 0, 0], decisions=decisions)
    assert [(t.side, t.entry_bar, t.exit_bar) for t in result.trades] == [(1, 1, 2), (-1, 3, 4)]


def test_signals_too_soon_after_an_acted_one_are_skipped():
    decisions = DecisionConfig(min_bars_between_signals=3, short_selling=ShortSelling.REVERSE)
    result = run(flat_bars([10] * 8), [1, -1, 0, -1, 0, 0, 0, 0], decisions=decisions)
    assert result.signals["too_soon"] == 1
    assert [(t.side, t.entry_bar) for t in result.trades] == [(1, 1), (-1, 4)]


def test_without_position_awareness_a_redundant_signal_restarts_the_separation():
    decisions = DecisionConfig(min_bars_between_signals=3, position_awareness=False)
    aware = run(flat_bars([10] * 8), [1, 0, 1, -1, 0, 0, 0, 0], decisions=DecisionConfig(
        min_bars_between_signals=3))  # fmt: skip
    unaware = run(flat_bars([10] * 8), [1, 0, 0, 1, 0, -1, 0, 0], decisions=decisions)
    assert aware.trades[0].exit_bar == 4  # the BUY at 2 was ignored; SELL at 3 acts
    assert unaware.trades[0].exit_bar == 7  # BUY at 3 reset the clock; SELL at 5 is too soon
    assert unaware.signals["too_soon"] == 1


def test_low_confidence_signals_are_holds_and_trades_keep_the_probabilities():
    probs = np.array(
        [[0.55, 0.25, 0.2], [0.7, 0.2, 0.1], [0.2, 0.2, 0.6], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]]
    )
    output = ModelOutput.from_probabilities(probs)
    assert output.signals.tolist() == [1, 1, -1, -1, 0]
    result = run_backtest(
        flat_bars([10] * 5),
        output,
        config=EngineConfig(initial_cash=CASH),
        decisions=DecisionConfig(confidence_threshold=0.65),
    )
    (trade,) = result.trades
    assert (trade.entry_bar, trade.exit_bar) == (2, 4)
    assert trade.entry_probabilities == (0.7, 0.2, 0.1)
    assert trade.exit_probabilities == (0.1, 0.1, 0.8)
    assert result.signals["below_threshold"] == 2


# -- accounting ----------------------------------------------------------------------------------


def test_gross_equity_adds_back_every_cost_paid():
    bars = random_bars(400, seed=5)
    signals = np.random.default_rng(5).choice([-1, 0, 0, 0, 1], 400)
    costs = Costs(commission=RateCommission(0.001), spread_bps=4, slippage_bps=2)
    result = run(
        bars, signals, config=EngineConfig(initial_cash=CASH, costs=costs), decisions=REVERSE
    )
    paid = sum(t.costs for t in result.trades)
    assert paid > 0
    assert result.gross_equity[-1] - result.equity[-1] == pytest.approx(paid)
    for t in result.trades:
        assert t.gross_pnl - t.costs == pytest.approx(t.pnl, abs=1e-6)


# -- batch-split invariance ----------------------------------------------------------------------

DECISIONS = st.builds(
    DecisionConfig,
    confidence_threshold=st.sampled_from([0.0, 0.4, 0.6]),
    min_bars_between_signals=st.integers(0, 4),
    position_awareness=st.booleans(),
    short_selling=st.sampled_from(list(ShortSelling)),
    stop_loss=st.one_of(
        st.none(),
        st.builds(ExitRule, unit=st.just(ExitUnit.PERCENT), value=st.floats(0.5, 5)),
        st.builds(
            ExitRule,
            unit=st.just(ExitUnit.ATR),
            value=st.floats(0.5, 3),
            atr_period=st.integers(1, 10),
        ),
    ),
    take_profit=st.one_of(
        st.none(), st.builds(ExitRule, unit=st.just(ExitUnit.PERCENT), value=st.floats(0.5, 5))
    ),
)
CONFIGS = st.builds(
    EngineConfig,
    initial_cash=st.just(CASH),
    fill_timing=st.just(FillTiming.NEXT_OPEN),
    costs=st.builds(
        Costs,
        commission=COMMISSIONS,
        spread_bps=st.sampled_from([0.0, 3.0]),
        slippage_bps=st.sampled_from([0.0, 1.5]),
        spread_charging=st.sampled_from(list(SpreadCharging)),
    ),
    sizing=st.one_of(
        st.builds(FractionOfEquity, fraction=st.floats(0.1, 1), whole_units=st.booleans()),
        st.builds(FixedUnits, units=st.integers(1, 200)),
    ),
    end_of_data=st.sampled_from(list(EndOfData)),
) | st.builds(
    EngineConfig,
    initial_cash=st.just(CASH),
    fill_timing=st.just(FillTiming.THIS_CLOSE),
    costs=st.builds(Costs, commission=COMMISSIONS, spread_bps=st.sampled_from([0.0, 3.0])),
    sizing=st.builds(FractionOfEquity, fraction=st.floats(0.1, 1), whole_units=st.booleans()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 250),
    seed=st.integers(0, 10_000),
    with_probs=st.booleans(),
    config=CONFIGS,
    decisions=DECISIONS,
    cuts=st.lists(st.integers(1, 249), max_size=8),
)
def test_any_split_into_batches_gives_the_same_backtest(
    n, seed, with_probs, config, decisions, cuts
):
    bars = random_bars(n, seed, vol=0.05)
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet([1, 1, 1], n) if with_probs else None
    output = (
        ModelOutput.from_probabilities(probs)
        if probs is not None
        else ModelOutput(rng.choice([-1, 0, 0, 1], n))
    )
    whole = run_backtest(bars, output, config=config, decisions=decisions)

    engine = BacktestEngine(config, decisions)
    edges = [0, *sorted({c for c in cuts if c < n}), n]
    for a, b in itertools.pairwise(edges):
        engine.feed(bars.take(slice(a, b)), output.slice(a, b))
    split = engine.finish()

    assert np.array_equal(whole.equity, split.equity)
    assert np.array_equal(whole.gross_equity, split.gross_equity)
    assert whole.trades == split.trades
    assert whole.signals == split.signals
    assert split.timestamps_us.tolist() == bars.timestamps_us.tolist()


# -- misuse --------------------------------------------------------------------------------------


def test_feeding_after_finish_or_finishing_twice_is_refused():
    engine = BacktestEngine(EngineConfig(initial_cash=CASH))
    with pytest.raises(FailedPreconditionError, match="before any bar"):
        engine.finish()
    engine.feed(flat_bars([10, 10]), ModelOutput(np.zeros(2)))
    engine.finish()
    with pytest.raises(FailedPreconditionError) as info:
        engine.feed(flat_bars([10]), ModelOutput(np.zeros(1)))
    assert info.value.code == "BACKTEST-005"
    with pytest.raises(FailedPreconditionError):
        engine.finish()


def test_a_batch_must_follow_the_previous_one_in_time():
    engine = BacktestEngine(EngineConfig(initial_cash=CASH))
    engine.feed(flat_bars([10, 10]), ModelOutput(np.zeros(2)))
    with pytest.raises(ValidationError) as info:
        engine.feed(flat_bars([10, 10]), ModelOutput(np.zeros(2)))
    assert info.value.code == "BACKTEST-003"


def _bars(ts, o, h, lo, c):
    return make_bars(np.asarray(ts), np.asarray(o), np.asarray(h), np.asarray(lo), np.asarray(c))


@pytest.mark.parametrize(
    ("bars", "field"),
    [
        (_bars([2, 1], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]), "timestamps_us"),
        (_bars([1], [1.0], [0.5], [0.9], [1.0]), "high"),
        (_bars([1], [float("nan")], [1.0], [1.0], [1.0]), "open"),
        (_bars([1], [1.0], [1.0], [0.0], [1.0]), "low"),
    ],
    ids=["times-not-increasing", "high-below-low", "nan-open", "zero-low"],
)
def test_bars_that_cannot_be_simulated_are_refused(bars, field):
    engine = BacktestEngine(EngineConfig(initial_cash=CASH))
    with pytest.raises(ValidationError) as info:
        engine.feed(bars, ModelOutput(np.zeros(len(bars))))
    assert (info.value.code, info.value.field) == ("BACKTEST-003", field)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ModelOutput(np.array([2, 0])),
        lambda: ModelOutput(np.zeros(2), np.ones((2, 3))),
        lambda: ModelOutput(np.zeros(2), np.full((2, 3), 1.5)),
        lambda: ModelOutput.from_probabilities(np.ones(3)),
    ],
    ids=["bad-signal", "rows-not-summing-to-one", "out-of-range", "wrong-shape"],
)
def test_malformed_model_output_is_refused(build):
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.code == "BACKTEST-004"


def test_one_decision_per_bar_is_required():
    engine = BacktestEngine(EngineConfig(initial_cash=CASH))
    with pytest.raises(ValidationError, match="2 decisions for 3 bars"):
        engine.feed(flat_bars([10, 10, 10]), ModelOutput(np.zeros(2)))


def test_the_bar_bounds_are_enforced(monkeypatch):
    monkeypatch.setattr(engine_module, "MAX_TOTAL_BARS", 5)
    engine = BacktestEngine(EngineConfig(initial_cash=CASH))
    engine.feed(flat_bars([10] * 4), ModelOutput(np.zeros(4)))
    with pytest.raises(ResourceExhaustedError) as info:
        engine.feed(flat_bars([10] * 6).take(slice(4, 6)), ModelOutput(np.zeros(2)))
    assert info.value.code == "BACKTEST-006"


def test_engine_settings_report_every_problem():
    from ktrdr_backtest.domain import ConfigProblems

    with pytest.raises(ConfigProblems) as info:
        Costs(spread_bps=-1, slippage_bps=20_000)
    assert {p.field for p in info.value.problems} == {"costs.spread_bps", "costs.slippage_bps"}
    assert info.value.code == "BACKTEST-002"
    with pytest.raises(ConfigProblems):
        EngineConfig(initial_cash=0)
    with pytest.raises(ConfigProblems, match="last_open goes with next_open"):
        EngineConfig(fill_timing=FillTiming.THIS_CLOSE, end_of_data=EndOfData.LAST_OPEN)
    with pytest.raises(ConfigProblems):
        FixedUnits(units=1.5)
