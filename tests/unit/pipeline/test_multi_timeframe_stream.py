"""The incremental multi-timeframe indicator stream against the batch path and independent
references, on the bundled EURUSD 1h (with 4h and 1d) and GOOG 1d (with 1w and 1M)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core.bars import Bars
from ktrdr_core.calendars import get_calendar
from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import load_strategy
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_data.domain.bundled import bundled_frame
from ktrdr_fuzzy.domain.features import FeatureStream
from ktrdr_indicators.domain.calculation import StreamConfig
from ktrdr_indicators.domain.catalogue import create
from ktrdr_indicators.domain.multi_timeframe import MultiTimeframeStream, compute_on_timeframe
from ktrdr_indicators.domain.sets import IndicatorSet
from ktrdr_pipeline import StrategyStream

H1, H4, D1, W1, MN1 = (parse_timeframe(c) for c in ("1h", "4h", "1d", "1w", "1M"))
FX = get_calendar("fx_24_5")
EQUITY = get_calendar("us_equity")
SPECS = [
    {"id": "rsi_14", "indicator": "rsi", "parameters": {"period": 14}},
    {"id": "adx_14", "indicator": "adx", "parameters": {"period": 14}},
    {"id": "atr_14", "indicator": "atr", "parameters": {"period": 14}},
    {"id": "macd", "indicator": "macd", "parameters": {"fast": 12, "slow": 26, "signal": 9}},
    {"id": "bb", "indicator": "bbands", "parameters": {"period": 20, "std": 2}},
]
N = 1500  # about nine weeks of FX hours: past the daily RSI's warm-up
STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"


@cache
def eurusd() -> Bars:
    return Bars.from_frame(bundled_frame("EURUSD")[0]).take(slice(0, N))


@cache
def goog() -> Bars:
    return Bars.from_frame(bundled_frame("GOOG")[0])


def _stream(bars: Bars, sizes: list[int], **kwargs) -> ValueFrame:
    stream = MultiTimeframeStream(IndicatorSet(SPECS), **kwargs)
    parts, lo = [], 0
    for size in [*sizes, len(bars)]:
        parts.append(stream.update(bars.take(slice(lo, min(lo + size, len(bars))))))
        lo = min(lo + size, len(bars))
    return ValueFrame.concat(parts)


@cache
def eurusd_stream() -> ValueFrame:
    return _stream(eurusd(), [], base=H1, timeframes=(H1, H4, D1), calendar=FX)


def _batch(bars: Bars, base, timeframes, calendar) -> dict[str, np.ndarray]:
    indicators = IndicatorSet(SPECS)
    out: dict[str, np.ndarray] = {}
    for tf in timeframes:
        if tf is base:
            values = indicators.compute(bars)
        else:
            values = compute_on_timeframe(
                indicators, bars, base=base, timeframe=tf, calendar=calendar
            )
        out.update({f"{tf.code}_{k}": v for k, v in values.items()})
    return out


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 400), max_size=12))
def test_any_split_into_batches_gives_the_same_rows(sizes):
    split = _stream(eurusd(), sizes, base=H1, timeframes=(H1, H4, D1), calendar=FX)
    assert split.equals(eurusd_stream())


def _features(sizes: list[int]) -> ValueFrame:
    strategy = load_strategy(
        STRATEGIES / "mtf_trend_follow_1h_4h_1d.yaml",
        validator=lambda kind, params: create(kind, params).info.outputs,
    )
    config = StreamConfig.for_strategy(strategy)
    stream = StrategyStream(
        MultiTimeframeStream(
            IndicatorSet(config.indicators),
            base=config.base_timeframe,
            timeframes=config.timeframes,
            calendar=FX,
        ),
        FeatureStream(strategy),
    )
    bars, parts, lo = eurusd(), [], 0
    for size in [*sizes, N]:
        parts.append(stream.update(bars.take(slice(lo, min(lo + size, N)))))
        lo = min(lo + size, N)
    return ValueFrame.concat(parts)


@cache
def features_in_one_batch() -> ValueFrame:
    return _features([])


@settings(max_examples=10, deadline=None)
@given(sizes=st.lists(st.integers(1, 12), min_size=1, max_size=40))
def test_strategy_features_are_the_same_for_any_split_down_to_single_bars(sizes):
    # batches of up to 8 bars are fuzzified value by value, longer ones as arrays
    split = _features(sizes)
    assert split.equals(features_in_one_batch())
    assert np.isfinite(split.values[-200:]).all()


def test_stream_equals_the_batch_path_used_by_calculate_fuzzy():
    streamed = eurusd_stream().columns()
    batch = _batch(eurusd(), H1, (H1, H4, D1), FX)
    assert list(streamed) == list(batch)
    for name, expected in batch.items():
        # not ready on exactly the same bars; equal values (to TA-Lib's rounding) after
        np.testing.assert_array_equal(np.isnan(streamed[name]), np.isnan(expected), err_msg=name)
        np.testing.assert_allclose(
            streamed[name], expected, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=name
        )
    assert np.isfinite(streamed["1d_rsi_14"]).sum() > 500


def test_stream_4h_rsi_equals_pandas_resampled_talib_seen_at_the_4h_close():
    bars = eurusd()
    stamps = pd.DatetimeIndex(bars.timestamps_us.view("datetime64[us]"), tz="UTC")
    close = pd.Series(bars.close, index=stamps)
    four = close.resample("4h").last().dropna()
    rsi = pd.Series(talib.RSI(four.to_numpy(), 14), index=four.index + pd.Timedelta(hours=4))
    base_close = stamps + pd.Timedelta(hours=1)
    expected = rsi.reindex(rsi.index.union(base_close)).ffill().reindex(base_close).to_numpy()
    np.testing.assert_allclose(
        eurusd_stream().column("4h_rsi_14"), expected, rtol=1e-9, equal_nan=True
    )


def test_stream_daily_rsi_uses_fx_sessions_closing_at_17_new_york():
    bars = eurusd()
    stamps = pd.DatetimeIndex(bars.timestamps_us.view("datetime64[us]"), tz="UTC")
    local = stamps.tz_convert("America/New_York")
    session = (local + pd.Timedelta(hours=7)).normalize().tz_localize(None)  # 17:00 -> 00:00
    daily = pd.Series(bars.close, index=stamps).groupby(session).last()
    ends = (daily.index + pd.Timedelta(hours=17)).tz_localize("America/New_York").tz_convert("UTC")
    rsi = pd.Series(talib.RSI(daily.to_numpy(), 14), index=ends)
    base_close = stamps + pd.Timedelta(hours=1)
    expected = rsi.reindex(rsi.index.union(base_close)).ffill().reindex(base_close).to_numpy()
    np.testing.assert_allclose(
        eurusd_stream().column("1d_rsi_14"), expected, rtol=1e-9, equal_nan=True
    )


@settings(max_examples=15, deadline=None)
@given(t=st.integers(0, N - 1))
def test_values_at_bar_t_do_not_change_when_later_bars_are_removed(t):
    bars = eurusd().take(slice(0, t + 1))
    streamed = _stream(bars, [], base=H1, timeframes=(H1, H4, D1), calendar=FX)
    np.testing.assert_array_equal(streamed.values[t], eurusd_stream().values[t])
    batch = _batch(bars, H1, (H4, D1), FX)
    full = _batch(eurusd(), H1, (H4, D1), FX)
    for name in batch:
        np.testing.assert_array_equal(batch[name][t], full[name][t], err_msg=name)


def test_weekly_and_monthly_from_daily_equity_bars_equal_batch_and_never_look_ahead():
    bars = goog()
    streamed = _stream(bars, [97, 5, 300], base=D1, timeframes=(W1, MN1), calendar=EQUITY)
    batch = _batch(bars, D1, (W1, MN1), EQUITY)
    for name, expected in batch.items():
        np.testing.assert_allclose(
            streamed.column(name), expected, rtol=1e-9, atol=1e-12, equal_nan=True
        )
    # 2004-09-30 closes September: its monthly RSI is the one whose month just closed
    cut = int(
        np.searchsorted(bars.timestamps_us, pd.Timestamp("2004-10-01", tz="UTC").value // 1000)
    )
    prefix = _batch(bars.take(slice(0, cut)), D1, (MN1,), EQUITY)
    np.testing.assert_array_equal(prefix["1M_rsi_14"], batch["1M_rsi_14"][:cut])


def test_bars_out_of_order_or_repeated_are_rejected():
    stream = MultiTimeframeStream(IndicatorSet(SPECS[:1]), base=H1, timeframes=(H1, H4))
    bars = eurusd()
    stream.update(bars.take(slice(0, 10)))
    with pytest.raises(ValidationError) as info:
        stream.update(bars.take(slice(5, 12)))
    assert info.value.code == "COMMON-005" and info.value.field == "bars"
    assert info.value.details == {"row": "0", "rule": "not_increasing"}


@pytest.mark.parametrize(
    ("base", "timeframes", "field"),
    [(H4, (H4, H1), "config.timeframes[1]"), (None, (H4,), "config.base_timeframe")],
)
def test_a_timeframe_below_the_base_or_without_one_is_rejected(base, timeframes, field):
    with pytest.raises(ValidationError) as info:
        MultiTimeframeStream(IndicatorSet(SPECS[:1]), base=base, timeframes=timeframes)
    assert info.value.code == "IND-016" and info.value.field == field
