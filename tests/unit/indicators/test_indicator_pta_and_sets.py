"""pandas-ta-classic breadth and indicator sets."""

from __future__ import annotations

import numpy as np
import pytest
from indicator_testutil import head, replace, rows

from ktrdr_core.errors import NotFoundError, ValidationError
from ktrdr_indicators.domain.catalogue import create, list_indicators
from ktrdr_indicators.domain.pta import definitions
from ktrdr_indicators.domain.sets import IndicatorSet

PTA = definitions()


def test_pandas_ta_breadth_is_exposed_with_metadata():
    assert len(PTA) >= 100
    names = {d.info.name for d in PTA}
    assert {"dema", "tema", "kama", "natr", "trix", "vortex"} <= names
    assert "sma" not in names and "rvi_volatility" in names  # native wins, clashes renamed
    for d in PTA:
        assert d.info.engine == "pandas-ta-classic" and d.info.streaming == "window-recompute"
        assert d.info.lookback() >= 100
    assert len(list_indicators(engine="pandas-ta-classic")) == len(PTA)


def test_every_exposed_pandas_ta_indicator_runs_on_real_data(goog):
    bars = head(goog, 400)
    for d in PTA:
        ind = create(d.info.name)
        out = ind.compute(bars)
        assert list(out) == list(ind.columns)
        assert all(a.shape == (400,) for a in out.values()), d.info.name
        assert any(np.isfinite(a).any() for a in out.values()), d.info.name


SAMPLE = [d.info.name for d in PTA if d.window_exact][::12]


@pytest.mark.parametrize("name", SAMPLE)
def test_window_recompute_stream_equals_batch(name, eurusd):
    ind = create(name)
    n = ind.info.lookback(ind.params) + 40
    bars = head(eurusd, n)
    batch = ind.compute(bars)
    s = ind.stream()
    streamed = [s.update(*r) for r in rows(bars)]
    for j, col in enumerate(ind.columns):
        got = np.array([r[j] for r in streamed])
        ref = batch[col]
        ready = ~np.isnan(got)
        # before the stream is initialized its outputs are NaN; afterwards they equal batch
        np.testing.assert_allclose(got[-40:], ref[-40:], rtol=1e-9, atol=1e-12, err_msg=col)
        assert ready[-1], col


def test_pandas_ta_parameters_are_validated():
    with pytest.raises(ValidationError) as exc:
        create("dema", {"length": 0})
    assert exc.value.field == "parameters.length"
    assert create("dema", {"length": 10.0}).name == "dema_10"


def test_set_builds_ordered_columns_and_matches_members(goog):
    specs = [
        {"id": "fast", "indicator": "ema", "parameters": {"period": 5}},
        {"indicator": "macd"},
        {"indicator": "rsi", "parameters": {"period": 7}},
        {"indicator": "dema"},
    ]
    iset = IndicatorSet(specs)
    assert iset.ids == ["fast", "macd_12_26_9", "rsi_7", "dema_10"]
    assert iset.columns == [
        "fast",
        "macd_12_26_9.line",
        "macd_12_26_9.signal",
        "macd_12_26_9.histogram",
        "rsi_7",
        "dema_10",
    ]
    out = iset.compute(goog)
    assert list(out) == iset.columns
    np.testing.assert_array_equal(out["rsi_7"], create("rsi", {"period": 7}).compute(goog)["rsi_7"])
    native = IndicatorSet(specs[:3])
    streamed = native.stream().update_bars(goog)
    batch = native.compute(goog)
    for col in native.columns:
        np.testing.assert_allclose(streamed[col], batch[col], rtol=1e-9, equal_nan=True)


def test_set_rejects_duplicates_and_bad_specs():
    with pytest.raises(ValidationError) as exc:
        IndicatorSet([{"indicator": "rsi"}, {"indicator": "rsi", "parameters": {"period": 14}}])
    assert exc.value.code == "IND-008" and exc.value.field == "indicators[1].id"
    with pytest.raises(ValidationError) as exc:
        IndicatorSet([{"indicator": "rsi", "parameters": {"period": 0}}])
    assert exc.value.field == "indicators[0].parameters.period"
    with pytest.raises(NotFoundError) as exc:
        IndicatorSet([{"indicator": "rsii"}])
    assert exc.value.field == "indicators[0].indicator" and "rsi" in exc.value.suggestions
    with pytest.raises(ValidationError) as exc:
        IndicatorSet([{"parameters": {}}])
    assert exc.value.code == "IND-009"


def test_set_with_invalid_bars_equals_each_member_alone(goog):
    # IndicatorSet.compute checks NaN/inf once per column and shares the valid-row subsets
    # between members reading the same inputs; the result must equal each member alone.
    n = len(goog)
    close, high, volume = goog.close.copy(), goog.high.copy(), goog.volume.copy()
    close[n // 3] = np.nan
    high[n // 2] = np.inf
    volume[n // 4] = -np.inf
    dirty = replace(goog, close=close, high=high, volume=volume)
    specs = [
        {"indicator": "sma"},
        {"indicator": "rsi"},
        {"indicator": "atr"},
        {"indicator": "stochastic"},
        {"indicator": "obv"},
        {"indicator": "ad"},
        {"indicator": "donchian_channels"},
        {"indicator": "cci", "id": "cci_a"},
        {"indicator": "cci", "id": "cci_b", "parameters": {"period": 10}},
        {"indicator": "dema"},
    ]
    iset = IndicatorSet(specs)
    for bars in (dirty, goog):
        out = iset.compute(bars)
        assert list(out) == iset.columns
        for ident, ind in zip(iset.ids, iset.indicators, strict=True):
            alone = ind.compute(bars)
            for col, key in zip(ind.info.columns(ident), alone, strict=True):
                np.testing.assert_array_equal(out[col], alone[key], err_msg=col)
    out = iset.compute(dirty)
    assert np.isnan(out["sma_20"][n // 3]) and np.isnan(out["atr_14"][n // 2])
    assert np.isnan(out["obv"][n // 4]) and not np.isnan(out["sma_20"][n // 2])


def test_set_stream_equals_each_member_streamed_alone(goog):
    specs = [
        {"indicator": "rsi"},
        {"indicator": "macd"},
        {"indicator": "bbands", "parameters": {"source": "hl2"}},
        {"indicator": "zigzag"},
    ]
    iset = IndicatorSet(specs)
    bars = head(goog, 300)
    together = iset.stream().update_bars(bars)
    for ident, ind in zip(iset.ids, iset.indicators, strict=True):
        alone = ind.stream()
        got = np.array([alone.update(*r) for r in rows(bars)])
        for j, col in enumerate(ind.info.columns(ident)):
            np.testing.assert_array_equal(together[col], got[:, j], err_msg=col)


def test_set_and_indicators_refuse_anything_but_core_bars(goog):
    iset = IndicatorSet([{"indicator": "rsi"}])
    as_dict = {"close": goog.close}
    for call in (iset.compute, iset.stream().update_bars, create("rsi").compute):
        with pytest.raises(ValidationError) as exc:
            call(as_dict)
        assert exc.value.code == "IND-007" and exc.value.field == "bars"


def _macd(fast: int) -> dict:
    return {"id": f"macd{fast}", "indicator": "macd", "parameters": {"fast": fast}}


SET_LAYOUTS = {
    "mixed": [
        {"indicator": "rsi"},
        {"indicator": "macd"},
        {"indicator": "adx"},
        {"indicator": "bbands"},
        {"indicator": "sma", "parameters": {"source": "hl2"}},
        {"indicator": "obv"},
    ],
    # more handles of one argument shape than one fast-path call takes (chunks of four, the last
    # padded), tuple-answering handles four at a time and alone, every argument shape
    "chunked": [
        {"indicator": "sma"},
        {"indicator": "ema"},
        _macd(5),
        {"indicator": "wma"},
        {"indicator": "rsi"},
        _macd(6),
        {"indicator": "roc"},
        _macd(7),
        {"indicator": "momentum"},
        _macd(8),
        _macd(9),
        {"indicator": "stochastic"},
        {"indicator": "atr"},
        {"indicator": "psar"},
        {"indicator": "mfi"},
        {"indicator": "obv"},
        {"indicator": "keltner_channels"},
    ],
    "single": [{"indicator": "rsi"}],
}


@pytest.mark.parametrize("layout", list(SET_LAYOUTS))
def test_set_update_bar_by_bar_equals_each_member_alone_through_gaps_and_reset(goog, layout):
    # the per-bar fast path (TA-Lib handles called directly once warmed up) must match each
    # member streamed alone, on bars with invalid values and after a reset
    iset = IndicatorSet(SET_LAYOUTS[layout])
    bars = head(goog, 200)
    close, volume = bars.close.copy(), bars.volume.copy()
    close[[3, 120]] = np.nan
    volume[150] = np.inf
    bars = replace(bars, close=close, volume=volume)
    stream = iset.stream()
    for _ in range(2):
        together = np.array([stream.update(*r) for r in rows(bars)])
        col = 0
        for ind in iset.indicators:
            alone = ind.stream()
            got = np.array([alone.update(*r) for r in rows(bars)])
            width = len(ind.columns)
            np.testing.assert_array_equal(together[:, col : col + width], got, err_msg=ind.name)
            col += width
        stream.reset()
