"""The ib_gateway service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.ib_gateway.v1 import ib_gateway_pb2_grpc
from ktrdr_ib_gateway.servicer import DESCRIPTOR, IbGatewayServiceServicer
from ktrdr_ib_gateway.settings import IbGatewaySettings
from ktrdr_runtime.server import ServiceSpec


async def setup(server: aio.Server, settings: IbGatewaySettings) -> None:
    ib_gateway_pb2_grpc.add_IbGatewayServiceServicer_to_server(IbGatewayServiceServicer(), server)


SPEC = ServiceSpec("ib_gateway", IbGatewaySettings, [DESCRIPTOR], setup)
