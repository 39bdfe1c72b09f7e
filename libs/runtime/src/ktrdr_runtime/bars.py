"""Bars and value columns between protobuf messages and NumPy arrays (one place for all services).

Timestamps travel as int64 microseconds since the epoch (UTC) in columnar messages and as
``google.protobuf.Timestamp`` in row messages; this module converts both ways without pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.common.v1 import common_pb2

OHLCV = ("open", "high", "low", "close", "volume")


def columns_to_arrays(msg: common_pb2.BarColumns) -> dict[str, np.ndarray]:
    """``timestamps_us`` (int64) and OHLC (float64) and volume (float64) arrays.

    Volume comes back as float64 because indicator maths wants floats.

    Raises
    ------
    ValueError
        When the columns have different lengths (the caller maps it to INVALID_ARGUMENT).
    """
    arrays = {
        "timestamps_us": np.asarray(msg.timestamps_us, dtype=np.int64),
        "open": np.asarray(msg.open, dtype=np.float64),
        "high": np.asarray(msg.high, dtype=np.float64),
        "low": np.asarray(msg.low, dtype=np.float64),
        "close": np.asarray(msg.close, dtype=np.float64),
        "volume": np.asarray(msg.volume, dtype=np.float64),
    }
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"bar columns differ in length: {lengths}")
    return arrays


def arrays_to_columns(
    timestamps_us: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> common_pb2.BarColumns:
    return common_pb2.BarColumns(
        timestamps_us=np.asarray(timestamps_us, dtype=np.int64).tolist(),
        open=np.asarray(open_, dtype=np.float64).tolist(),
        high=np.asarray(high, dtype=np.float64).tolist(),
        low=np.asarray(low, dtype=np.float64).tolist(),
        close=np.asarray(close, dtype=np.float64).tolist(),
        volume=np.asarray(volume, dtype=np.int64).tolist(),
    )


def bars_to_arrays(bars: Sequence[common_pb2.Bar]) -> dict[str, np.ndarray]:
    """Row-form bars (``repeated Bar``) as the same arrays as :func:`columns_to_arrays`."""
    n = len(bars)
    ts = np.fromiter(
        (b.timestamp.seconds * 1_000_000 + b.timestamp.nanos // 1000 for b in bars),
        dtype=np.int64,
        count=n,
    )
    out = {"timestamps_us": ts}
    for name in OHLCV:
        out[name] = np.fromiter((getattr(b, name) for b in bars), dtype=np.float64, count=n)
    return out


def arrays_to_bars(
    timestamps_us: np.ndarray, columns: Mapping[str, np.ndarray]
) -> list[common_pb2.Bar]:
    """Row-form bars from arrays (``columns`` holds open, high, low, close, volume)."""
    ts = np.asarray(timestamps_us, dtype=np.int64)
    rows = zip(
        (int(s) for s in ts // 1_000_000),
        (int(n) for n in (ts % 1_000_000) * 1000),
        columns["open"].tolist(),
        columns["high"].tolist(),
        columns["low"].tolist(),
        columns["close"].tolist(),
        np.asarray(columns["volume"], dtype=np.int64).tolist(),
        strict=True,
    )
    return [
        common_pb2.Bar(
            timestamp=Timestamp(seconds=s, nanos=n), open=o, high=h, low=lo, close=c, volume=v
        )
        for s, n, o, h, lo, c, v in rows
    ]


def timestamp_us(ts_us: int) -> Timestamp:
    return Timestamp(seconds=ts_us // 1_000_000, nanos=(ts_us % 1_000_000) * 1000)


def timestamps(ts_us: Iterable[int]) -> list[Timestamp]:
    return [timestamp_us(int(t)) for t in ts_us]


def value_column(
    name: str, values: np.ndarray, ready: np.ndarray | None = None
) -> common_pb2.ValueColumn:
    """A named column; ``ready`` defaults to "not NaN"."""
    arr = np.asarray(values, dtype=np.float64)
    flags = ~np.isnan(arr) if ready is None else np.asarray(ready, dtype=bool)
    return common_pb2.ValueColumn(name=name, values=arr.tolist(), ready=flags.tolist())


def value_columns_to_arrays(
    columns: Iterable[common_pb2.ValueColumn], length: int
) -> dict[str, np.ndarray]:
    """Named float64 arrays; values not ready become NaN.

    Raises
    ------
    ValueError
        When a column's length differs from ``length`` (the caller maps it).
    """
    out = {}
    for col in columns:
        values = np.asarray(col.values, dtype=np.float64)
        if len(values) != length:
            raise ValueError(f"column '{col.name}' has {len(values)} values for {length} bars")
        if len(col.ready):
            ready = np.asarray(col.ready, dtype=bool)
            if len(ready) != length:
                raise ValueError(
                    f"column '{col.name}' has {len(ready)} ready flags for {length} bars"
                )
            values = np.where(ready, values, np.nan)
        out[col.name] = values
    return out


def concat_arrays(parts: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Join batches from :func:`columns_to_arrays` (empty columns when there are none)."""
    if not parts:
        return columns_to_arrays(common_pb2.BarColumns())
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
