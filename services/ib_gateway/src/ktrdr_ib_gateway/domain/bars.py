"""Bars on their way out: IB's raw bars as sorted, unique, normalised column arrays."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ktrdr_ib_gateway.domain.chunks import BarSize
from ktrdr_ib_gateway.domain.contracts import SecType
from ktrdr_ib_gateway.domain.ports import RawBar
from ktrdr_ib_gateway.domain.timestamps import bar_opens_us


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BarBatch:
    """Bars stamped at their open (epoch us, UTC), oldest first, one per timestamp.

    ``volume`` keeps IB's ``-1`` ("no volume", e.g. MIDPOINT bars) for the data service's
    quality report to repair and count.
    """

    timestamps_us: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    chunk: int = 0
    chunks: int = 0

    def __len__(self) -> int:
        return len(self.timestamps_us)


def to_batch(
    raw: Sequence[RawBar],
    *,
    bar: BarSize,
    sec_type: SecType,
    start_us: int,
    end_us: int,
    after_us: int | None = None,
) -> BarBatch:
    """The bars of ``raw`` opening in ``[start_us, end_us)`` and after ``after_us``.

    Sorted by time; when IB repeats a timestamp the last bar sent wins.
    """
    ts = bar_opens_us([r.stamp for r in raw], bar=bar, sec_type=sec_type)
    values = np.array([r[1:] for r in raw], dtype=np.float64).reshape(len(raw), 5)
    keep = (ts >= start_us) & (ts < end_us)
    if after_us is not None:
        keep &= ts > after_us
    ts, values = ts[keep], values[keep]
    order = np.argsort(ts, kind="stable")
    ts, values = ts[order], values[order]
    last = np.ones(len(ts), dtype=bool)
    last[:-1] = ts[1:] != ts[:-1]
    ts, values = ts[last], values[last]
    return BarBatch(
        timestamps_us=ts,
        open=values[:, 0],
        high=values[:, 1],
        low=values[:, 2],
        close=values[:, 3],
        volume=np.round(values[:, 4]).astype(np.int64),
    )
