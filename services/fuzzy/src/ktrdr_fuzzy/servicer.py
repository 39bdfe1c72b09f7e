"""gRPC servicer of the fuzzy service: thin, over ``ktrdr_fuzzy.domain``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from grpc import aio

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_core.offload import Offload
from ktrdr_fuzzy import convert
from ktrdr_fuzzy.domain import errors as codes
from ktrdr_fuzzy.domain import operations
from ktrdr_fuzzy.domain.features import FeatureCalculator
from ktrdr_fuzzy.domain.sources import IndicatorSource
from ktrdr_fuzzy.domain.strategies import StrategyLibrary
from ktrdr_runtime.servicers import ConfigFirstStream

DESCRIPTOR = fuzzy_pb2.DESCRIPTOR.services_by_name["FuzzyService"]


class FuzzyServiceServicer(fuzzy_pb2_grpc.FuzzyServiceServicer):
    """Converts requests, calls the domain (CPU work through ``offload``), converts answers."""

    def __init__(
        self, strategies: StrategyLibrary, indicators: IndicatorSource, *, offload: Offload
    ) -> None:
        self._strategies = strategies
        self._features = FeatureCalculator(indicators, offload=offload)
        self._offload = offload

    async def ListFuzzySets(
        self, request: fuzzy_pb2.ListFuzzySetsRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.ListFuzzySetsResponse:
        chosen = await operations.select_strategies(
            self._strategies, name=request.strategy, symbol=request.symbol
        )
        return fuzzy_pb2.ListFuzzySetsResponse(
            fuzzy_sets=[
                convert.fuzzy_set(fs, s.name) for s in chosen for fs in s.fuzzy_sets.values()
            ]
        )

    async def GetFuzzySets(
        self, request: fuzzy_pb2.GetFuzzySetsRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.GetFuzzySetsResponse:
        chosen = await operations.select_strategies(
            self._strategies, name=request.strategy, symbol=request.symbol, symbol_required=True
        )
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
        adhoc = (
            convert.adhoc_set("memberships", "value", request.memberships)
            if request.memberships
            else None
        )
        fuzzy_set = await operations.choose_set(
            self._strategies, adhoc=adhoc, strategy=request.strategy, fuzzy_set=request.fuzzy_set
        )
        convert.check_count(len(request.values), convert.MAX_VALUES, "values", "values")
        degrees = await self._offload(operations.memberships, fuzzy_set, request.values)
        return fuzzy_pb2.EvaluateMembershipResponse(
            memberships=[
                fuzzy_pb2.MembershipDegrees(name=m.name, degrees=degrees[:, j].tolist())
                for j, m in enumerate(fuzzy_set.memberships)
            ]
        )

    async def CalculateFuzzy(
        self, request: fuzzy_pb2.CalculateFuzzyRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.CalculateFuzzyResponse:
        """The strategy's features on stored bars (see ``FeatureCalculator``)."""
        # The request's own fields first: a bad date is refused without asking a dependency.
        selection = convert.feature_request(request)
        strategy = await operations.required_strategy(self._strategies, request.strategy)
        result = await self._features.calculate(strategy, selection)
        return await self._offload(convert.features, result)

    async def Infer(
        self, request: fuzzy_pb2.InferRequest, context: aio.ServicerContext
    ) -> fuzzy_pb2.InferResponse:
        result = await self._offload(
            operations.infer, convert.rule_system(request.system), dict(request.inputs)
        )
        return fuzzy_pb2.InferResponse(
            output=result.output,
            activations=[
                fuzzy_pb2.RuleActivation(rule=r, strength=s)
                for r, s in zip(request.system.rules, result.strengths, strict=True)
            ],
        )

    async def StreamFuzzy(
        self,
        request_iterator: AsyncIterator[fuzzy_pb2.StreamFuzzyRequest],
        context: aio.ServicerContext,
    ) -> AsyncIterator[fuzzy_pb2.StreamFuzzyResponse]:
        requests = ConfigFirstStream(request_iterator, code=codes.BAD_STREAM, payload="values")
        spec = convert.stream_spec(await requests.config())
        stream = await operations.open_stream(self._strategies, spec)
        async for values in requests.batches():
            yield await self._offload(_update, stream, values)


def _update(
    stream: operations.ValueStream, values: fuzzy_pb2.IndicatorValues
) -> fuzzy_pb2.StreamFuzzyResponse:
    """One stream batch: convert, update, convert (run off the event loop)."""
    return convert.stream_response(stream.update(convert.stream_values(values)))
