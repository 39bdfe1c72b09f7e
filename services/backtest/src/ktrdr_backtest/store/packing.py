"""How a run's equity curve is stored: chunks of bars packed as little-endian arrays.

One chunk is ``time_us`` (int64), ``equity``, ``gross_equity`` and ``drawdown_pct`` (float64),
one array after the other: 32 bytes a bar, :data:`CHUNK_BARS` bars a row. Used by the store
and by the migration that introduced it (revision 0002).
"""

from __future__ import annotations

import numpy as np

CHUNK_BARS = 10_000


def pack(time_us: np.ndarray, equity: np.ndarray, gross: np.ndarray, drawdown: np.ndarray) -> bytes:
    """One chunk's bytes (the four columns have the same length)."""
    parts = [np.asarray(time_us).astype("<i8")] + [
        np.asarray(c).astype("<f8") for c in (equity, gross, drawdown)
    ]
    return b"".join(p.tobytes() for p in parts)


def unpack(data: bytes, bars: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``time_us``, ``equity``, ``gross_equity`` and ``drawdown_pct`` of a chunk of ``bars``."""
    if len(data) != 32 * bars:
        raise ValueError(f"an equity chunk of {bars} bars has {len(data)} bytes, not {32 * bars}")
    ts = np.frombuffer(data, dtype="<i8", count=bars).astype(np.int64)
    rest = [
        np.frombuffer(data, dtype="<f8", count=bars, offset=8 * bars * (k + 1)).astype(np.float64)
        for k in range(3)
    ]
    return ts, rest[0], rest[1], rest[2]
