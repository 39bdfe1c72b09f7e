"""Labels against brute-force references and TA-Lib; the purged split never leaks a label."""

from __future__ import annotations

import numpy as np
import talib
from backtesting.test import EURUSD
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core.strategy.training import LabelConfig, SplitConfig
from ktrdr_neural.domain.features import PriceBars
from ktrdr_neural.domain.labels import (
    BUY,
    HOLD,
    SELL,
    UNKNOWN,
    forward_return_labels,
    make_labels,
    triple_barrier_labels,
    wilder_atr,
    zigzag_labels,
)
from ktrdr_neural.domain.split import purged_split

CLOSE = EURUSD["Close"].to_numpy()
BARS = PriceBars(
    np.arange(len(EURUSD), dtype=np.int64),
    EURUSD["Open"].to_numpy(),
    EURUSD["High"].to_numpy(),
    EURUSD["Low"].to_numpy(),
    CLOSE,
)


def _reference_barriers(up_src, dn_src, upper, lower, horizon, t, n):
    """One bar's label by walking forward bar by bar (the definition, written plainly)."""
    for k in range(1, horizon + 1):
        if t + k >= n:
            return UNKNOWN, -1
        hit_up, hit_dn = up_src[t + k] >= upper, dn_src[t + k] <= lower
        if hit_dn:
            return SELL, t + k  # a tie counts as the stop
        if hit_up:
            return BUY, t + k
    return HOLD, t + horizon


def test_zigzag_labels_equal_a_bar_by_bar_reference_on_eurusd():
    labels = zigzag_labels(CLOSE, threshold=0.004, lookahead=12)
    n = len(CLOSE)
    for t in range(0, n, 7):
        c = CLOSE[t]
        expected = _reference_barriers(CLOSE, CLOSE, c * 1.004, c * 0.996, 12, t, n)
        assert (labels.classes[t], labels.end[t]) == expected, t
    assert set(np.unique(labels.classes)) == {UNKNOWN, BUY, HOLD, SELL}


def test_wilder_atr_equals_talib():
    np.testing.assert_allclose(
        wilder_atr(BARS.high, BARS.low, BARS.close, 14),
        talib.ATR(BARS.high, BARS.low, BARS.close, 14),
        rtol=1e-12,
        equal_nan=True,
    )


def test_triple_barrier_labels_equal_a_bar_by_bar_reference_on_eurusd():
    labels = triple_barrier_labels(
        BARS, take_profit_atr=2.0, stop_loss_atr=1.5, max_holding_bars=24, atr_period=14
    )
    atr = talib.ATR(BARS.high, BARS.low, BARS.close, 14)
    n = len(CLOSE)
    for t in range(14, n, 5):
        up, dn = CLOSE[t] + 2.0 * atr[t], CLOSE[t] - 1.5 * atr[t]
        expected = _reference_barriers(BARS.high, BARS.low, up, dn, 24, t, n)
        assert (labels.classes[t], labels.end[t]) == expected, t
    assert (labels.classes[:14] == UNKNOWN).all()  # no ATR yet: no label


def test_forward_return_labels_follow_the_return_over_the_horizon():
    labels = forward_return_labels(CLOSE, horizon=6, threshold=0.001)
    r = EURUSD["Close"].pct_change(6).shift(-6).to_numpy()
    known = ~np.isnan(r)
    expected = np.where(r > 0.001, BUY, np.where(r < -0.001, SELL, HOLD))
    np.testing.assert_array_equal(labels.classes[known], expected[known])
    assert (labels.classes[~known] == UNKNOWN).all() and known.sum() == len(CLOSE) - 6
    np.testing.assert_array_equal(labels.end[known], np.flatnonzero(known) + 6)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    horizon=st.integers(1, 30),
    threshold=st.floats(0.0005, 0.02),
)
def test_zigzag_label_window_is_bounded_by_the_lookahead(seed, horizon, threshold):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, 300)))
    labels = zigzag_labels(close, threshold=threshold, lookahead=horizon)
    t = np.flatnonzero(labels.known)
    assert ((labels.end[t] > t) & (labels.end[t] <= t + horizon)).all()
    assert (labels.end[t] < len(close)).all()


def _assert_no_leak(rows, ends, split):
    parts = [split.train, split.validation, split.test]
    for i, earlier in enumerate(parts):
        for later in parts[i + 1 :]:
            if len(earlier) and len(later):
                # every label window of an earlier split ends before any later sample's bar
                assert ends[earlier].max() < rows[later].min()


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(50, 2000),
    horizon=st.integers(1, 60),
    embargo=st.floats(0.0, 0.1),
    train=st.floats(0.3, 0.8),
)
def test_purged_split_no_label_window_crosses_a_boundary(seed, n, horizon, embargo, train):
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(rng.random(n) < 0.8)  # some bars have no sample (warm-up, unknown)
    ends = rows + rng.integers(1, horizon + 1, len(rows))
    val = (1 - train) / 2
    config = SplitConfig(train=train, validation=val, test=1 - train - val, embargo_pct=embargo)
    split = purged_split(rows, ends, config, n_bars=n)
    _assert_no_leak(rows, ends, split)
    embargo_bars = split.embargo_bars
    if len(split.validation) and len(split.train):
        boundary = rows[int(np.floor(len(rows) * train))]
        assert rows[split.validation].min() >= boundary + embargo_bars
    kept = len(split.train) + len(split.validation) + len(split.test)
    assert kept + split.purged + split.embargoed == len(rows)


def test_purged_split_of_real_labels_removes_exactly_the_crossing_windows():
    labels = make_labels(BARS, LabelConfig(source="zigzag", zigzag_threshold=0.003))
    rows = np.flatnonzero(labels.known)
    ends = labels.end[rows]
    config = SplitConfig(embargo_pct=0.01)
    split = purged_split(rows, ends, config, n_bars=len(CLOSE))
    _assert_no_leak(rows, ends, split)
    # a naive chronological cut would have leaked: windows do cross the boundary
    n_train = int(len(rows) * 0.7)
    assert (ends[:n_train] >= rows[n_train]).any()
    assert split.purged > 0 and split.embargoed >= 2 * 50 - 2
