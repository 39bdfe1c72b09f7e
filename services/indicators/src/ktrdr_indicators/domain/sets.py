"""Indicator sets: several configured indicators computed / streamed together."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
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


# Callers of four TA-Lib handles at once, one per argument shape: four direct calls in one Python
# frame (a loop or ``map`` over handles costs about as much again as the handles themselves).
# A group of fewer single-output handles is padded with a builtin taking the same arguments
# (``float`` or ``min``: no Python frame), whose outputs are dropped; handles answering tuples
# left over are called one by one.
Run = Callable[[float, float, float, float, float], tuple[float, ...]]
Handle = Callable[..., Any]


def _four_c(u0: Handle, u1: Handle, u2: Handle, u3: Handle) -> Run:
    return lambda o, h, lo, c, v: (u0(c), u1(c), u2(c), u3(c))


def _four_hl(u0: Handle, u1: Handle, u2: Handle, u3: Handle) -> Run:
    return lambda o, h, lo, c, v: (u0(h, lo), u1(h, lo), u2(h, lo), u3(h, lo))


def _four_hlc(u0: Handle, u1: Handle, u2: Handle, u3: Handle) -> Run:
    return lambda o, h, lo, c, v: (u0(h, lo, c), u1(h, lo, c), u2(h, lo, c), u3(h, lo, c))


def _four_hlcv(u0: Handle, u1: Handle, u2: Handle, u3: Handle) -> Run:
    def run(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        return (u0(h, lo, c, v), u1(h, lo, c, v), u2(h, lo, c, v), u3(h, lo, c, v))

    return run


def _four_cv(u0: Handle, u1: Handle, u2: Handle, u3: Handle) -> Run:
    return lambda o, h, lo, c, v: (u0(c, v), u1(c, v), u2(c, v), u3(c, v))


def _four_c_tuples(u0: Handle, u1: Handle, u2: Handle, u3: Handle) -> Run:
    return lambda o, h, lo, c, v: (*u0(c), *u1(c), *u2(c), *u3(c))


def _four_hlc_tuples(u0: Handle, u1: Handle, u2: Handle, u3: Handle) -> Run:
    return lambda o, h, lo, c, v: (*u0(h, lo, c), *u1(h, lo, c), *u2(h, lo, c), *u3(h, lo, c))


def _one_c_tuple(u: Handle) -> Run:
    return lambda o, h, lo, c, v: u(c)  # type: ignore[no-any-return]


def _one_hlc_tuple(u: Handle) -> Run:
    return lambda o, h, lo, c, v: u(h, lo, c)  # type: ignore[no-any-return]


#: (handle inputs, answers a tuple?) -> the caller of four such handles.
_FOUR: dict[tuple[tuple[str, ...], bool], Callable[..., Run]] = {
    (("close",), False): _four_c,
    (("high", "low"), False): _four_hl,
    (("high", "low", "close"), False): _four_hlc,
    (("high", "low", "close", "volume"), False): _four_hlcv,
    (("close", "volume"), False): _four_cv,
    (("close",), True): _four_c_tuples,
    (("high", "low", "close"), True): _four_hlc_tuples,
}
#: A tuple-answering handle called alone, per argument shape.
_ONE_TUPLE: dict[tuple[str, ...], Callable[[Handle], Run]] = {
    ("close",): _one_c_tuple,
    ("high", "low", "close"): _one_hlc_tuple,
}
#: An armed fast path: the callers of the handles, the members called through their own
#: ``update``, and the reordering of the joined outputs into set order.
Plan = tuple[tuple[Run, ...], tuple[StreamingIndicator, ...], Callable[[list[float]], Any]]


def _fast_path(slow: UpdateFn) -> tuple[UpdateFn, Callable[[Plan | None], None]]:
    """The per-bar function of a set with a fast path, and ``arm(plan)``: once armed (see
    :func:`_plan`), a bar whose five values are all finite calls the TA-Lib handles of the
    inlined members four at a time and the other members through their ``update``; any other
    bar takes ``slow``. ``arm(None)`` turns the fast path off."""
    runs: tuple[Run, ...] = ()
    others: tuple[StreamingIndicator, ...] = ()
    order: Callable[[list[float]], Any] = tuple
    armed = False

    def arm(plan: Plan | None) -> None:
        nonlocal runs, others, order, armed
        armed = plan is not None
        if plan is not None:
            runs, others, order = plan

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if (
            armed
            and o - o == 0.0
            and h - h == 0.0
            and lo - lo == 0.0
            and c - c == 0.0
            and v - v == 0.0
        ):
            flat: list[float] = []
            for run in runs:
                flat += run(o, h, lo, c, v)
            for m in others:
                flat += m.update(o, h, lo, c, v)
            return order(flat)  # type: ignore[no-any-return]
        return slow(o, h, lo, c, v)

    return update, arm


def _plan(members: Sequence[StreamingIndicator]) -> Plan:
    """The fast path of ``members`` (see :func:`_fast_path`): the TA-Lib handles of the inlined
    members grouped by caller, four per call, then the other members."""
    grouped: dict[tuple[tuple[str, ...], bool], list[tuple[Handle, list[int]]]] = {}
    others: list[tuple[StreamingIndicator, list[int]]] = []
    start = 0
    for m in members:
        columns = list(range(start, start + len(m.info.outputs)))
        start += len(columns)
        key = _caller_key(m)
        if key is None:
            others.append((m, columns))
        else:
            grouped.setdefault(key, []).append((m.handle_update, columns))  # type: ignore[attr-defined]
    runs: list[Run] = []
    positions: list[int] = []  # set column of each joined output; -1 for a pad's
    for (inputs, tuples), entries in grouped.items():
        for i in range(0, len(entries), 4):
            chunk = entries[i : i + 4]
            pads = 4 - len(chunk)
            if tuples and pads:
                runs += [_ONE_TUPLE[inputs](u) for u, _ in chunk]
            else:
                pad = float if len(inputs) == 1 else min
                runs.append(_FOUR[(inputs, tuples)](*[u for u, _ in chunk], *[pad] * pads))
            positions += [k for _, columns in chunk for k in columns] + [-1] * pads * (not tuples)
    for _, columns in others:
        positions += columns
    where = [0] * start
    for joined, column in enumerate(positions):
        if column >= 0:
            where[column] = joined
    order = itemgetter(*where) if start > 1 else (lambda flat: (flat[where[0]],))
    return tuple(runs), tuple(m for m, _ in others), order


def _caller_key(member: StreamingIndicator) -> tuple[tuple[str, ...], bool] | None:
    """The key of an inlinable member's handle in ``_FOUR``; ``None`` for any other member."""
    if not (isinstance(member, TalibStream) and member.inlinable):
        return None
    key = (member.definition.calls[0].inputs, len(member.info.outputs) > 1)
    return key if key in _FOUR else None


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
        self._arm: Callable[[Plan | None], None] | None = None
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
                self._arm(_plan(self.members))
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
