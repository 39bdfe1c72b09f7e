"""Helpers shared by the data-domain tests (put on sys.path by conftest)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ktrdr_core import bars as bars_mod


def make_bars(start: str, n: int, freq: str = "1h", seed: int = 0) -> pd.DataFrame:
    """Valid OHLCV bars on a regular grid (test helper)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = close + rng.normal(0, 0.5, n)
    high = np.maximum(open_, close) + rng.uniform(0, 1, n)
    low = np.minimum(open_, close) - rng.uniform(0, 1, n)
    vol = rng.integers(1, 1000, n)
    return bars_mod.from_columns(bars_mod.index_to_us(idx), open_, high, low, close, vol)
