"""Native indicators: streaming == batch, TA-Lib parity, invalid bars, warm-up, causality."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pandas_ta_classic as pta
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from indicator_testutil import FIELDS, from_columns, head, replace, rows, stream_all

from ktrdr_indicators.domain.catalogue import create
from ktrdr_indicators.domain.registry import native_definitions

NATIVE = native_definitions()
NAMES = [d.info.name for d in NATIVE]
TALIB_DEFINED = [d.info.name for d in NATIVE if d.info.engine == "ta-lib"]
RTOL, ATOL = 1e-9, 1e-9


def assert_same(a: np.ndarray, b: np.ndarray, rtol=RTOL, atol=ATOL, msg=""):
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NaN positions {msg}")
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=msg)


@pytest.mark.parametrize("name", NAMES)
def test_stream_equals_batch_on_real_data(name, real_bars):
    ind = create(name)
    batch = ind.compute(real_bars)
    stream = stream_all(ind, real_bars)
    for col in ind.columns:
        assert_same(stream[col], batch[col], msg=col)
        assert not np.isnan(batch[col][-100:]).all(), f"{col} never becomes ready"
        if name != "zigzag":
            assert np.isnan(batch[col][: ind.warmup]).all()
            assert not np.isnan(batch[col][ind.warmup]), col


@pytest.mark.parametrize("name", TALIB_DEFINED)
def test_talib_defined_indicators_stream_bit_identical_to_batch(name, real_bars):
    # Streaming goes through TA-Lib's own stream handles: not close, identical.
    ind = create(name)
    batch = ind.compute(real_bars)
    stream = stream_all(ind, real_bars)
    for col in ind.columns:
        np.testing.assert_array_equal(stream[col], batch[col], err_msg=col)


@pytest.mark.parametrize("name", NAMES)
def test_update_many_equals_bar_by_bar_updates(name, eurusd):
    # messages that split the warm-up, carry invalid values and run in the steady state
    bars = head(eurusd, 400)
    close, high = bars.close.copy(), bars.high.copy()
    close[[5, 150, 151]] = np.nan
    high[300] = np.inf
    bars = replace(bars, close=close, high=high)
    ind = create(name)
    one = ind.stream()
    expected = [one.update(*r) for r in rows(bars)]
    many = ind.stream()
    cuts = [0, 7, 60, 100, 101, 160, 400]
    parts = [many.update_many(bars.take(slice(a, b))) for a, b in itertools.pairwise(cuts)]
    for j, col in enumerate(ind.columns):
        got = np.concatenate([p[j] for p in parts])
        np.testing.assert_array_equal(got, [e[j] for e in expected], err_msg=col)
    assert many.values == one.values and many.initialized == one.initialized


@pytest.mark.parametrize(
    ("name", "params", "function", "talib_params"),
    [
        ("sma", {"period": 37}, "SMA", {"timeperiod": 37}),
        ("rsi", {"period": 9}, "RSI", {"timeperiod": 9}),
        (
            "macd",
            {"fast": 5, "slow": 40, "signal": 7},
            "MACD",
            {"fastperiod": 5, "slowperiod": 40, "signalperiod": 7},
        ),
        (
            "stochastic",
            {"k_period": 9, "k_smooth": 4, "d_period": 5},
            "STOCH",
            {"fastk_period": 9, "slowk_period": 4, "slowd_period": 5},
        ),
        ("adx", {"period": 11}, "ADX", {"timeperiod": 11}),
        ("mfi", {"period": 21}, "MFI", {"timeperiod": 21}),
    ],
)
def test_warmup_is_talibs_lookback(name, params, function, talib_params):
    fn = talib.abstract.Function(function)
    fn.set_parameters(talib_params)
    assert create(name, params).warmup == fn.lookback


TALIB_REF = {
    "sma": lambda b: [talib.SMA(b.close, 20)],
    "ema": lambda b: [talib.EMA(b.close, 20)],
    "wma": lambda b: [talib.WMA(b.close, 20)],
    "rsi": lambda b: [talib.RSI(b.close, 14)],
    "macd": lambda b: list(talib.MACD(b.close, 12, 26, 9)),
    "bollinger_bands": lambda b: list(talib.BBANDS(b.close, 20, 2.0, 2.0, 0)),
    "atr": lambda b: [talib.ATR(b.high, b.low, b.close, 14)],
    "stochastic": lambda b: list(talib.STOCH(b.high, b.low, b.close, 14, 3, 0, 3, 0)),
    "adx": lambda b: [
        talib.ADX(b.high, b.low, b.close, 14),
        talib.PLUS_DI(b.high, b.low, b.close, 14),
        talib.MINUS_DI(b.high, b.low, b.close, 14),
    ],
    "cci": lambda b: [talib.CCI(b.high, b.low, b.close, 20)],
    "williams_r": lambda b: [talib.WILLR(b.high, b.low, b.close, 14)],
    "roc": lambda b: [talib.ROC(b.close, 10)],
    "momentum": lambda b: [talib.MOM(b.close, 10)],
    "obv": lambda b: [talib.OBV(b.close, b.volume)],
    "mfi": lambda b: [talib.MFI(b.high, b.low, b.close, b.volume, 14)],
    "ad": lambda b: [talib.AD(b.high, b.low, b.close, b.volume)],
    "psar": lambda b: [talib.SAR(b.high, b.low, 0.02, 0.2)],
    "aroon": lambda b: [
        *reversed(talib.AROON(b.high, b.low, 14)),
        talib.AROONOSC(b.high, b.low, 14),
    ],
    "donchian_channels": lambda b: [
        talib.MAX(b.high, 20),
        (talib.MAX(b.high, 20) + talib.MIN(b.low, 20)) / 2,
        talib.MIN(b.low, 20),
    ],
}


@pytest.mark.parametrize("name", sorted(TALIB_REF))
def test_stream_and_batch_equal_talib_after_warmup(name, real_bars):
    ind = create(name)
    refs = TALIB_REF[name](real_bars)
    stream = stream_all(ind, real_bars)
    batch = ind.compute(real_bars)
    w = ind.warmup
    for col, ref in zip(ind.columns, refs, strict=True):
        assert_same(stream[col][w:], ref[w:], msg=f"stream {col}")
        assert_same(batch[col][w:], ref[w:], msg=f"batch {col}")


def test_rsi_is_zero_not_fifty_on_a_flat_range_in_both_modes():
    # TA-Lib's convention: average gain + loss of exactly 0 gives RSI 0 (not the midpoint 50).
    flat = np.full(60, 1.1)
    bars = from_columns(open=flat, high=flat, low=flat, close=flat, volume=np.full(60, 5.0))
    ind = create("rsi", {"period": 14})
    ref = talib.RSI(flat, 14)
    assert (ref[14:] == 0.0).all()
    for out in (ind.compute(bars)["rsi_14"], stream_all(ind, bars)["rsi_14"]):
        assert np.isnan(out[:14]).all()
        np.testing.assert_array_equal(out[14:], 0.0)


def test_ema_is_sma_seeded_unlike_pandas_ewm(goog):
    c = goog.close
    ema = stream_all(create("ema", {"period": 10}), goog)["ema_10"]
    assert ema[9] == pytest.approx(c[:10].mean(), rel=1e-12)
    ewm = pd.Series(c).ewm(span=10, adjust=False).mean().to_numpy()
    assert abs(ema[9] - ewm[9]) > 1e-3  # deliberate difference at the seed ...
    np.testing.assert_allclose(ema[300:], ewm[300:], rtol=1e-9)  # ... which decays away


def test_macd_fast_ema_is_seeded_at_the_slow_warmup_like_talib(goog):
    c = goog.close
    out = stream_all(create("macd"), goog)
    standalone = talib.EMA(c, 12) - talib.EMA(c, 26)
    assert abs(out["macd_12_26_9.line"][33] - standalone[33]) > 1e-6  # TA-Lib seeding
    np.testing.assert_allclose(out["macd_12_26_9.line"][500:], standalone[500:], rtol=1e-9)
    assert np.isnan(out["macd_12_26_9.line"][:33]).all()  # one shared warm-up


def test_adx_withholds_directional_indices_until_adx_is_ready(goog):
    out = create("adx").compute(goog)
    plus = talib.PLUS_DI(goog.high, goog.low, goog.close, 14)
    assert not np.isnan(plus[14]) and np.isnan(out["adx_14.plus_di"][14])
    streamed = stream_all(create("adx"), goog)
    assert np.isnan(streamed["adx_14.plus_di"][:27]).all()


def test_invalid_bars_are_skipped_without_corrupting_state(real_bars):
    n = len(real_bars)
    rng = np.random.default_rng(3)
    bad = np.sort(rng.choice(np.arange(5, n), size=60, replace=False))
    dirty = {f: real_bars.column(f).copy() for f in FIELDS}
    for j, i in enumerate(bad):
        dirty[FIELDS[j % 4 + 1]][i] = [np.nan, np.inf, -np.inf][j % 3]
    dirty_bars = replace(real_bars, **dirty)
    for d in NATIVE:
        ind = create(d.info.name)
        reads = set(d.info.inputs)
        hit = np.array([FIELDS[j % 4 + 1] in reads for j in range(len(bad))])
        skipped = bad[hit]
        # every indicator reads a column that got invalid values: this test exercises each one
        assert len(skipped) >= 10, d.info.name
        kept = np.setdiff1d(np.arange(n), skipped)
        ref = ind.compute(real_bars.take(kept))
        for out in (stream_all(ind, dirty_bars), ind.compute(dirty_bars)):
            for col in ind.columns:
                assert np.isnan(out[col][skipped]).all(), col
                assert_same(out[col][kept], ref[col], msg=col)


@pytest.mark.parametrize("name", ["rsi", "macd", "keltner_channels", "bollinger_bands"])
def test_update_taken_before_the_warm_up_keeps_working(name, goog):
    ind = create(name)
    update = ind.stream().update  # looked up once, before the TA-Lib handles open
    got = np.array([update(*r) for r in rows(goog)])
    batch = ind.compute(goog)
    for j, col in enumerate(ind.columns):
        assert_same(got[:, j], batch[col], msg=col)


def test_invalid_bar_leaves_streaming_values_unchanged(goog):
    s = create("rsi").stream()
    for r in rows(goog)[:50]:
        s.update(*r)
    before = s.values
    assert math.isnan(s.update(1.0, 1.0, 1.0, math.nan, 1.0)[0])
    assert s.values == before and s.initialized


@pytest.mark.parametrize("name", NAMES)
def test_outputs_are_causal(name, goog):
    ind = create(name)
    full = ind.compute(goog)
    for m in (120, 700):
        pre = ind.compute(head(goog, m))
        for col in ind.columns:
            assert_same(pre[col], full[col][:m], msg=col)


@pytest.mark.parametrize("name", NAMES)
def test_too_few_bars_give_not_ready_outputs(name, goog):
    ind = create(name)
    out = ind.compute(head(goog, 0))
    assert all(len(a) == 0 for a in out.values())
    w = ind.warmup
    out = ind.compute(head(goog, w))
    assert all(len(a) == w and np.isnan(a).all() for a in out.values())


def test_streaming_object_contract(goog):
    s = create("bbands", {"period": 5}).stream()
    assert repr(s) == "bollinger_bands(period=5, std=2.0, source='close')"
    bars = rows(goog)
    for r in bars[:4]:
        s.update(*r)
        assert not s.initialized and math.isnan(s.value)
    s.update(*bars[4])
    assert s.initialized and s.value == pytest.approx(np.mean(goog.close[:5]))
    assert len(s.values) == 3
    s.reset()
    assert not s.initialized and math.isnan(s.value)
    assert isinstance(s.update(*bars[0])[0], float)


def test_talib_stream_contract_and_reset(goog):
    s = create("rsi").stream()
    bars = rows(goog)
    first = [s.update(*r)[0] for r in bars[:40]]
    assert not any(math.isnan(x) for x in first[14:]) and all(math.isnan(x) for x in first[:14])
    assert s.initialized and s.value == first[-1]
    s.reset()
    assert not s.initialized and math.isnan(s.value)
    assert [s.update(*r)[0] for r in bars[:40]][14:] == first[14:]


@pytest.mark.parametrize("name", ["sma", "bollinger_bands", "adx", "ichimoku"])
def test_the_largest_period_is_accepted_and_computed(name):
    params = {"period": 10_000} if name != "ichimoku" else {"senkou": 10_000}
    ind = create(name, params)
    n = ind.warmup + 50
    rng = np.random.default_rng(0)
    c = 100 + np.cumsum(rng.normal(0, 1, n))
    bars = from_columns(open=c, high=c + 1, low=c - 1, close=c, volume=np.full(n, 10.0))
    batch = ind.compute(bars)
    stream = stream_all(ind, bars)
    for col in ind.columns:
        assert_same(stream[col], batch[col], msg=col)
        assert not np.isnan(batch[col][-1]), col


# --------------------------------------------------------- independent references (non TA-Lib)
def test_fisher_converges_to_pandas_ta(goog):
    ours = create("fisher").compute(goog)
    ref = pta.fisher(pd.Series(goog.high), pd.Series(goog.low), 9, 1)
    np.testing.assert_allclose(
        ours["fisher_transform_9_1.fisher"][200:], ref.iloc[200:, 0].to_numpy(), atol=1e-6
    )


def _series(bars) -> dict[str, pd.Series]:
    return {f: pd.Series(bars.column(f)) for f in FIELDS}


def test_rvi_matches_the_ehlers_formula_in_pandas(goog):
    # pandas-ta-classic's rvgi disagrees with its own documented formula on this data, so the
    # reference is the formula itself: SWMA(1,2,2,1) sums ratio and SWMA of the ratio.
    b = _series(goog)
    sw = lambda x: (x + 2 * x.shift(1) + 2 * x.shift(2) + x.shift(3)) / 6  # noqa: E731
    rvi = sw(b["close"] - b["open"]).rolling(10).sum() / sw(b["high"] - b["low"]).rolling(10).sum()
    ours = create("rvi").compute(goog)
    w = create("rvi").warmup
    np.testing.assert_allclose(ours["rvi_10.rvi"][w:], rvi.to_numpy()[w:], rtol=1e-9)
    np.testing.assert_allclose(ours["rvi_10.signal"][w:], sw(rvi).to_numpy()[w:], rtol=1e-9)


def test_volume_family_matches_pandas_formulas(real_bars):
    b = _series(real_bars)
    h, lo, c, v = b["high"], b["low"], b["close"], b["volume"]
    tp = (h + lo + c) / 3
    cum = (tp * v).cumsum() / v.cumsum()
    roll = (tp * v).rolling(20).sum() / v.rolling(20).sum()
    mfm = ((c - lo) - (h - c)) / (h - lo)
    cmf = (mfm.fillna(0) * v).rolling(20).sum() / v.rolling(20).sum()
    vr = v / v.rolling(20).mean()
    checks = {("vwap", 0): cum, ("vwap", 20): roll, ("cmf", 20): cmf, ("volume_ratio", 20): vr}
    for (name, p), ref in checks.items():
        got = create(name, {"period": p}).compute(real_bars)
        np.testing.assert_allclose(next(iter(got.values())), ref.to_numpy(), rtol=1e-8)


def test_distance_keltner_squeeze_ichimoku_match_formulas(goog):
    c, h, lo = goog.close, goog.high, goog.low
    sma = pd.Series(c).rolling(20).mean().to_numpy()
    got = create("distance_from_ma").compute(goog)["distance_from_ma_20_sma"]
    np.testing.assert_allclose(got, (c - sma) / sma * 100, rtol=1e-8)
    kc = create("keltner_channels").compute(goog)
    atr = talib.ATR(h, lo, c, 10)
    np.testing.assert_allclose(
        kc["keltner_channels_20_2_10.upper"][19:], (talib.EMA(c, 20) + 2 * atr)[19:], rtol=1e-12
    )
    sd = pd.Series(c).rolling(20).std(ddof=0).to_numpy()
    sq = np.maximum(0, 1 - (4 * sd) / (2 * 1.5 * talib.ATR(h, lo, c, 20)))
    got = create("squeeze_intensity").compute(goog)["squeeze_intensity_20_2_20_1p5"]
    np.testing.assert_allclose(got[20:], sq[20:], atol=1e-7)
    ich = create("ichimoku").compute(goog)
    mid = lambda n: (pd.Series(h).rolling(n).max() + pd.Series(lo).rolling(n).min()) / 2  # noqa: E731
    span_a = ((mid(9) + mid(26)) / 2).shift(26).to_numpy()
    np.testing.assert_allclose(ich["ichimoku_9_26_52_26.senkou_a"][77:], span_a[77:])
    np.testing.assert_allclose(
        ich["ichimoku_9_26_52_26.senkou_b"][77:], mid(52).shift(26).to_numpy()[77:]
    )
    np.testing.assert_array_equal(ich["ichimoku_9_26_52_26.chikou"][77:], c[77:])


def test_supertrend_follows_its_band_and_flips_on_close_crossing(real_bars):
    out = create("supertrend").compute(real_bars)
    trend, d = out["supertrend_10_3.trend"], out["supertrend_10_3.direction"]
    c = real_bars.close
    ok = ~np.isnan(d)
    assert set(np.unique(d[ok])) == {-1.0, 1.0}
    assert (c[ok & (d > 0)] >= trend[ok & (d > 0)]).all()  # bullish: close above the line
    assert (c[ok & (d < 0)] <= trend[ok & (d < 0)]).all()
    flips = np.flatnonzero(ok[1:] & ok[:-1] & (d[1:] != d[:-1])) + 1
    assert len(flips) > 5
    for i in flips:  # a flip to bullish happens on a close above the prior (upper) trend line
        assert (c[i] > trend[i - 1]) if d[i] > 0 else (c[i] < trend[i - 1])


def test_zigzag_pivots_are_real_extremes_confirmed_by_the_deviation(goog):
    out = create("zigzag", {"deviation": 5.0}).compute(goog)
    val, d = out["zigzag_5.value"], out["zigzag_5.direction"]
    changes = np.flatnonzero(np.r_[False, d[1:] != d[:-1]] & ~np.isnan(d))
    assert len(changes) > 10
    for i in changes:
        p = val[i]
        if d[i] > 0:  # a low pivot: some earlier low equals it and the current high is 5% above
            assert p in goog.low[: i + 1] and goog.high[i] >= p * 1.05
        else:
            assert p in goog.high[: i + 1] and goog.low[i] <= p * 0.95


# ------------------------------------------------------------------------- property based
@st.composite
def walks(draw):
    n = draw(st.integers(0, 160))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    c = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    o = np.r_[c[:1], c[:-1]]
    sp = np.abs(rng.normal(0, 0.01, n)) * c
    cols = {
        "open": o,
        "high": np.maximum(o, c) + sp,
        "low": np.minimum(o, c) - sp,
        "close": c,
        "volume": rng.integers(0, 50, n).astype(float),
    }
    if draw(st.booleans()):  # flat stretches (zero ranges, repeated closes)
        k = n // 3
        for f in FIELDS[:4]:
            cols[f][k : 2 * k] = 42.0
    for _ in range(draw(st.integers(0, 12))):
        if n:
            cols[draw(st.sampled_from(FIELDS))][draw(st.integers(0, n - 1))] = np.nan
    return from_columns(**cols)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=walks(), name=st.sampled_from(NAMES), period=st.integers(2, 12))
def test_property_stream_equals_batch_on_random_walks_with_nans(bars, name, period):
    info = create(name).info
    params = {"period": period} if "period" in info.param_names else {}
    ind = create(name, params)
    batch = ind.compute(bars)
    stream = stream_all(ind, bars)
    for col in ind.columns:
        assert_same(stream[col], batch[col], rtol=1e-8, atol=1e-8, msg=col)
