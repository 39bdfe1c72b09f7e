"""gRPC servicer of the ib_gateway service: thin, over ``ktrdr_ib_gateway.domain``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from grpc import aio

from ktrdr.ib_gateway.v1 import ib_gateway_pb2 as pb
from ktrdr.ib_gateway.v1 import ib_gateway_pb2_grpc
from ktrdr_ib_gateway import convert
from ktrdr_ib_gateway.domain import IbGateway, historical_query, live_query

DESCRIPTOR = pb.DESCRIPTOR.services_by_name["IbGatewayService"]


class IbGatewayServiceServicer(ib_gateway_pb2_grpc.IbGatewayServiceServicer):
    def __init__(self, gateway: IbGateway) -> None:
        self._gateway = gateway

    async def GetStatus(
        self, request: pb.GetStatusRequest, context: aio.ServicerContext
    ) -> pb.GetStatusResponse:
        return convert.status(self._gateway.status())

    async def GetHealth(
        self, request: pb.GetHealthRequest, context: aio.ServicerContext
    ) -> pb.GetHealthResponse:
        return convert.health(await self._gateway.health())

    async def QualifyContract(
        self, request: pb.QualifyContractRequest, context: aio.ServicerContext
    ) -> pb.QualifyContractResponse:
        contract = await self._gateway.qualify(convert.contract_request(request))
        return convert.qualified(contract)

    async def GetHeadTimestamp(
        self, request: pb.GetHeadTimestampRequest, context: aio.ServicerContext
    ) -> pb.GetHeadTimestampResponse:
        head = await self._gateway.head_timestamp(
            convert.contract_request(request),
            what_to_show=request.what_to_show,
            use_rth=request.use_rth,
        )
        return pb.GetHeadTimestampResponse(head_timestamp=convert.timestamp(head))

    async def StreamHistoricalBars(
        self, request: pb.StreamHistoricalBarsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[pb.StreamHistoricalBarsResponse]:
        query = historical_query(
            convert.contract_request(request),
            request.timeframe,
            start_date=request.start_date,
            end_date=request.end_date,
            what_to_show=request.what_to_show,
            use_rth=request.use_rth,
        )
        async for batch in self._gateway.stream_historical(query):
            yield pb.StreamHistoricalBarsResponse(
                bars=convert.bar_columns(batch), chunk=batch.chunk, chunks=batch.chunks
            )

    async def StreamLiveBars(
        self, request: pb.StreamLiveBarsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[pb.StreamLiveBarsResponse]:
        query = live_query(
            convert.contract_request(request),
            request.timeframe,
            what_to_show=request.what_to_show,
            use_rth=request.use_rth,
        )
        async for batch in self._gateway.stream_live(query):
            yield pb.StreamLiveBarsResponse(bars=convert.bar_columns(batch))
