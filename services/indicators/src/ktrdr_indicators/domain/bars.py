"""Synthetic bars for warm-up probing and benchmarks (the bar type itself is
:class:`ktrdr_core.bars.Bars`)."""

from __future__ import annotations

import numpy as np

from ktrdr_core.bars import Bars

#: One minute in microseconds (the spacing of the synthetic bars' timestamps).
_MINUTE_US = 60_000_000


def random_walk_bars(
    n: int, *, seed: int, volatility: float, spread: float, min_volume: int
) -> Bars:
    """Seeded geometric random-walk bars, one per minute from the epoch.

    ``volatility`` is the per-bar log-return standard deviation; ``spread`` scales the
    high/low excursion beyond the open/close body; volume is uniform in
    ``[min_volume, 10_000)``.
    """
    rng = np.random.default_rng(seed)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0, volatility, n)))
    o = np.r_[c[:1], c[:-1]]
    sp = np.abs(rng.normal(0, spread, n)) * c
    return Bars(
        timestamps_us=np.arange(n, dtype=np.int64) * _MINUTE_US,
        open=o,
        high=np.maximum(o, c) + sp,
        low=np.minimum(o, c) - sp,
        close=c,
        volume=rng.integers(min_volume, 10_000, n).astype(np.float64),
    )
