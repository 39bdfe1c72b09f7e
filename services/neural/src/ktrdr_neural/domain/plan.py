"""From a training request to a prepared :class:`TrainingJob` (every check before training)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.strategy.training import parse_network_spec
from ktrdr_neural.domain import errors as codes
from ktrdr_neural.domain.dataset import check_sizes, prepare_dataset, stack
from ktrdr_neural.domain.features import FeatureSource, resolve_schema
from ktrdr_neural.domain.jobs import TrainingJob
from ktrdr_neural.domain.registry import STRATEGY_RE, series_name

MAX_SYMBOLS = 32


@dataclasses.dataclass(frozen=True, slots=True)
class TrainRequest:
    """What a caller asks for: the strategy's symbols unless ``symbols`` names others."""

    symbols: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _symbols(strategy: Strategy, requested: Sequence[str]) -> tuple[str, ...]:
    symbols = tuple(s.strip() for s in requested) or tuple(strategy.symbols)
    if len(set(symbols)) != len(symbols) or not all(symbols):
        raise ValidationError(
            codes.BAD_CONFIG, "'symbols' must list distinct, non-empty symbols.", field="symbols"
        )
    if len(symbols) > MAX_SYMBOLS:
        raise ValidationError(
            codes.BAD_CONFIG,
            f"'symbols' lists {len(symbols)}; a model takes at most {MAX_SYMBOLS}.",
            field="symbols",
        )
    return symbols


def strategy_digest(strategy: Strategy) -> str:
    """SHA-256 of the strategy's indicators, fuzzy sets and inputs (what features depend on)."""
    payload = {
        "indicators": {k: [v.type, v.params] for k, v in strategy.indicators.items()},
        "fuzzy_sets": {
            k: [fs.indicator, [m.to_dict() | {"name": m.name} for m in fs.memberships]]
            for k, fs in strategy.fuzzy_sets.items()
        },
        "features": list(strategy.feature_names()),
        "timeframes": list(strategy.timeframes),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def plan_training(
    source: FeatureSource, strategy: Strategy, request: TrainRequest
) -> TrainingJob:
    """Validate settings, fetch and label the data, split, scale: ready to queue.

    Raises
    ------
    ValidationError
        NEURAL-001 (settings), NEURAL-003 (a strategy name that cannot name a model).
    FailedPreconditionError
        NEURAL-005 (too little data, a class absent), NEURAL-006 (a symbol not stored),
        NEURAL-012 (the source's columns are not the strategy's features).
    """
    spec = parse_network_spec(
        strategy.model,
        strategy.training,
        overrides=request.overrides,
        source=f"strategy '{strategy.name}'",
    )
    if not STRATEGY_RE.fullmatch(strategy.name):
        raise ValidationError(
            codes.BAD_MODEL_NAME,
            f"Strategy name '{strategy.name}' cannot name a model directory: use letters, "
            "digits, '_' and '-' (at most 100).",
            field="strategy",
        )
    symbols = _symbols(strategy, request.symbols)
    timeframe = strategy.training_data.base_timeframe
    schema = resolve_schema(strategy)
    per_symbol = await prepare_dataset(
        source,
        strategy,
        schema=schema,
        spec=spec,
        symbols=symbols,
        timeframe=timeframe,
        start=request.start,
        end=request.end,
    )
    check_sizes(per_symbol, spec)
    dataset = await asyncio.to_thread(stack, per_symbol, schema, spec)
    return TrainingJob(
        strategy=strategy.name,
        symbols=symbols,
        timeframe=timeframe,
        series=series_name(symbols, timeframe),
        spec=spec,
        dataset=dataset,
        settings={
            "model": strategy.model,
            "training": strategy.training,
            "overrides": dict(request.overrides),
            "start_date": request.start.isoformat() if request.start else None,
            "end_date": request.end.isoformat() if request.end else None,
        },
        strategy_digest=strategy_digest(strategy),
    )
