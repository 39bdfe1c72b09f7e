"""Fuzzification engine: indicator columns in, membership degrees out (batch and streaming).

* :meth:`FuzzyEngine.fuzzify` evaluates every membership of every set over whole arrays.
* :meth:`FuzzyEngine.stream` returns a :class:`FuzzyStream` whose O(1) ``update`` takes one bar's
  indicator values and gives the same numbers as the batch path, bit for bit (one function
  evaluates every membership through its scalar path, see
  :func:`~ktrdr_core.strategy.membership.row_evaluator`); ``update_many`` takes a batch of
  bars (one streamed message) and evaluates it vectorised, with the same results.
* :func:`fuzzify_features` builds the neural-network feature matrix of a strategy from
  per-timeframe indicator arrays, in :mod:`ktrdr_core.strategy.features` order.

Inputs are keyed by the set's indicator reference (``rsi_14``, ``macd_12_26_9.histogram``);
the set id is accepted as a fallback key. ``NaN`` (indicator not ready) gives ``NaN`` for that
set's memberships only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ktrdr_core.errors import ValidationError, suggest
from ktrdr_core.strategy.fuzzy_sets import FuzzySetDefinition, find_set
from ktrdr_core.strategy.membership import row_evaluator
from ktrdr_fuzzy.domain import errors as codes

if TYPE_CHECKING:
    from ktrdr_core.strategy.document import Strategy


#: Streamed batches of at least this many bars are fuzzified vectorised (smaller: row by row).
VECTOR_MIN_BARS = 64


class FuzzyEngine:
    """Evaluates a collection of fuzzy sets.

    Parameters
    ----------
    fuzzy_sets
        Mapping ``set id -> definition`` (e.g. ``strategy.fuzzy_sets``) or an iterable of
        definitions; order is kept.
    """

    def __init__(
        self, fuzzy_sets: Mapping[str, FuzzySetDefinition] | Iterable[FuzzySetDefinition]
    ) -> None:
        sets = list(fuzzy_sets.values()) if isinstance(fuzzy_sets, Mapping) else list(fuzzy_sets)
        if not sets:
            raise ValidationError(codes.BAD_FUZZY_SET, "FuzzyEngine needs at least one fuzzy set.")
        self.fuzzy_sets: dict[str, FuzzySetDefinition] = {s.id: s for s in sets}
        #: Distinct indicator references, in first-use order: the streaming input order.
        self.input_columns: tuple[str, ...] = tuple(dict.fromkeys(s.indicator for s in sets))
        #: ``{set}_{membership}`` output names, in output order.
        self.column_names: tuple[str, ...] = tuple(
            f"{s.id}_{m.name}" for s in sets for m in s.memberships
        )

    def _column(self, values: Mapping[str, ArrayLike], fs: FuzzySetDefinition) -> ArrayLike:
        if fs.indicator in values:
            return values[fs.indicator]
        if fs.id in values:
            return values[fs.id]
        raise ValidationError(
            codes.BAD_ENGINE_INPUT,
            f"No values for indicator '{fs.indicator}' (fuzzy set '{fs.id}'); got columns "
            f"{', '.join(map(str, values)) or 'none'}.",
            field=f"values.{fs.indicator}",
            suggestions=suggest(fs.indicator, [str(k) for k in values]),
        )

    def fuzzify_set(self, set_id: str, values: ArrayLike) -> np.ndarray:
        """Memberships of one set: array of shape ``(n, n_memberships)``."""
        fs = self._set(set_id)
        x = np.asarray(values, dtype=np.float64).reshape(-1)
        out = np.empty((x.shape[0], len(fs.memberships)), dtype=np.float64)
        for j, m in enumerate(fs.memberships):
            out[:, j] = m.function(x)
        return out

    def fuzzify(
        self,
        values: Mapping[str, ArrayLike],
        *,
        sets: Sequence[str] | None = None,
        prefix: str = "",
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """Evaluate memberships over whole columns.

        Parameters
        ----------
        values
            Indicator reference (or set id) -> 1-D array; all the same length.
        sets
            Restrict to these set ids (in this order); default all, in declaration order.
        prefix
            Prepended to every column name, e.g. ``"1h_"``.

        Returns
        -------
        names, matrix
            ``("{prefix}{set}_{membership}", ...)`` and a float64 array ``(n, len(names))``.
        """
        chosen = (
            [self._set(s) for s in sets] if sets is not None else list(self.fuzzy_sets.values())
        )
        cols = [np.asarray(self._column(values, fs), dtype=np.float64) for fs in chosen]
        n = None
        for fs, col in zip(chosen, cols, strict=True):
            if col.ndim != 1 or (n is not None and col.shape[0] != n):
                raise ValidationError(
                    codes.BAD_ENGINE_INPUT,
                    f"Column '{fs.indicator}' must be 1-D and as long as the others "
                    f"(shape {col.shape}, expected ({n},)).",
                    field=f"values.{fs.indicator}",
                )
            n = col.shape[0]
        names = [f"{prefix}{fs.id}_{m.name}" for fs in chosen for m in fs.memberships]
        out = np.empty((n or 0, len(names)), dtype=np.float64)
        j = 0
        for fs, col in zip(chosen, cols, strict=True):
            for m in fs.memberships:
                out[:, j] = m.function(col)
                j += 1
        return tuple(names), out

    def stream(self, input_order: Sequence[str] | None = None) -> FuzzyStream:
        """A streaming evaluator; ``input_order`` fixes the order of sequence inputs."""
        return FuzzyStream(self, input_order)

    def _set(self, set_id: str) -> FuzzySetDefinition:
        return find_set(self.fuzzy_sets, set_id)


class FuzzyStream:
    """Per-bar evaluation in O(number of memberships), identical to the batch path.

    ``update`` accepts a mapping (indicator reference or set id -> float) or a sequence of
    floats in :attr:`input_columns` order, and returns a list of floats in
    :attr:`column_names` order. It keeps no state between bars; "streaming" means one bar at a
    time without array overhead.
    """

    def __init__(self, engine: FuzzyEngine, input_order: Sequence[str] | None = None) -> None:
        cols = tuple(input_order) if input_order is not None else engine.input_columns
        missing = [c for c in engine.input_columns if c not in cols]
        if missing:
            raise ValidationError(
                codes.BAD_ENGINE_INPUT,
                f"input_order lacks {', '.join(missing)}.",
                field="input_order",
            )
        self.input_columns: tuple[str, ...] = cols
        self.column_names = engine.column_names
        pos = {c: i for i, c in enumerate(cols)}
        self._engine = engine
        self._evaluate = row_evaluator(
            [
                (pos[fs.indicator], m.function)
                for fs in engine.fuzzy_sets.values()
                for m in fs.memberships
            ]
        )
        self._set_ids = {fs.id: fs.indicator for fs in engine.fuzzy_sets.values()}
        self._n = len(cols)
        # per input column, a set reading it (resolves a batch's columns by reference or id;
        # None for a column of input_order no set reads)
        first: dict[str, FuzzySetDefinition] = {}
        for fs in engine.fuzzy_sets.values():
            first.setdefault(fs.indicator, fs)
        self._readers = [first.get(c) for c in cols]

    def update(self, values: Mapping[str, float] | Sequence[float]) -> list[float]:
        """Memberships of one bar (``NaN`` in -> ``NaN`` for that set's memberships)."""
        if isinstance(values, (list, tuple)):  # the tuple form is faster than list | tuple
            if len(values) != self._n:
                raise self._count_error(len(values))
            return self._evaluate(values)
        if isinstance(values, Mapping):
            try:
                return self._evaluate([values[c] for c in self.input_columns])
            except KeyError:
                return self._evaluate(self._row_from_mapping(values))
        if len(values) != self._n:
            raise self._count_error(len(values))
        return self._evaluate(values)

    def update_many(self, values: Mapping[str, ArrayLike]) -> np.ndarray:
        """Memberships of a batch of bars: ``(n, len(column_names))``, row ``i`` equal to
        :meth:`update` of bar ``i`` bit for bit. Batches of :data:`VECTOR_MIN_BARS` bars or
        more are evaluated vectorised (NumPy over whole columns); smaller ones row by row,
        where NumPy's per-call overhead would cost more than it saves.

        Parameters
        ----------
        values
            Indicator reference (or set id) -> 1-D array, one value per bar.
        """
        engine = self._engine
        read = [
            np.asarray(engine._column(values, fs), dtype=np.float64).reshape(-1)
            for fs in self._readers
            if fs is not None
        ]
        n = len(read[0]) if read else 0
        if n >= VECTOR_MIN_BARS or any(len(c) != n for c in read):
            return engine.fuzzify(values)[1]  # (also reports ragged columns)
        filler = [0.0] * n  # a column of input_order that no set reads
        it = iter(read)
        columns = [next(it).tolist() if fs is not None else filler for fs in self._readers]
        evaluate = self._evaluate
        rows = [evaluate(row) for row in zip(*columns, strict=True)]
        flat = np.fromiter(chain.from_iterable(rows), np.float64, n * len(self.column_names))
        return flat.reshape(n, len(self.column_names))

    def _count_error(self, got: int) -> ValidationError:
        return ValidationError(
            codes.BAD_ENGINE_INPUT,
            f"Expected {self._n} values ({', '.join(self.input_columns)}), got {got}.",
            field="values",
        )

    def update_array(self, values: Mapping[str, float] | Sequence[float]) -> np.ndarray:
        """As :meth:`update`, as a float64 array."""
        return np.asarray(self.update(values), dtype=np.float64)

    def _row_from_mapping(self, values: Mapping[str, float]) -> list[float]:
        by_ref = dict(values)
        for set_id, ref in self._set_ids.items():
            if ref not in by_ref and set_id in values:
                by_ref[ref] = values[set_id]
        missing = [c for c in self.input_columns if c not in by_ref]
        if missing:
            raise ValidationError(
                codes.BAD_ENGINE_INPUT,
                f"No value for {', '.join(missing)}; got {', '.join(map(str, values))}.",
                field=f"values.{missing[0]}",
                suggestions=suggest(missing[0], [str(k) for k in values]),
            )
        return [by_ref[c] for c in self.input_columns]


def fuzzify_features(
    strategy: Strategy, values_by_timeframe: Mapping[str, Mapping[str, ArrayLike]]
) -> tuple[tuple[str, ...], np.ndarray]:
    """The strategy's neural-network feature matrix.

    Parameters
    ----------
    strategy
        A loaded strategy.
    values_by_timeframe
        Timeframe code -> (indicator reference -> array), every array already aligned to the
        same bars (normally the base timeframe's).

    Returns
    -------
    names, matrix
        :func:`ktrdr_core.strategy.features.feature_names` order and ``(n, n_features)``.
    """
    from ktrdr_core.strategy.features import resolve_features

    specs = resolve_features(strategy)
    engine = FuzzyEngine(strategy.fuzzy_sets)
    blocks: dict[str, dict[str, np.ndarray]] = {}
    for tf in dict.fromkeys(s.timeframe for s in specs):
        if tf not in values_by_timeframe:
            raise ValidationError(
                codes.BAD_ENGINE_INPUT,
                f"No indicator values for timeframe {tf}.",
                field=f"values_by_timeframe.{tf}",
                suggestions=suggest(tf, values_by_timeframe, cutoff=0.3),
            )
        sets = list(dict.fromkeys(s.fuzzy_set for s in specs if s.timeframe == tf))
        names, mat = engine.fuzzify(values_by_timeframe[tf], sets=sets, prefix=f"{tf}_")
        blocks[tf] = {n: mat[:, i] for i, n in enumerate(names)}
    lengths = {len(next(iter(b.values()))) for b in blocks.values()}
    if len(lengths) > 1:
        raise ValidationError(
            codes.BAD_ENGINE_INPUT,
            f"Timeframes have different lengths {sorted(lengths)}; align them to the base "
            "timeframe first.",
            field="values_by_timeframe",
        )
    n = lengths.pop() if lengths else 0
    out = np.empty((n, len(specs)), dtype=np.float64)
    for s in specs:
        out[:, s.index] = blocks[s.timeframe][s.name]
    return tuple(s.name for s in specs), out
