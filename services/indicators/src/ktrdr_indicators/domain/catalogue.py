"""The indicator catalogue: lookup, validation and configured indicators.

Typical use::

    ind = create("macd", {"fast": 12, "slow": 26, "signal": 9})
    ind.name        # "macd_12_26_9"
    ind.columns     # ("macd_12_26_9.line", "macd_12_26_9.signal", "macd_12_26_9.histogram")
    ind.compute(bars)   # {column: float64 array}, NaN = not ready / invalid bar
    s = ind.stream(); s.update(o, h, l, c, v)   # -> tuple, one float per output
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.bars import OHLCV
from ktrdr_indicators.domain.batch import PreparedBars, run_batch
from ktrdr_indicators.domain.metadata import CATEGORIES, SOURCE_PARAM, IndicatorInfo
from ktrdr_indicators.domain.native import NATIVE
from ktrdr_indicators.domain.streaming import SourceStream, StreamingIndicator


@dataclass(frozen=True)
class _Entry:
    info: IndicatorInfo
    impl: Any  # NativeDef or pta.PtaDef


@cache
def _registry() -> tuple[dict[str, _Entry], dict[str, str]]:
    from ktrdr_indicators.domain import pta  # lazy: imports pandas / pandas-ta-classic

    entries: dict[str, _Entry] = {d.info.name: _Entry(_with_source(d.info), d) for d in NATIVE}
    for d in pta.definitions():
        if d.info.name not in entries:
            entries[d.info.name] = _Entry(d.info, d)
    aliases: dict[str, str] = {}
    for e in entries.values():
        for a in e.info.aliases:
            if a not in entries:
                aliases.setdefault(a, e.info.name)
    return entries, aliases


def _with_source(info: IndicatorInfo) -> IndicatorInfo:
    """Single-series native indicators take ``source`` (which price they read)."""
    if tuple(info.inputs) != ("close",) or "source" in info.param_names:
        return info
    return dataclasses.replace(info, params=(*info.params, SOURCE_PARAM))


def _lookup(name: str) -> _Entry:
    entries, aliases = _registry()
    key = str(name).strip().lower()
    key = aliases.get(key, key)
    entry = entries.get(key)
    if entry is None:
        raise E.NotFoundError(
            E.UNKNOWN_INDICATOR,
            f"Unknown indicator '{name}'.",
            field="indicator",
            suggestions=E.suggest(key, list(entries) + list(aliases)),
        )
    return entry


def list_indicators(category: str | None = None, engine: str | None = None) -> list[IndicatorInfo]:
    """All indicator types sorted by name, optionally filtered by category / engine.

    Raises
    ------
    ValidationError
        IND-005 for an unknown category (``field="category"``).
    """
    if category and category not in CATEGORIES:
        raise E.ValidationError(
            E.PARAMETER_CHOICE,
            f"Unknown category '{category}' (one of {list(CATEGORIES)}).",
            field="category",
            suggestions=E.suggest(category, CATEGORIES),
        )
    infos = [e.info for e in _registry()[0].values()]
    return sorted(
        (
            i
            for i in infos
            if (not category or i.category == category) and (not engine or i.engine == engine)
        ),
        key=lambda i: i.name,
    )


def get_info(name: str) -> IndicatorInfo:
    """Metadata of one indicator (name or alias). Raises NotFoundError IND-001."""
    return _lookup(name).info


@dataclass(frozen=True)
class Indicator:
    """One configured indicator (type + validated parameters)."""

    info: IndicatorInfo
    params: Mapping[str, Any]
    name: str
    columns: tuple[str, ...]
    _impl: Any = field(repr=False, compare=False)

    @property
    def warmup(self) -> int:
        """Leading bars that are NaN (not ready) on clean data."""
        return self.info.warmup(self.params)

    def compute(self, bars: OHLCV | Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Batch mode: one float64 array per output column, same length as the bars.

        NaN marks not-ready bars (warm-up; fewer bars than the warm-up gives all NaN) and
        bars where an input this indicator reads is NaN/inf (skipped, see streaming).
        """
        return self.compute_prepared(PreparedBars(bars))

    @property
    def source(self) -> str:
        """The price series read where the indicator reads ``close`` (default ``close``)."""
        return str(self.params.get("source", "close"))

    @property
    def _impl_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if k != "source"}

    def compute_prepared(self, bars: PreparedBars) -> dict[str, np.ndarray]:
        """:meth:`compute` on bars already coerced and validity-checked by
        :class:`~ktrdr_indicators.domain.batch.PreparedBars` (shared by an ``IndicatorSet``, so
        its members do not each redo the coercion and the NaN/inf checks)."""
        outs = run_batch(
            self._impl.batch,
            self.info.inputs,
            bars,
            len(self.columns),
            self._impl_params,
            self.source,
        )
        return dict(zip(self.columns, outs, strict=True))

    def stream(self) -> StreamingIndicator:
        """A fresh streaming object (its own state) for this configuration."""
        inner = self._impl.make_stream(self._impl_params)
        return inner if self.source == "close" else SourceStream(inner, self.source)


def create(name: str, params: Mapping[str, Any] | None = None) -> Indicator:
    """Validate ``params`` for indicator ``name`` and return the configured indicator.

    Raises
    ------
    NotFoundError
        IND-001 unknown indicator (with suggestions).
    ValidationError
        IND-002..IND-006, see :mod:`ktrdr_indicators.domain.errors`.
    """
    entry = _lookup(name)
    resolved = entry.info.resolve(params)
    inst = entry.info.instance_name(resolved)
    return Indicator(entry.info, resolved, inst, entry.info.columns(inst), entry.impl)
