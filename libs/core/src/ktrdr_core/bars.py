"""The canonical in-memory bar frame.

A bar frame is a ``pandas.DataFrame`` with

* index: tz-aware ``DatetimeIndex`` named ``"timestamp"``, dtype ``datetime64[us, UTC]``, sorted
  ascending and unique; each value is the bar's **open** time (bar covers ``[t, t + len)``);
* columns ``open``, ``high``, ``low``, ``close`` (float64) and ``volume`` (int64), in that order.

On the wire (gRPC) bars travel as columns: ``timestamps`` are int64 microseconds since the Unix
epoch (UTC). :func:`from_columns` / :func:`to_columns` convert without copying where possible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ktrdr_core import codes
from ktrdr_core.errors import ValidationError

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")
INDEX_NAME = "timestamp"
INDEX_DTYPE = "datetime64[us, UTC]"


@dataclasses.dataclass(frozen=True, slots=True)
class BarColumns:
    """Bars as plain NumPy columns (the gRPC representation)."""

    timestamps_us: np.ndarray  # int64, microseconds since epoch UTC
    open: np.ndarray  # float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.timestamps_us)


def utc_index(timestamps_us: np.ndarray) -> pd.DatetimeIndex:
    """A ``datetime64[us, UTC]`` index named ``timestamp`` from int64 epoch microseconds."""
    values = np.asarray(timestamps_us, dtype=np.int64).view("datetime64[us]")
    return pd.DatetimeIndex(values, name=INDEX_NAME).tz_localize("UTC")


def index_to_us(index: pd.DatetimeIndex) -> np.ndarray:
    """Int64 epoch microseconds of a tz-aware (UTC) or naive (taken as UTC) index."""
    idx = index.tz_convert("UTC") if index.tz is not None else index
    return idx.as_unit("us").asi8


def empty_frame() -> pd.DataFrame:
    """A bar frame with no rows and the canonical schema."""
    prices = np.empty(0, np.float64)
    return from_columns(
        np.empty(0, np.int64), prices, prices, prices, prices, np.empty(0, np.int64)
    )


def from_columns(
    timestamps_us: np.ndarray,
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> pd.DataFrame:
    """Build a bar frame from column arrays (no validation of OHLC values; see ``quality``).

    Raises
    ------
    ValidationError
        ``DATA-010`` when the columns differ in length.
    """
    n = len(timestamps_us)
    arrays = (open, high, low, close, volume)
    if any(len(a) != n for a in arrays):
        raise ValidationError(
            codes.INVALID_FRAME, "All bar columns must have the same length.", field="bars"
        )
    data = {
        "open": np.asarray(open, dtype=np.float64),
        "high": np.asarray(high, dtype=np.float64),
        "low": np.asarray(low, dtype=np.float64),
        "close": np.asarray(close, dtype=np.float64),
        "volume": np.asarray(volume, dtype=np.int64),
    }
    return pd.DataFrame(data, index=utc_index(timestamps_us), copy=False)


def frame_from_arrays(arrays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """:func:`from_columns` for a mapping with ``timestamps_us`` and the OHLCV names."""
    return from_columns(
        arrays["timestamps_us"],
        arrays["open"],
        arrays["high"],
        arrays["low"],
        arrays["close"],
        arrays["volume"],
    )


def to_columns(bars: pd.DataFrame) -> BarColumns:
    """Split a bar frame into NumPy columns (timestamps as int64 epoch microseconds)."""
    return BarColumns(
        timestamps_us=index_to_us(bars.index),
        open=bars["open"].to_numpy(np.float64),
        high=bars["high"].to_numpy(np.float64),
        low=bars["low"].to_numpy(np.float64),
        close=bars["close"].to_numpy(np.float64),
        volume=bars["volume"].to_numpy(np.int64),
    )


def canonicalize(bars: pd.DataFrame) -> pd.DataFrame:
    """Return ``bars`` with the canonical index dtype/name and column order/dtypes.

    Column names are matched case-insensitively. A naive index is taken as UTC. Row order and
    values are not changed (sorting/deduplication is the quality module's job).

    Raises
    ------
    ValidationError
        ``DATA-010`` when a column is missing, the index is not datetime-like, or volume is not
        integral.
    """
    lower = {str(c).lower(): c for c in bars.columns}
    missing = [c for c in COLUMNS if c not in lower]
    if missing:
        raise ValidationError(
            codes.INVALID_FRAME,
            f"Bar frame lacks column(s) {', '.join(missing)}.",
            field="bars",
        )
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise ValidationError(
            codes.INVALID_FRAME, "Bar frame index must be a DatetimeIndex.", field="bars"
        )
    idx = bars.index
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    idx = idx.as_unit("us").rename(INDEX_NAME)
    vol = bars[lower["volume"]].to_numpy()
    if vol.dtype.kind == "f" and (not np.all(np.isfinite(vol)) or not np.all(vol == np.round(vol))):
        raise ValidationError(
            codes.INVALID_FRAME, "Bar volume must be integral and finite.", field="bars"
        )
    data = {c: bars[lower[c]].to_numpy(np.float64) for c in PRICE_COLUMNS}
    data["volume"] = vol.astype(np.int64)
    return pd.DataFrame(data, index=idx, copy=False)


def is_canonical(bars: pd.DataFrame) -> bool:
    """True when ``bars`` already has the canonical schema, sorted unique index."""
    return (
        tuple(bars.columns) == COLUMNS
        and isinstance(bars.index, pd.DatetimeIndex)
        and str(bars.index.dtype) == INDEX_DTYPE
        and bars.index.name == INDEX_NAME
        and all(bars[c].dtype == np.float64 for c in PRICE_COLUMNS)
        and bars["volume"].dtype == np.int64
        and bars.index.is_monotonic_increasing
        and bars.index.is_unique
    )
