"""Bar input for batch computation: float64 column arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.metadata import INPUT_COLUMNS


@dataclass(frozen=True)
class OHLCV:
    """Column arrays of equal length (float64, C-contiguous). Any column may be ``None``
    when no indicator that reads it is computed."""

    open: np.ndarray | None = None
    high: np.ndarray | None = None
    low: np.ndarray | None = None
    close: np.ndarray | None = None
    volume: np.ndarray | None = None

    def __len__(self) -> int:
        for name in INPUT_COLUMNS:
            arr = getattr(self, name)
            if arr is not None:
                return len(arr)
        return 0

    def get(self, name: str) -> np.ndarray:
        arr = getattr(self, name)
        if arr is None:
            raise E.ValidationError(
                E.BAD_BARS,
                f"Bars have no '{name}' column, which this indicator reads.",
                field=f"bars.{name}",
            )
        return arr


def as_ohlcv(bars: OHLCV | Bars | Mapping[str, Any] | Any) -> OHLCV:
    """Coerce ``bars`` (OHLCV, core Bars, a mapping of column -> array-like, or a pandas DataFrame
    with lower- or capitalised column names) to :class:`OHLCV` of float64 arrays.

    Raises
    ------
    ValidationError
        IND-007 when columns are not 1-D, not numeric or differ in length.
    """
    if isinstance(bars, OHLCV):
        return bars
    if isinstance(bars, Bars):
        return OHLCV(bars.open, bars.high, bars.low, bars.close, bars.volume)
    cols: dict[str, np.ndarray] = {}
    keys = list(bars.keys()) if hasattr(bars, "keys") else []
    lookup = {str(k).lower(): k for k in keys}
    for name in INPUT_COLUMNS:
        key = lookup.get(name)
        if key is None:
            continue
        raw = bars[key]
        try:
            arr = np.ascontiguousarray(np.asarray(raw, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise E.ValidationError(
                E.BAD_BARS, f"Column '{name}' is not numeric: {exc}", field=f"bars.{name}"
            ) from exc
        if arr.ndim != 1:
            raise E.ValidationError(
                E.BAD_BARS,
                f"Column '{name}' must be 1-D, got shape {arr.shape}.",
                field=f"bars.{name}",
            )
        cols[name] = arr
    lengths = {len(a) for a in cols.values()}
    if len(lengths) > 1:
        detail = ", ".join(f"{k}={len(v)}" for k, v in cols.items())
        raise E.ValidationError(
            E.BAD_BARS, f"Bar columns differ in length ({detail}).", field="bars"
        )
    return OHLCV(**cols)


def random_walk_bars(
    n: int, *, seed: int, volatility: float, spread: float, min_volume: int
) -> dict[str, np.ndarray]:
    """Seeded geometric random-walk OHLCV columns (for warm-up probing and benchmarks).

    ``volatility`` is the per-bar log-return standard deviation; ``spread`` scales the
    high/low excursion beyond the open/close body; volume is uniform in
    ``[min_volume, 10_000)``.
    """
    rng = np.random.default_rng(seed)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0, volatility, n)))
    o = np.r_[c[0], c[:-1]]
    sp = np.abs(rng.normal(0, spread, n)) * c
    return {
        "open": o,
        "high": np.maximum(o, c) + sp,
        "low": np.minimum(o, c) - sp,
        "close": c,
        "volume": rng.integers(min_volume, 10_000, n).astype(np.float64),
    }
