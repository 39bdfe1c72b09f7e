"""The fuzzy service's smaller use cases in domain terms: choosing strategies and sets, one rule
inference, and the streams ``StreamFuzzy`` runs (``CalculateFuzzy`` is
:class:`~ktrdr_fuzzy.domain.features.FeatureCalculator`).

Field names in errors are the request's, so the servicer only converts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.strategy.fuzzy_sets import FuzzySetDefinition
from ktrdr_core.timeframes import Timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_fuzzy.domain import errors as codes
from ktrdr_fuzzy.domain.engine import FuzzyEngine
from ktrdr_fuzzy.domain.features import FeatureStream
from ktrdr_fuzzy.domain.inference import FuzzyInference, build_inference_system
from ktrdr_fuzzy.domain.strategies import StrategyLibrary


async def select_strategies(
    library: StrategyLibrary, *, name: str = "", symbol: str = "", symbol_required: bool = False
) -> list[Strategy]:
    """The strategy ``name`` (every valid one without a name), kept when it trades ``symbol``.

    Raises
    ------
    ValidationError
        FUZZY-020 when ``symbol_required`` and ``symbol`` is empty.
    NotFoundError
        FUZZY-014 for an unknown strategy name (with close matches).
    """
    if symbol_required and not symbol:
        raise ValidationError(codes.SYMBOL_REQUIRED, "'symbol' is required.", field="symbol")
    chosen = [await library.get(name)] if name else await library.all()
    return [s for s in chosen if s.applies_to(symbol)] if symbol else chosen


async def required_strategy(library: StrategyLibrary, name: str) -> Strategy:
    """The strategy ``name``; FUZZY-022 naming ``strategy`` when no name is given."""
    if not name:
        raise ValidationError(
            codes.STRATEGY_REQUIRED,
            "'strategy' is required: it defines the fuzzy sets.",
            field="strategy",
        )
    return await library.get(name)


async def choose_set(
    library: StrategyLibrary,
    *,
    adhoc: FuzzySetDefinition | None,
    strategy: str,
    fuzzy_set: str,
) -> FuzzySetDefinition:
    """The set to evaluate: given ad hoc (``memberships``), or a strategy's ``fuzzy_set``.

    Raises
    ------
    ValidationError
        FUZZY-021 for both or neither.
    """
    if adhoc is not None and (strategy or fuzzy_set):
        raise ValidationError(
            codes.CHOICE,
            "Give either 'memberships' or 'strategy' with 'fuzzy_set', not both.",
            field="memberships",
        )
    if adhoc is not None:
        return adhoc
    if not (strategy and fuzzy_set):
        raise ValidationError(
            codes.CHOICE,
            "Give 'memberships' to evaluate, or a 'strategy' and its 'fuzzy_set'.",
            field="memberships",
        )
    return (await library.get(strategy)).fuzzy_set(fuzzy_set)


@dataclasses.dataclass(frozen=True, slots=True)
class InferenceResult:
    """The crisp output and each rule's firing strength, in rule order."""

    output: float
    strengths: tuple[float, ...]


def infer(system: Mapping[str, Any], inputs: Mapping[str, float]) -> InferenceResult:
    """Run a rule system (its dict form, see ``inference``) once.

    Raises
    ------
    ValidationError
        FUZZY-016..018 for the system, FUZZY-023 naming ``inputs.<name>`` for a missing input.
    """
    built = build_inference_system(system)
    missing = [v for v in built.inputs if v not in inputs]
    if missing:
        raise ValidationError(
            codes.MISSING_INPUT,
            f"'inputs' lacks a value for {', '.join(missing)}.",
            field=f"inputs.{missing[0]}",
        )
    engine = FuzzyInference(built)
    output = next(iter(engine.infer(inputs).values()))
    return InferenceResult(float(output), tuple(float(s) for s in engine.firing_strengths(inputs)))


class ValueStream(Protocol):
    """What ``StreamFuzzy`` runs per batch: indicator columns in, named columns out."""

    def update(self, values: ValueFrame) -> ValueFrame: ...


@dataclasses.dataclass(frozen=True, slots=True)
class StreamSpec:
    """A ``StreamFuzzy`` config: ad-hoc ``fuzzy_sets`` or a ``strategy``'s sets (columns
    ``{prefix}{set}_{membership}``, prefix ``{timeframe}_``), or with ``features`` the strategy's
    features from its multi-timeframe indicator columns."""

    fuzzy_sets: tuple[FuzzySetDefinition, ...] = ()
    strategy: str = ""
    timeframe: Timeframe | None = None
    features: bool = False


class _SetStream:
    def __init__(self, engine: FuzzyEngine, prefix: str) -> None:
        self._engine = engine
        self._prefix = prefix

    def update(self, values: ValueFrame) -> ValueFrame:
        names, matrix = self._engine.fuzzify(values.columns(), prefix=self._prefix)
        return ValueFrame(values.timestamps_us, names, matrix)


async def open_stream(library: StrategyLibrary, spec: StreamSpec) -> ValueStream:
    """The stream ``spec`` describes.

    Raises
    ------
    ValidationError
        FUZZY-021 for conflicting or missing choices (fields under ``config``).
    """
    if spec.fuzzy_sets and spec.strategy:
        raise ValidationError(
            codes.CHOICE,
            "Give either 'fuzzy_sets' or a 'strategy', not both.",
            field="config.fuzzy_sets",
        )
    if spec.features:
        if not spec.strategy or spec.timeframe is not None:
            raise ValidationError(
                codes.CHOICE,
                "'features' takes a 'strategy' and no 'timeframe' (feature names carry theirs).",
                field="config.features",
            )
        return FeatureStream(await library.get(spec.strategy))
    prefix = f"{spec.timeframe.code}_" if spec.timeframe is not None else ""
    if spec.strategy:
        strategy = await library.get(spec.strategy)
        return _SetStream(FuzzyEngine(strategy.fuzzy_sets), prefix)
    if not spec.fuzzy_sets:
        raise ValidationError(
            codes.CHOICE,
            "The config needs 'fuzzy_sets' or a 'strategy'.",
            field="config.fuzzy_sets",
        )
    return _SetStream(FuzzyEngine(spec.fuzzy_sets), prefix)


def memberships(fuzzy_set: FuzzySetDefinition, values: Sequence[float]) -> np.ndarray:
    """Degrees of every membership of ``fuzzy_set``: shape ``(len(values), memberships)``."""
    x = np.asarray(values, dtype=np.float64)
    return FuzzyEngine([fuzzy_set]).fuzzify_set(fuzzy_set.id, x)
