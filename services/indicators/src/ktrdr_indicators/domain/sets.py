"""Indicator sets: several configured indicators computed / streamed together."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.batch import PreparedBars, require_bars
from ktrdr_indicators.domain.catalogue import Indicator, create
from ktrdr_indicators.domain.streams import StreamingIndicator, UpdateFn, bar_rows, columns_of
from ktrdr_indicators.domain.talib_engine import TalibStream


class IndicatorSet:
    """Configured indicators from specs ``{"id": ..., "indicator": ..., "parameters": {...}}``
    (``id`` optional, defaults to the canonical instance name, e.g. ``rsi_14``).

    Output columns are ordered by spec order then output order: ``id`` for single-output
    indicators, ``id.output`` otherwise.

    Raises
    ------
    ValidationError
        IND-008 duplicate id, IND-009 malformed spec, plus the per-indicator errors (whose
        ``field`` is prefixed with ``indicators[i].``).
    NotFoundError
        IND-001 unknown indicator.
    """

    def __init__(self, specs: Sequence[Mapping[str, Any]]) -> None:
        self.ids: list[str] = []
        self.indicators: list[Indicator] = []
        self.columns: list[str] = []
        seen: dict[str, int] = {}
        for i, spec in enumerate(specs):
            if not isinstance(spec, Mapping) or not isinstance(spec.get("indicator"), str):
                raise E.ValidationError(
                    E.BAD_SPEC,
                    f"Indicator spec #{i} needs a string 'indicator'.",
                    field=f"indicators[{i}].indicator",
                )
            params = spec.get("parameters") or {}
            if not isinstance(params, Mapping):
                raise E.ValidationError(
                    E.BAD_SPEC,
                    f"Indicator spec #{i}: 'parameters' must be a mapping.",
                    field=f"indicators[{i}].parameters",
                )
            try:
                ind = create(spec["indicator"], params)
            except E.ValidationError as exc:
                raise type(exc)(
                    exc.code,
                    exc.message,
                    field=f"indicators[{i}].{exc.field}",
                    suggestions=exc.suggestions,
                    details=exc.details,
                ) from exc
            except E.NotFoundError as exc:
                raise type(exc)(
                    exc.code,
                    exc.message,
                    field=f"indicators[{i}].indicator",
                    suggestions=exc.suggestions,
                ) from exc
            ident = spec.get("id") or ind.name
            if not isinstance(ident, str):
                raise E.ValidationError(
                    E.BAD_SPEC,
                    f"Indicator spec #{i}: 'id' must be text.",
                    field=f"indicators[{i}].id",
                )
            if ident in seen:
                raise E.ValidationError(
                    E.DUPLICATE_ID,
                    f"Duplicate indicator id '{ident}' (specs #{seen[ident]} and #{i}).",
                    field=f"indicators[{i}].id",
                )
            seen[ident] = i
            self.ids.append(ident)
            self.indicators.append(ind)
            self.columns.extend(ind.info.columns(ident))

    @property
    def warmup(self) -> int:
        """Largest warm-up among the members."""
        return max((i.warmup for i in self.indicators), default=0)

    def compute(self, bars: Bars) -> dict[str, np.ndarray]:
        """Batch-compute every member; ordered ``{column: float64 array}``.

        Each column is checked for NaN/inf once; members reading the same inputs share the
        valid-row subset (see :class:`PreparedBars`).

        Raises
        ------
        ValidationError
            IND-007 when ``bars`` is not a :class:`~ktrdr_core.bars.Bars`.
        """
        prepared = PreparedBars(bars)
        out: dict[str, np.ndarray] = {}
        for ident, ind in zip(self.ids, self.indicators, strict=True):
            res = ind.compute_prepared(prepared)
            out.update(zip(ind.info.columns(ident), res.values(), strict=True))
        return out

    def stream(self) -> SetStream:
        """Fresh streaming state for all members."""
        return SetStream([i.stream() for i in self.indicators], list(self.columns))


def _concatenate(members: Sequence[StreamingIndicator]) -> UpdateFn:
    """One function feeding a bar to every member and joining their outputs in one tuple. Each
    member's ``update`` is looked up per bar: a TA-Lib-backed member replaces it once warmed
    up."""
    if len(members) == 1:
        (only,) = members
        return lambda o, h, lo, c, v: only.update(o, h, lo, c, v)
    ordered = tuple(members)

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        out: list[float] = []
        for m in ordered:
            out += m.update(o, h, lo, c, v)
        return tuple(out)

    return update


# Kinds of a fast-path entry: a handle answering one float, a handle answering a tuple, a member
# called through its own ``update``.
_SCALAR, _TUPLE, _MEMBER = 0, 1, 2
Entry = tuple[int, Any, Callable[[tuple[float, ...]], tuple[float, ...]] | None]


def _fast_path(slow: UpdateFn) -> tuple[UpdateFn, Callable[[list[Entry] | None], None]]:
    """The per-bar function of a set with a fast path, and ``arm(plan)``: once armed with a plan
    (one entry per member, in set order: the TA-Lib handles of the inlined members with the
    picker of their arguments, the other members themselves), a bar whose five values are all
    finite calls those handles directly, in one Python frame; any other bar takes ``slow``.
    ``arm(None)`` turns the fast path off."""
    plan: list[Entry] | None = None

    def arm(entries: list[Entry] | None) -> None:
        nonlocal plan
        plan = entries

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if (
            plan is not None
            and o - o == 0.0
            and h - h == 0.0
            and lo - lo == 0.0
            and c - c == 0.0
            and v - v == 0.0
        ):
            bar = (o, h, lo, c, v)
            out: list[float] = []
            for kind, target, pick in plan:
                if kind == _SCALAR:
                    out.append(target(*pick(bar)))  # type: ignore[misc]
                elif kind == _TUPLE:
                    out += target(*pick(bar))  # type: ignore[misc]
                else:
                    out += target.update(o, h, lo, c, v)
            return tuple(out)
        return slow(o, h, lo, c, v)

    return update, arm


class SetStream:
    """Per-stream state of an :class:`IndicatorSet`.

    Per bar, the members' outputs are joined in one tuple. Once every member TA-Lib streams
    as one handle's outputs is warmed up, a bar with five finite values calls those handles
    directly from one function (the other members through their ``update``); other
    bars go member by member, each skipping what it cannot read.

    Parameters
    ----------
    members
        One streaming object per member, in set order.
    columns
        The set's output columns (the members' outputs, in order).
    """

    def __init__(self, members: list[StreamingIndicator], columns: list[str]) -> None:
        self.members = members
        self.columns = columns
        self._per_member = _concatenate(members)
        self._inlined = [m for m in members if isinstance(m, TalibStream) and m.inlinable]
        self._armed = False
        self._arm: Callable[[list[Entry] | None], None] | None = None
        update: UpdateFn = self._per_member
        if self._inlined:
            update, self._arm = _fast_path(self._slow)
        #: Feed one bar; one float per column (NaN = not ready or invalid input).
        self.update: UpdateFn = update

    def _slow(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        """Member by member; arms the fast path once every inlined member is warmed up."""
        out = self._per_member(o, h, lo, c, v)
        if not self._armed and all(m.initialized for m in self._inlined):
            if self._arm is not None:
                self._arm([_entry(m) for m in self.members])
            self._armed = True
        return out

    def update_bars(self, bars: Bars) -> dict[str, np.ndarray]:
        """Feed a batch of bars in order; ``{column: array}`` with one row per bar.

        Raises
        ------
        ValidationError
            IND-007 when ``bars`` is not a :class:`~ktrdr_core.bars.Bars`.
        """
        require_bars(bars)
        update = self.update  # bar by bar through the fast path: as fast as member by member
        values = columns_of([update(*row) for row in bar_rows(bars)], len(self.columns))
        return dict(zip(self.columns, values, strict=True))

    @property
    def initialized(self) -> bool:
        """True once every member is ready."""
        return all(m.initialized for m in self.members)

    def reset(self) -> None:
        """Return every member to its freshly constructed state."""
        for m in self.members:
            m.reset()
        if self._arm is not None:
            self._arm(None)  # the fast path is off until the members warm up again
        self._armed = False


def _entry(member: StreamingIndicator) -> Entry:
    """The fast-path entry of a member (see :func:`_fast_path`)."""
    if isinstance(member, TalibStream) and member.inlinable:
        kind = _SCALAR if len(member.info.outputs) == 1 else _TUPLE
        return (kind, member.handle_update, member.handle_arguments)
    return (_MEMBER, member, None)
