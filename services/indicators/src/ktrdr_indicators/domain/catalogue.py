"""The indicator catalogue: lookup, validation and configured indicators.

Typical use::

    ind = create("macd", {"fast": 12, "slow": 26, "signal": 9})
    ind.name        # "macd_12_26_9"
    ind.columns     # ("macd_12_26_9.line", "macd_12_26_9.signal", "macd_12_26_9.histogram")
    ind.compute(bars)   # {column: float64 array}, NaN = not ready / invalid bar
    s = ind.stream(); s.update(o, h, l, c, v)   # -> tuple, one float per output

``bars`` is always a :class:`ktrdr_core.bars.Bars`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.batch import PreparedBars, run_batch
from ktrdr_indicators.domain.metadata import CATEGORIES, IndicatorInfo, Params
from ktrdr_indicators.domain.registry import Definition, native_definitions
from ktrdr_indicators.domain.streams import StreamingIndicator


@cache
def _registry() -> tuple[dict[str, Definition], dict[str, str]]:
    from ktrdr_indicators.domain import pta  # lazy: imports pandas / pandas-ta-classic

    entries: dict[str, Definition] = {d.info.name: d for d in native_definitions()}
    for d in pta.definitions():
        if d.info.name not in entries:
            entries[d.info.name] = d
    aliases: dict[str, str] = {}
    for e in entries.values():
        for a in e.info.aliases:
            if a not in entries:
                aliases.setdefault(a, e.info.name)
    return entries, aliases


def _lookup(name: str) -> Definition:
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
    params: Params
    name: str
    columns: tuple[str, ...]
    _definition: Definition = field(repr=False, compare=False)

    @property
    def warmup(self) -> int:
        """Leading bars that are NaN (not ready) on clean data."""
        return self.info.warmup(self.params)

    @property
    def source(self) -> str:
        """The price series read where the indicator reads ``close`` (default ``close``)."""
        return str(self.params.get("source", "close"))

    def compute(self, bars: Bars) -> dict[str, np.ndarray]:
        """Batch mode: one float64 array per output column, same length as the bars.

        NaN marks not-ready bars (warm-up; fewer bars than the warm-up gives all NaN) and
        bars where an input this indicator reads is NaN/inf (skipped, see streaming).

        Raises
        ------
        ValidationError
            IND-007 when ``bars`` is not a :class:`~ktrdr_core.bars.Bars`.
        """
        return self.compute_prepared(PreparedBars(bars))

    def compute_prepared(self, bars: PreparedBars) -> dict[str, np.ndarray]:
        """:meth:`compute` on bars already prepared by
        :class:`~ktrdr_indicators.domain.batch.PreparedBars` (shared by an ``IndicatorSet``, so
        its members do not each redo the NaN/inf checks)."""
        outs = run_batch(self._definition, bars, self.params)
        return dict(zip(self.columns, outs, strict=True))

    def stream(self) -> StreamingIndicator:
        """A fresh streaming object (its own state) for this configuration."""
        return self._definition.make_stream(self.params)


def create(name: str, params: Params | None = None) -> Indicator:
    """Validate ``params`` for indicator ``name`` and return the configured indicator.

    Raises
    ------
    NotFoundError
        IND-001 unknown indicator (with suggestions).
    ValidationError
        IND-002..IND-006, see :mod:`ktrdr_indicators.domain.errors`.
    """
    definition = _lookup(name)
    info = definition.info
    resolved = info.resolve(params)
    instance = info.instance_name(resolved)
    return Indicator(info, resolved, instance, info.columns(instance), definition)
