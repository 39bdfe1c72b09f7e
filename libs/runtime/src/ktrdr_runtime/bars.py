"""Protobuf messages <-> the core's in-memory types, in one place for every service.

* bars: ``BarColumns`` (columnar, streams) and ``repeated Bar`` (rows) <->
  :class:`ktrdr_core.bars.Bars`;
* values: ``repeated ValueColumn`` <-> :class:`ktrdr_core.values.ValueFrame` (NaN where a value
  is not ready);
* indicator parameters: a mapping -> ``google.protobuf.Struct``.

Timestamps travel as int64 microseconds since the epoch (UTC) in columnar messages and as
``google.protobuf.Timestamp`` in row messages; this module converts both ways without pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.common.v1 import common_pb2
from ktrdr_core.bars import Bars
from ktrdr_core.values import ValueFrame

OHLCV = ("open", "high", "low", "close", "volume")


def bars_from_columns(msg: common_pb2.BarColumns) -> Bars:
    """The bars of a columnar message (volume as float64, as indicator maths wants).

    Raises
    ------
    ValidationError
        ``DATA-010`` naming ``bars`` when the columns differ in length.
    """
    return Bars(msg.timestamps_us, msg.open, msg.high, msg.low, msg.close, msg.volume)


def bars_to_columns(bars: Bars) -> common_pb2.BarColumns:
    """The columnar message of ``bars`` (volume rounded to integers, as the contract has it)."""
    return common_pb2.BarColumns(
        timestamps_us=bars.timestamps_us.tolist(),
        open=bars.open.tolist(),
        high=bars.high.tolist(),
        low=bars.low.tolist(),
        close=bars.close.tolist(),
        volume=bars.volume.astype(np.int64).tolist(),
    )


def bars_from_rows(rows: Sequence[common_pb2.Bar]) -> Bars:
    """Row-form bars (``repeated Bar``) as :class:`Bars`."""
    n = len(rows)
    stamps = np.fromiter(
        (b.timestamp.seconds * 1_000_000 + b.timestamp.nanos // 1000 for b in rows),
        dtype=np.int64,
        count=n,
    )
    prices = [np.fromiter((getattr(b, k) for b in rows), np.float64, count=n) for k in OHLCV]
    return Bars(stamps, *prices)


def bars_to_rows(bars: Bars) -> list[common_pb2.Bar]:
    """Row-form bars from :class:`Bars`."""
    rows = zip(
        (int(s) for s in bars.timestamps_us // 1_000_000),
        (int(n) for n in (bars.timestamps_us % 1_000_000) * 1000),
        bars.open.tolist(),
        bars.high.tolist(),
        bars.low.tolist(),
        bars.close.tolist(),
        bars.volume.astype(np.int64).tolist(),
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


def timestamps_to_us(stamps: Iterable[Timestamp]) -> np.ndarray:
    """``google.protobuf.Timestamp`` values as int64 epoch microseconds."""
    return np.asarray([t.seconds * 1_000_000 + t.nanos // 1000 for t in stamps], dtype=np.int64)


def value_column(
    name: str, values: np.ndarray, ready: np.ndarray | None = None
) -> common_pb2.ValueColumn:
    """A named column; ``ready`` defaults to "not NaN"."""
    arr = np.asarray(values, dtype=np.float64)
    flags = ~np.isnan(arr) if ready is None else np.asarray(ready, dtype=bool)
    return common_pb2.ValueColumn(name=name, values=arr.tolist(), ready=flags.tolist())


def frame_to_value_columns(frame: ValueFrame) -> list[common_pb2.ValueColumn]:
    """One ``ValueColumn`` per column of ``frame``, in order."""
    return [value_column(name, frame.values[:, j]) for j, name in enumerate(frame.names)]


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


def value_columns_to_frame(
    timestamps_us: np.ndarray | Sequence[int], columns: Iterable[common_pb2.ValueColumn]
) -> ValueFrame:
    """A :class:`ValueFrame` of named columns over ``timestamps_us``.

    Raises
    ------
    ValueError
        When a column's length differs from the timestamps' (the caller maps it).
    """
    stamps = np.asarray(timestamps_us, dtype=np.int64)
    return ValueFrame.from_columns(stamps, value_columns_to_arrays(columns, len(stamps)))


def parameters_struct(values: Mapping[str, object]) -> struct_pb2.Struct:
    """Indicator parameters as a ``Struct`` (numbers travel as doubles; the catalogue turns an
    integral double back into an int parameter)."""
    out = struct_pb2.Struct()
    out.update(dict(values))
    return out


# The dict form below is what the data service still uses (its branch moves it to Bars); new
# code converts with the Bars functions above.


def columns_to_arrays(msg: common_pb2.BarColumns) -> dict[str, np.ndarray]:
    """``timestamps_us`` and OHLCV arrays of a columnar message.

    Raises
    ------
    ValueError
        When the columns have different lengths (the caller maps it to INVALID_ARGUMENT).
    """
    arrays = {
        "timestamps_us": np.asarray(msg.timestamps_us, dtype=np.int64),
        **{k: np.asarray(getattr(msg, k), dtype=np.float64) for k in OHLCV},
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
    return bars_to_columns(Bars(timestamps_us, open_, high, low, close, volume))


def arrays_to_bars(
    timestamps_us: np.ndarray, columns: Mapping[str, np.ndarray]
) -> list[common_pb2.Bar]:
    """Row-form bars from arrays (``columns`` holds open, high, low, close, volume)."""
    return bars_to_rows(Bars(timestamps_us, *(columns[k] for k in OHLCV)))


def concat_arrays(parts: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Join batches from :func:`columns_to_arrays` (empty columns when there are none)."""
    if not parts:
        return columns_to_arrays(common_pb2.BarColumns())
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
