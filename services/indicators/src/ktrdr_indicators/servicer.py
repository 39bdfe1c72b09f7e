"""gRPC servicer of the indicator service: thin, over ``ktrdr_indicators.domain``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from grpc import aio

from ktrdr.common.v1 import common_pb2
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.offload import Offload
from ktrdr_indicators import convert
from ktrdr_indicators.domain.calculation import IndicatorCalculator, open_stream
from ktrdr_indicators.domain.catalogue import create, get_info, list_indicators
from ktrdr_indicators.domain.multi_timeframe import MultiTimeframeStream
from ktrdr_indicators.domain.sources import BarSource
from ktrdr_runtime.servicers import ConfigFirstStream

DESCRIPTOR = indicators_pb2.DESCRIPTOR.services_by_name["IndicatorService"]


class IndicatorServiceServicer(indicators_pb2_grpc.IndicatorServiceServicer):
    """Converts requests, calls the domain (CPU work through ``offload``), converts answers."""

    def __init__(self, bars: BarSource, *, offload: Offload) -> None:
        self._bars = bars
        self._offload = offload
        self._calculator = IndicatorCalculator(bars, offload=offload)

    async def ListIndicators(
        self, request: indicators_pb2.ListIndicatorsRequest, context: aio.ServicerContext
    ) -> indicators_pb2.ListIndicatorsResponse:
        infos = await self._offload(list_indicators, request.category or None)
        return indicators_pb2.ListIndicatorsResponse(
            indicators=[convert.indicator_info(i) for i in infos]
        )

    async def GetIndicatorInfo(
        self, request: indicators_pb2.GetIndicatorInfoRequest, context: aio.ServicerContext
    ) -> indicators_pb2.GetIndicatorInfoResponse:
        info = await self._offload(get_info, request.name)
        return indicators_pb2.GetIndicatorInfoResponse(indicator=convert.indicator_info(info))

    async def ValidateIndicator(
        self, request: indicators_pb2.ValidateIndicatorRequest, context: aio.ServicerContext
    ) -> indicators_pb2.ValidateIndicatorResponse:
        parameters = convert.parameters(request.parameters)
        indicator = await self._offload(create, request.indicator, parameters)
        return convert.validation(indicator)

    async def CalculateIndicator(
        self, request: indicators_pb2.CalculateIndicatorRequest, context: aio.ServicerContext
    ) -> indicators_pb2.CalculateIndicatorResponse:
        calculation = await self._offload(convert.calculate_request, request)
        result = await self._calculator.calculate(calculation)
        return await self._offload(convert.calculation, result)

    async def StreamIndicators(
        self,
        request_iterator: AsyncIterator[indicators_pb2.StreamIndicatorsRequest],
        context: aio.ServicerContext,
    ) -> AsyncIterator[indicators_pb2.StreamIndicatorsResponse]:
        requests = ConfigFirstStream(request_iterator, code="IND-014", payload="bars")
        stream = await open_stream(convert.stream_config(await requests.config()), self._bars)
        async for bars in requests.batches():
            yield await self._offload(_update, stream, bars)


def _update(
    stream: MultiTimeframeStream, bars: common_pb2.BarColumns
) -> indicators_pb2.StreamIndicatorsResponse:
    """One stream batch: convert, update, convert (run off the event loop)."""
    return convert.stream_response(stream.update(convert.stream_bars(bars)))
