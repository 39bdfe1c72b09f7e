"""gRPC servicer of the fuzzy service: thin, over ``ktrdr_fuzzy.domain``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import numpy as np
from grpc import aio

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import (
    IndicatorValidator,
    Strategy,
    find_strategy,
    list_strategies,
)
from ktrdr_core.strategy.features import feature_name, resolve_features
from ktrdr_core.strategy.fuzzy_sets import FuzzySetDefinition
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_fuzzy import convert
from ktrdr_fuzzy.domain.engine import FuzzyEngine
from ktrdr_fuzzy.domain.inference import FuzzyInference, build_inference_system
from ktrdr_runtime.bars import timestamps, value_column, value_columns_to_arrays
from ktrdr_runtime.grpc_errors import from_rpc_error
from ktrdr_runtime.servicers import ConfigFirstStream

DESCRIPTOR = fuzzy_pb2.DESCRIPTOR.services_by_name["FuzzyService"]


class FuzzyServiceServicer(fuzzy_pb2_grpc.FuzzyServiceServicer):
    def __init__(
        self,
        strategies_dir: Path,
        validator: IndicatorValidator | None,
        indicators: Callable[[], indicators_pb2_grpc.IndicatorServiceStub],
    ) -> None:
        self._dir = strategies_dir
        self._validator = validator
        self._indicators = indicators

    def _strategies(self) -> list[Strategy]:
        return [
            i.strategy
            for i in list_strategies(self._dir, validator=self._validator)
            if i.strategy is not None
        ]

    def _strategy(self, name: str) -> Strategy:
        return find_strategy(self._dir, name, validator=self._validator)

    async def ListFuzzySets(
        self, request: fuzzy_pb2.ListFuzzySetsRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.ListFuzzySetsResponse:
        if request.strategy:
            chosen = [await asyncio.to_thread(self._strategy, request.strategy)]
        else:
            chosen = await asyncio.to_thread(self._strategies)
        if request.symbol:
            chosen = [s for s in chosen if s.applies_to(request.symbol)]
        return fuzzy_pb2.ListFuzzySetsResponse(
            fuzzy_sets=[
                convert.fuzzy_set(fs, s.name) for s in chosen for fs in s.fuzzy_sets.values()
            ]
        )

    async def GetFuzzySets(
        self, request: fuzzy_pb2.GetFuzzySetsRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.GetFuzzySetsResponse:
        if not request.symbol:
            raise ValidationError("FUZZY-020", "'symbol' is required.", field="symbol")
        if request.strategy:
            chosen = [await asyncio.to_thread(self._strategy, request.strategy)]
        else:
            chosen = await asyncio.to_thread(self._strategies)
        chosen = [s for s in chosen if s.applies_to(request.symbol)]
        return fuzzy_pb2.GetFuzzySetsResponse(
            symbol=request.symbol.upper(),
            fuzzy_sets=[
                convert.fuzzy_set(fs, s.name) for s in chosen for fs in s.fuzzy_sets.values()
            ],
            strategies=[s.name for s in chosen],
        )

    async def EvaluateMembership(
        self, request: fuzzy_pb2.EvaluateMembershipRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.EvaluateMembershipResponse:
        if request.memberships and (request.strategy or request.fuzzy_set):
            raise ValidationError(
                "FUZZY-021",
                "Give either 'memberships' or 'strategy' with 'fuzzy_set', not both.",
                field="memberships",
            )
        if request.memberships:
            fuzzy_set = convert.adhoc_set("memberships", "value", request.memberships)
        elif request.strategy and request.fuzzy_set:
            strategy = await asyncio.to_thread(self._strategy, request.strategy)
            fuzzy_set = strategy.fuzzy_set(request.fuzzy_set)
        else:
            raise ValidationError(
                "FUZZY-021",
                "Give 'memberships' to evaluate, or a 'strategy' and its 'fuzzy_set'.",
                field="memberships",
            )
        convert.check_count(len(request.values), convert.MAX_VALUES, "values", "values")
        values = np.asarray(request.values, dtype=np.float64)
        degrees = FuzzyEngine([fuzzy_set]).fuzzify_set(fuzzy_set.id, values)
        return fuzzy_pb2.EvaluateMembershipResponse(
            memberships=[
                fuzzy_pb2.MembershipDegrees(name=m.name, degrees=degrees[:, j].tolist())
                for j, m in enumerate(fuzzy_set.memberships)
            ]
        )

    async def CalculateFuzzy(
        self, request: fuzzy_pb2.CalculateFuzzyRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.CalculateFuzzyResponse:
        """The strategy's features ``{tf}_{set}_{membership}`` on stored ``timeframe`` bars.

        ``timeframe`` names the stored bars (default: the strategy's base timeframe). Sets the
        strategy feeds the network on higher timeframes are computed on those timeframes by the
        indicator service and aligned onto the bars without look-ahead; columns come in the
        strategy's resolved feature order (``fuzzy_sets`` restricts them).
        """
        if not request.strategy:
            raise ValidationError(
                "FUZZY-022", "'strategy' is required: it defines the fuzzy sets.", field="strategy"
            )
        convert.check_range(request.start_date, request.end_date)
        strategy = await asyncio.to_thread(self._strategy, request.strategy)
        base = parse_timeframe(request.timeframe or strategy.training_data.base_timeframe)
        plan = _feature_plan(strategy, list(request.fuzzy_sets), base.code)
        engine = FuzzyEngine(strategy.fuzzy_sets)
        stamps: np.ndarray | None = None
        columns: dict[str, np.ndarray] = {}
        for tf, set_ids in plan.items():
            if parse_timeframe(tf).seconds < base.seconds:
                raise ValidationError(
                    "FUZZY-026",
                    f"Strategy '{strategy.name}' uses {tf}, shorter than the {base.code} bars "
                    f"requested; ask for '{tf}' (or a shorter) timeframe.",
                    field="timeframe",
                )
            sets = [strategy.fuzzy_set(s) for s in set_ids]
            tf_stamps, values = await self._indicator_values(strategy, sets, request, base.code, tf)
            stamps = tf_stamps if stamps is None else stamps
            names, matrix = engine.fuzzify(values, sets=set_ids, prefix=f"{tf}_")
            columns.update({n: matrix[:, j] for j, n in enumerate(names)})
        order = _feature_order(strategy, plan)
        return fuzzy_pb2.CalculateFuzzyResponse(
            timestamps=timestamps(stamps if stamps is not None else []),
            columns=[value_column(n, columns[n]) for n in order],
        )

    async def _indicator_values(
        self,
        strategy: Strategy,
        sets: list[FuzzySetDefinition],
        request: fuzzy_pb2.CalculateFuzzyRequest,
        base: str,
        timeframe: str,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Indicator columns the sets read, computed by the indicator service on stored bars.

        Indicators are computed over the whole stored history up to ``end_date`` and then cut
        to ``start_date``, so the first bars of the range are past their warm-up; on a higher
        ``timeframe`` they are resampled from the ``base`` bars and aligned back onto them.
        """
        needed = dict.fromkeys(fs.indicator.split(".", 1)[0] for fs in sets)
        stub = self._indicators()
        stamps: np.ndarray | None = None
        values: dict[str, np.ndarray] = {}
        for indicator_id in needed:
            spec = strategy.indicators[indicator_id]
            call = indicators_pb2.CalculateIndicatorRequest(
                indicator=spec.type,
                parameters=convert.struct(spec.params),
                source=indicators_pb2.DataSelection(
                    symbol=request.symbol, timeframe=base, end_date=request.end_date
                ),
                compute_timeframe="" if timeframe == base else timeframe,
            )
            try:
                reply = await stub.CalculateIndicator(call)
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc, dependency="indicators") from exc
            ts = np.asarray(
                [t.seconds * 1_000_000 + t.nanos // 1000 for t in reply.timestamps],
                dtype=np.int64,
            )
            stamps = ts if stamps is None else stamps
            columns = value_columns_to_arrays(reply.outputs, len(ts))
            for name, column in columns.items():
                suffix = name[len(reply.indicator_id) :]  # "" or ".<output>"
                values[f"{indicator_id}{suffix}"] = column
        assert stamps is not None
        keep = convert.range_mask(stamps, request.start_date, request.end_date)
        return stamps[keep], {k: v[keep] for k, v in values.items()}

    async def Infer(
        self, request: fuzzy_pb2.InferRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.InferResponse:
        system = build_inference_system(convert.rule_system(request.system))
        engine = FuzzyInference(system)
        inputs = dict(request.inputs)
        missing = [v for v in system.inputs if v not in inputs]
        if missing:
            raise ValidationError(
                "FUZZY-023",
                f"'inputs' lacks a value for {', '.join(missing)}.",
                field=f"inputs.{missing[0]}",
            )
        result = engine.infer(inputs)
        strengths = engine.firing_strengths(inputs)
        return fuzzy_pb2.InferResponse(
            output=float(next(iter(result.values()))),
            activations=[
                fuzzy_pb2.RuleActivation(rule=r, strength=float(s))
                for r, s in zip(request.system.rules, strengths, strict=True)
            ],
        )

    async def StreamFuzzy(
        self,
        request_iterator: AsyncIterator[fuzzy_pb2.StreamFuzzyRequest],
        context: aio.ServicerContext,
    ) -> AsyncIterator[fuzzy_pb2.StreamFuzzyResponse]:
        requests = ConfigFirstStream(request_iterator, code="FUZZY-024", payload="values")
        engine, prefix = await self._stream_engine(await requests.config())
        async for values in requests.batches():
            n = len(values.timestamps_us)
            try:
                columns = value_columns_to_arrays(values.columns, n)
            except ValueError as exc:
                raise ValidationError("FUZZY-025", f"'values': {exc}.", field="values") from None
            names, matrix = engine.fuzzify(columns, prefix=prefix)
            yield fuzzy_pb2.StreamFuzzyResponse(
                timestamps_us=values.timestamps_us,
                columns=[value_column(name, matrix[:, j]) for j, name in enumerate(names)],
            )

    async def _stream_engine(self, config: fuzzy_pb2.StreamFuzzyConfig) -> tuple[FuzzyEngine, str]:
        prefix = (
            f"{parse_timeframe(config.timeframe, field='config.timeframe').code}_"
            if config.timeframe
            else ""
        )
        if config.fuzzy_sets and config.strategy:
            raise ValidationError(
                "FUZZY-021",
                "Give either 'fuzzy_sets' or a 'strategy', not both.",
                field="config.fuzzy_sets",
            )
        if config.strategy:
            strategy = await asyncio.to_thread(self._strategy, config.strategy)
            return FuzzyEngine(strategy.fuzzy_sets), prefix
        if not config.fuzzy_sets:
            raise ValidationError(
                "FUZZY-021",
                "The config needs 'fuzzy_sets' or a 'strategy'.",
                field="config.fuzzy_sets",
            )
        convert.check_count(
            len(config.fuzzy_sets), convert.MAX_SETS, "fuzzy sets", "config.fuzzy_sets"
        )
        sets = [
            convert.adhoc_set(
                f"config.fuzzy_sets[{i}]",
                fs.id or fs.indicator,
                fs.memberships,
                indicator=fs.indicator,
            )
            for i, fs in enumerate(config.fuzzy_sets)
        ]
        return FuzzyEngine(sets), prefix


def _feature_plan(strategy: Strategy, wanted: list[str], base: str) -> dict[str, list[str]]:
    """Timeframe -> set ids to compute there: the strategy's network features, restricted to
    ``wanted`` (a wanted set that is no network input is computed on the base timeframe)."""
    for set_id in wanted:
        strategy.fuzzy_set(set_id)  # NOT_FOUND with suggestions for a misspelt set
    plan: dict[str, list[str]] = {}
    for spec in resolve_features(strategy):
        if not wanted or spec.fuzzy_set in wanted:
            sets = plan.setdefault(spec.timeframe, [])
            if spec.fuzzy_set not in sets:
                sets.append(spec.fuzzy_set)
    planned = {s for sets in plan.values() for s in sets}
    for set_id in wanted:
        if set_id not in planned:
            plan.setdefault(base, []).append(set_id)
    return plan


def _feature_order(strategy: Strategy, plan: dict[str, list[str]]) -> list[str]:
    """Column names in the strategy's resolved feature order, then any extra sets."""
    order = [f.name for f in resolve_features(strategy) if f.fuzzy_set in plan.get(f.timeframe, ())]
    for tf, set_ids in plan.items():
        for set_id in set_ids:
            for m in strategy.fuzzy_sets[set_id].memberships:
                name = feature_name(tf, set_id, m.name)
                if name not in order:
                    order.append(name)
    return order
