"""Helpers for the indicator tests (bars from the samples, streaming a whole series)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ktrdr_core.bars import Bars, index_to_us

FIELDS = ("open", "high", "low", "close", "volume")


def bars_of(df: pd.DataFrame) -> Bars:
    """A backtesting.py sample (Open ... Volume columns) as core Bars."""
    return Bars(index_to_us(df.index), *(df[k.capitalize()].to_numpy(np.float64) for k in FIELDS))


def head(bars: Bars, m: int) -> Bars:
    """The first ``m`` bars."""
    return bars.take(slice(0, m))


def replace(bars: Bars, **columns: np.ndarray) -> Bars:
    """``bars`` with some columns replaced."""
    return dataclasses.replace(bars, **columns)


def from_columns(**columns: np.ndarray) -> Bars:
    """Bars from price columns (timestamps 0, 1, 2 ...)."""
    n = len(columns["close"])
    return Bars(np.arange(n, dtype=np.int64), *(columns[f] for f in FIELDS))


def rows(bars: Bars) -> list[tuple[float, ...]]:
    """The bars as ``(open, high, low, close, volume)`` tuples of Python floats."""
    return list(zip(*(bars.column(f).tolist() for f in FIELDS), strict=True))


def stream_all(ind, bars: Bars) -> dict[str, np.ndarray]:
    """Stream every bar through a fresh streaming object; ``{column: array}``."""
    s = ind.stream()
    out = [s.update(*r) for r in rows(bars)]
    arr = np.array(out, dtype=np.float64).reshape(len(out), len(ind.columns))
    return {c: arr[:, j] for j, c in enumerate(ind.columns)}
