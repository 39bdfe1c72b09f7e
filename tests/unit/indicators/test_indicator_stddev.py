"""The standard deviation behind Bollinger bands, Bollinger width and squeeze intensity is
numerically stable: it matches an exact two-pass computation to 1e-12 relative (and TA-Lib's
STDDEV to 1e-12 relative plus TA-Lib's own rounding of about one ulp of the price) at FX scale
(prices around 1.1, tiny variance) and at large offsets, in batch and in streams."""

from __future__ import annotations

import math

import numpy as np
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from indicator_testutil import from_columns, stream_all

from ktrdr_indicators.domain.catalogue import create
from ktrdr_indicators.domain.rolling import RollingMoments, rolling_mean_std

EPS = float(np.finfo(np.float64).eps)
REL = 1e-12


def exact_moments(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass mean and population stddev per window, as good as exact: correctly rounded sums
    (fsum) and the mean carried as a double-double (``m + r``), so that even deviations a
    million ulps small are not skewed by the rounding of the mean."""
    mean = np.full(len(x), np.nan)
    sd = np.full(len(x), np.nan)
    for i in range(n - 1, len(x)):
        w = x[i - n + 1 : i + 1].tolist()
        m = math.fsum(w) / n
        r = math.fsum([t - m for t in w]) / n  # the rounding of m (t - m is exact here)
        dev = [(t - m) - r for t in w]
        mean[i] = m + r
        sd[i] = math.sqrt(math.fsum(d * d for d in dev) / n)
    return mean, sd


def assert_stddev_close(got: np.ndarray, ref: np.ndarray, msg: str = "") -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=msg)
    ok = ~np.isnan(ref)
    flat = ok & (ref == 0.0)
    np.testing.assert_array_equal(got[flat], 0.0, err_msg=f"flat windows {msg}")
    rel = np.abs(got[ok] - ref[ok]) / np.where(ref[ok] > 0, ref[ok], 1.0)
    assert rel.max(initial=0.0) <= REL, f"{msg}: relative error {rel.max():.2e}"


@st.composite
def fx_prices(draw) -> np.ndarray:
    """Prices around 1.1 with a tiny variance (relative steps 1e-9 .. 1e-3), sometimes a flat
    stretch or a jump."""
    n = draw(st.integers(2, 240))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    step = 10 ** draw(st.floats(-9, -3))
    x = draw(st.floats(0.9, 1.3)) * (1 + step * np.cumsum(rng.normal(0, 1, n)))
    if draw(st.booleans()):
        k = draw(st.integers(0, n - 1))
        x[k : k + draw(st.integers(1, 60))] = x[k]
    if draw(st.booleans()):
        x[draw(st.integers(0, n - 1)) :] += draw(st.floats(-0.2, 0.2))
    return x


@st.composite
def offset_prices(draw) -> np.ndarray:
    """Large offsets (1e4 .. 1e9) with unit-scale moves."""
    n = draw(st.integers(2, 240))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = 10 ** draw(st.floats(-3, 1))
    return 10 ** draw(st.floats(4, 9)) + scale * np.cumsum(rng.normal(0, 1, n))


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(x=st.one_of(fx_prices(), offset_prices()), period=st.integers(2, 60))
def test_property_rolling_stddev_matches_exact_two_pass_in_batch_and_stream(x, period):
    ref_mean, ref_sd = exact_moments(x, period)
    mean, sd = rolling_mean_std(x, period)
    stream = RollingMoments(period)
    streamed = np.array([stream.push(v) for v in x.tolist()]).reshape(len(x), 2)
    for label, m, s in (("batch", mean, sd), ("stream", streamed[:, 0], streamed[:, 1])):
        assert_stddev_close(s, ref_sd, label)
        ok = ~np.isnan(ref_mean)
        np.testing.assert_allclose(m[ok], ref_mean[ok], rtol=4 * EPS, atol=0, err_msg=label)


@PROPERTY
@given(x=st.one_of(fx_prices(), offset_prices()), period=st.integers(2, 60))
def test_property_bollinger_matches_talib_stddev_to_1e12_beyond_talibs_own_error(x, period):
    # bollinger_width with std 0.5 is stddev / middle: no cancellation on the way out.
    bars = from_columns(open=x, high=x, low=x, close=x, volume=np.ones(len(x)))
    ind = create("bollinger_width", {"period": period, "std": 0.5})
    middle = create("bollinger_bands", {"period": period}).compute(bars)
    mid = middle[f"bollinger_bands_{period}_2.middle"]
    ref = talib.STDDEV(x, period, 1.0)
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(mid[ok], talib.SMA(x, period)[ok], rtol=REL, atol=0)
    # TA-Lib's running sums round to a few ulps of the prices seen: where TA-Lib itself is off
    # the exact value, ours may differ from it by that much more (never more than 1e-12 else).
    talib_error = np.abs(ref - exact_moments(x, period)[1])
    batch = ind.compute(bars)[ind.name]
    stream = stream_all(ind, bars)[ind.name]
    for label, width in (("batch", batch), ("stream", stream)):
        sd = width * mid
        tolerance = REL * ref[ok] + talib_error[ok] + 4 * EPS * np.abs(sd[ok])
        assert (np.abs(sd[ok] - ref[ok]) <= tolerance).all(), label


def test_bollinger_is_exact_on_eurusd_where_mean_of_squares_loses_digits(eurusd):
    c = eurusd.close
    ref_mean, ref_sd = exact_moments(c, 20)
    naive = np.sqrt(np.maximum(talib.SUM(c * c, 20) / 20 - (talib.SUM(c, 20) / 20) ** 2, 0))
    ok = ~np.isnan(ref_sd)
    naive_rel = np.abs(naive[ok] - ref_sd[ok]) / ref_sd[ok]
    assert naive_rel.max() > 1e-9  # the old formula's loss on FX prices, for scale
    ind = create("bollinger_bands", {"period": 20, "std": 2.0})
    for label, out in (("batch", ind.compute(eurusd)), ("stream", stream_all(ind, eurusd))):
        half_width = (out[f"{ind.name}.upper"] - out[f"{ind.name}.lower"]) / 4
        np.testing.assert_allclose(out[f"{ind.name}.middle"][ok], ref_mean[ok], rtol=4 * EPS)
        # upper - lower cancels at the scale of the price: one ulp of 1.2 over 4 x stddev
        np.testing.assert_allclose(
            half_width[ok], ref_sd[ok], rtol=0, atol=4 * EPS * 1.3, err_msg=label
        )


def test_squeeze_intensity_uses_the_exact_stddev_at_fx_scale(eurusd):
    c, h, lo = eurusd.close, eurusd.high, eurusd.low
    _, ref_sd = exact_moments(c, 20)
    kcw = 2.0 * (1.5 * talib.ATR(h, lo, c, 20))
    ref = np.maximum(0.0, 1.0 - (4.0 * ref_sd) / kcw)
    ind = create("squeeze_intensity")
    for label, out in (("batch", ind.compute(eurusd)), ("stream", stream_all(ind, eurusd))):
        got = out[ind.name]
        ok = ~np.isnan(ref)
        np.testing.assert_array_equal(np.isnan(got[20:]), np.isnan(ref[20:]))
        np.testing.assert_allclose(got[ok], ref[ok], rtol=0, atol=1e-13, err_msg=label)
