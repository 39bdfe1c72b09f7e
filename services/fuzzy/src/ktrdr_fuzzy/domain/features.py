"""A strategy's feature matrix: planned once, computed in batch or bar by bar with one function.

* :func:`plan_features` resolves what a strategy (or a request's subset of its sets) needs: the
  ordered features (``ktrdr_core.strategy.features``), and per timeframe the fuzzy sets to
  fuzzify and the indicator columns to read;
* :func:`compute_features` turns aligned indicator columns into the feature matrix (vectorised;
  memberships and raw values);
* :class:`FeatureCalculator` is ``CalculateFuzzy``: indicator values on stored base bars from an
  :class:`~ktrdr_fuzzy.domain.sources.IndicatorSource` (higher timeframes computed there and
  aligned without look-ahead), then :func:`compute_features`;
* :class:`FeatureStream` is the same computation on the batches of a multi-timeframe indicator
  stream (columns ``{timeframe}_{indicator_ref}``), as ``StreamFuzzy`` with ``features`` runs it.

Both paths evaluate the same membership functions on the same indicator values (a stream's
batch of a few bars through their scalar form, identical by the membership contract), so their
features are equal whenever their indicator values are.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np

from ktrdr_core.dates import to_us
from ktrdr_core.errors import KtrdrError, ValidationError, suggest
from ktrdr_core.offload import Offload
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.strategy.features import FeatureSpec, feature_name, resolve_features
from ktrdr_core.timeframes import Timeframe, parse_timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_fuzzy.domain import errors as codes
from ktrdr_fuzzy.domain.engine import FuzzyEngine
from ktrdr_fuzzy.domain.sources import IndicatorSource

#: Features one ``CalculateFuzzy`` may expand to (memberships and raw values).
MAX_FEATURES = 256
#: Feature values (bars answered x features) one ``CalculateFuzzy`` may answer; longer ranges
#: stream (``StreamFuzzy``). The bars are also bounded by the indicator service (500,000).
MAX_FEATURE_VALUES = 8_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class FeaturePlan:
    """What a strategy's features need.

    ``features`` are the output columns in order; ``sets`` maps each timeframe to the fuzzy sets
    fuzzified there, ``columns`` to the indicator references read there (the sets' and the raw
    features'), both in first-use order.
    """

    base: Timeframe
    features: tuple[FeatureSpec, ...]
    sets: dict[str, tuple[str, ...]]
    columns: dict[str, tuple[str, ...]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def indicator_ids(self, timeframe: str) -> tuple[str, ...]:
        """The strategy indicator ids whose values ``timeframe`` reads."""
        return tuple(dict.fromkeys(ref.split(".", 1)[0] for ref in self.columns[timeframe]))


def plan_features(
    strategy: Strategy, *, base: Timeframe | None = None, fuzzy_sets: Sequence[str] = ()
) -> FeaturePlan:
    """The strategy's features on ``base`` bars (default: its base timeframe).

    ``fuzzy_sets`` restricts the features to those sets' memberships (raw features are then
    left out); a named set that is no network input is computed on the base timeframe, its
    memberships after the others.

    Raises
    ------
    NotFoundError
        FUZZY-015 for an unknown set in ``fuzzy_sets`` (with close matches).
    ValidationError
        FUZZY-026 when a feature's timeframe is shorter than ``base``.
    """
    base = base or parse_timeframe(strategy.training_data.base_timeframe)
    wanted = list(dict.fromkeys(fuzzy_sets))
    for set_id in wanted:
        strategy.fuzzy_set(set_id)  # NOT_FOUND with suggestions for a misspelt set
    features = [
        f
        for f in resolve_features(strategy)
        if not wanted or (f.kind == "fuzzy" and f.fuzzy_set in wanted)
    ]
    planned = {f.fuzzy_set for f in features}
    for set_id in wanted:
        if set_id not in planned:
            fs = strategy.fuzzy_sets[set_id]
            features.extend(
                FeatureSpec(
                    feature_name(base.code, set_id, m.name),
                    base.code,
                    set_id,
                    m.name,
                    len(features) + i,
                    indicator=fs.indicator,
                )
                for i, m in enumerate(fs.memberships)
            )
    sets: dict[str, list[str]] = {}
    columns: dict[str, list[str]] = {}
    for f in features:
        _check_timeframe(strategy, f.timeframe, base)
        if f.kind == "fuzzy" and f.fuzzy_set not in sets.setdefault(f.timeframe, []):
            sets[f.timeframe].append(f.fuzzy_set)
        if f.indicator not in columns.setdefault(f.timeframe, []):
            columns[f.timeframe].append(f.indicator)
    return FeaturePlan(
        base,
        tuple(features),
        {tf: tuple(s) for tf, s in sets.items()},
        {tf: tuple(c) for tf, c in columns.items()},
    )


def _check_timeframe(strategy: Strategy, timeframe: str, base: Timeframe) -> None:
    if parse_timeframe(timeframe).seconds < base.seconds:
        raise ValidationError(
            codes.TIMEFRAME_TOO_LONG,
            f"Strategy '{strategy.name}' uses {timeframe}, shorter than the {base.code} bars "
            f"requested; ask for '{timeframe}' (or a shorter) timeframe.",
            field="timeframe",
        )


def compute_features(
    plan: FeaturePlan,
    engine: FuzzyEngine,
    values: Mapping[str, Mapping[str, np.ndarray]],
    length: int,
) -> np.ndarray:
    """The feature matrix ``(length, len(plan.features))`` from indicator columns.

    ``values`` maps each timeframe of the plan to its indicator references' columns, all
    aligned onto the same ``length`` bars. Memberships of NaN are NaN; raw features are the
    values themselves.
    """
    blocks: dict[str, np.ndarray] = {}
    for tf, set_ids in plan.sets.items():
        names, matrix = engine.fuzzify(values[tf], sets=list(set_ids), prefix=f"{tf}_")
        blocks.update({name: matrix[:, j] for j, name in enumerate(names)})
    out = np.empty((length, len(plan.features)), dtype=np.float64)
    for j, f in enumerate(plan.features):
        out[:, j] = blocks[f.name] if f.kind == "fuzzy" else values[f.timeframe][f.indicator]
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureRequest:
    """``CalculateFuzzy``: the features on stored ``timeframe`` bars of ``symbol`` (default: the
    strategy's base timeframe), ``start <= t < end``, optionally only some fuzzy sets'."""

    symbol: str
    timeframe: Timeframe | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    fuzzy_sets: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Features:
    """Feature values (one column per feature, in order) and what each column is."""

    values: ValueFrame
    features: tuple[FeatureSpec, ...]


class FeatureCalculator:
    """Computes a strategy's features on stored bars (``CalculateFuzzy``).

    Parameters
    ----------
    indicators
        Where indicator values come from.
    offload
        Runs the fuzzification (default ``asyncio.to_thread``).
    """

    def __init__(
        self, indicators: IndicatorSource, *, offload: Offload = asyncio.to_thread
    ) -> None:
        self._indicators = indicators
        self._offload = offload

    async def calculate(self, strategy: Strategy, request: FeatureRequest) -> Features:
        """The features of ``request``.

        Indicators are computed over the whole stored history up to ``end`` and then cut to
        ``start``, so the first bars are past warm-up; higher timeframes are resampled from the
        base bars and aligned back onto them.

        Raises
        ------
        KtrdrError
            As :func:`plan_features`; FUZZY-028 more than :data:`MAX_FEATURES` features
            (before any indicator is asked for) or more than :data:`MAX_FEATURE_VALUES`
            feature values (once the first indicator's bars are known, before the others);
            the indicator source's errors with their field mapped onto this request
            (``source.symbol`` -> ``symbol``).
        """
        plan = plan_features(strategy, base=request.timeframe, fuzzy_sets=request.fuzzy_sets)
        _check_size(len(plan.features), MAX_FEATURES, "features", field="fuzzy_sets")
        stamps: np.ndarray | None = None  # the base bars' (every frame is aligned onto them)
        keep = np.empty(0, bool)
        values: dict[str, dict[str, np.ndarray]] = {}
        for tf in plan.columns:
            columns: dict[str, np.ndarray] = {}
            for indicator_id in plan.indicator_ids(tf):
                frame = await self._values(strategy, indicator_id, request, plan.base, tf)
                if stamps is None:
                    stamps = frame.timestamps_us
                    keep = _range(stamps, request.start, request.end)
                    cells = int(keep.sum()) * len(plan.features)
                    _check_size(cells, MAX_FEATURE_VALUES, "feature values", field="start_date")
                columns.update(frame.columns())
            values[tf] = columns
        if stamps is None:
            stamps = np.empty(0, np.int64)
        cut = {tf: {k: v[keep] for k, v in cols.items()} for tf, cols in values.items()}
        engine = FuzzyEngine(strategy.fuzzy_sets)
        matrix = await self._offload(compute_features, plan, engine, cut, int(keep.sum()))
        return Features(ValueFrame(stamps[keep], plan.names, matrix), plan.features)

    async def _values(
        self,
        strategy: Strategy,
        indicator_id: str,
        request: FeatureRequest,
        base: Timeframe,
        timeframe: str,
    ) -> ValueFrame:
        compute = None if timeframe == base.code else parse_timeframe(timeframe)
        try:
            return await self._indicators.values(
                strategy.indicators[indicator_id],
                symbol=request.symbol,
                timeframe=base,
                compute_timeframe=compute,
                end=request.end,
            )
        except KtrdrError as exc:
            raise _onto_request(exc, indicator_id) from exc


def _onto_request(error: KtrdrError, indicator_id: str) -> KtrdrError:
    """An indicator request's error with its field named as in this request: the stored
    selection's fields are ours (``source.symbol`` -> ``symbol``), the rest belong to the
    strategy's indicator (``parameters.period`` -> ``indicators.<id>.parameters.period``)."""
    if not error.field:
        return error
    if error.field.startswith("source."):
        return error.at(error.field.removeprefix("source."))
    return error.under(f"indicators.{indicator_id}")


def _check_size(count: int, limit: int, what: str, *, field: str) -> None:
    """FUZZY-028 naming ``field`` when a calculation would answer more than ``limit``."""
    if count > limit:
        raise ValidationError(
            codes.TOO_MANY,
            f"The calculation would answer {count:,} {what}; one calculation answers at most "
            f"{limit:,}: narrow the range ('start_date', 'end_date') or the 'fuzzy_sets', or "
            "stream the features through StreamFuzzy.",
            field=field,
        )


def _range(stamps: np.ndarray, start: dt.datetime | None, end: dt.datetime | None) -> np.ndarray:
    keep = np.ones(len(stamps), dtype=bool)
    if start is not None:
        keep &= stamps >= to_us(start)
    if end is not None:
        keep &= stamps < to_us(end)
    return keep


class FeatureStream:
    """A strategy's features per base bar, from the batches of its multi-timeframe indicator
    stream (columns ``{timeframe}_{indicator_ref}``: ``4h_rsi_14``, ``1d_adx_14.adx``).

    It keeps no state: each batch is fuzzified as a whole (vectorised).
    """

    #: Up to this many bars per batch, each value goes through the memberships' scalar
    #: functions (identical to the array path, and much cheaper on a few values).
    SCALAR_ROWS = 8

    def __init__(self, strategy: Strategy, *, base: Timeframe | None = None) -> None:
        self.plan = plan_features(strategy, base=base)
        self._engine = FuzzyEngine(strategy.fuzzy_sets)
        self._scalar = [
            (
                f"{f.timeframe}_{f.indicator}",
                strategy.fuzzy_sets[f.fuzzy_set].membership(f.membership).function.scalar
                if f.kind == "fuzzy"
                else None,
            )
            for f in self.plan.features
        ]
        #: The indicator columns read, in first-use order.
        self.input_columns: tuple[str, ...] = tuple(
            f"{tf}_{ref}" for tf, refs in self.plan.columns.items() for ref in refs
        )
        #: The feature names, in the strategy's resolved order.
        self.names: tuple[str, ...] = self.plan.names

    def update(self, values: ValueFrame) -> ValueFrame:
        """The features of a batch of bars.

        Raises
        ------
        ValidationError
            FUZZY-019 naming ``values.<column>`` when a column the strategy reads is missing.
        """
        by_name = values.columns()
        missing = [c for c in self.input_columns if c not in by_name]
        if missing:
            raise ValidationError(
                codes.BAD_ENGINE_INPUT,
                f"No values for {', '.join(missing)}: stream the strategy's indicators on all "
                "its timeframes.",
                field=f"values.{missing[0]}",
                suggestions=suggest(missing[0], by_name),
            )
        if len(values) <= self.SCALAR_ROWS:
            return ValueFrame(values.timestamps_us, self.names, self._rows(by_name, len(values)))
        columns = {
            tf: {ref: by_name[f"{tf}_{ref}"] for ref in refs}
            for tf, refs in self.plan.columns.items()
        }
        matrix = compute_features(self.plan, self._engine, columns, len(values))
        return ValueFrame(values.timestamps_us, self.names, matrix)

    def _rows(self, by_name: Mapping[str, np.ndarray], length: int) -> np.ndarray:
        out = np.empty((length, len(self._scalar)), dtype=np.float64)
        for j, (column, function) in enumerate(self._scalar):
            values = by_name[column].tolist()
            out[:, j] = values if function is None else [function(x) for x in values]
        return out
