"""Batch mode plumbing: bars prepared once per computation, invalid rows skipped.

Each indicator's batch function receives :class:`~ktrdr_core.bars.Bars` in which every column it
reads is finite (invalid rows were removed by :func:`run_batch`) and returns one float64 array
per output in declared order, NaN during warm-up; :func:`run_batch` scatters NaN into the invalid
rows, which therefore influence no other row (the same as streaming).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.metadata import Params
from ktrdr_indicators.domain.streams import all_finite, read_columns, source_series

if TYPE_CHECKING:
    from ktrdr_indicators.domain.registry import Definition


def require_bars(bars: Bars) -> Bars:
    """``bars`` itself, checked to be :class:`~ktrdr_core.bars.Bars` (the one bar type).

    Raises
    ------
    ValidationError
        IND-007 for anything else (a dict of arrays, a DataFrame ...).
    """
    if not isinstance(bars, Bars):
        raise E.ValidationError(
            E.BAD_BARS,
            f"Bars must be ktrdr_core.bars.Bars, got {type(bars).__name__}.",
            field="bars",
        )
    return bars


class PreparedBars:
    """Bars with validity worked out lazily and cached: per column whether every value is finite
    (one ``np.isfinite`` pass), per source the derived price series, per combination of inputs
    the bars restricted to the valid rows. Several indicators over the same bars (an
    ``IndicatorSet``) share one instance, so the NaN/inf checks are done once per column.

    Raises
    ------
    ValidationError
        IND-007 when ``bars`` is not a :class:`~ktrdr_core.bars.Bars`.
    """

    __slots__ = ("_finite", "_rows", "_sources", "bars", "n")

    def __init__(self, bars: Bars) -> None:
        self.bars = require_bars(bars)
        self.n = len(bars)
        self._finite: dict[str, np.ndarray | None] = {}  # None: every value finite
        self._sources: dict[str, np.ndarray] = {}
        self._rows: dict[tuple[tuple[str, ...], str], tuple[np.ndarray | None, Bars]] = {}

    def _source(self, source: str) -> np.ndarray:
        """The price series ``source`` (``close``, ``hl2`` ...), computed once."""
        if source == "close":
            return self.bars.close
        if source not in self._sources:
            self._sources[source] = source_series(self.bars, source)
        return self._sources[source]

    def _finite_mask(self, column: str) -> np.ndarray | None:
        try:
            return self._finite[column]
        except KeyError:
            values = self.bars.column(column)
            res = None if all_finite(values) else np.isfinite(values)
            self._finite[column] = res
            return res

    def rows(self, inputs: Sequence[str], source: str) -> tuple[np.ndarray | None, Bars]:
        """``(idx, bars)``: the indices of the rows where every column read is finite (``None``
        when that is all rows) and the bars restricted to them, ``close`` replaced by the
        ``source`` series when the indicator reads ``close``."""
        key = (tuple(inputs), source)
        hit = self._rows.get(key)
        if hit is None:
            reads = read_columns(inputs, source)
            bars = self.bars
            if "close" in inputs and source != "close":
                bars = dataclasses.replace(bars, close=self._source(source))
            masks = [m for m in (self._finite_mask(f) for f in reads) if m is not None]
            if not masks:
                hit = (None, bars)
            else:
                valid = masks[0]
                for m in masks[1:]:
                    valid = valid & m  # new array: the cached per-column masks stay intact
                idx = np.flatnonzero(valid)
                hit = (idx, bars.take(idx))
            self._rows[key] = hit
        return hit


def run_batch(definition: Definition, bars: PreparedBars, params: Params) -> list[np.ndarray]:
    """Compute ``definition`` on the rows where every input is finite and scatter the results
    back; invalid rows get NaN. When every input is finite the batch function runs on the bars
    as they are (no masking work at all)."""
    info = definition.info
    idx, valid = bars.rows(info.inputs, str(params.get("source", "close")))
    n_out = len(info.outputs)
    if bars.n == 0:
        return [np.empty(0) for _ in range(n_out)]
    if idx is None:
        return [np.asarray(x, dtype=np.float64) for x in definition.batch(valid, params)]
    outs = [np.full(bars.n, np.nan) for _ in range(n_out)]
    if len(idx):
        for full, part in zip(outs, definition.batch(valid, params), strict=True):
            full[idx] = part
    return outs
