"""The ib_gateway service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.ib_gateway.v1 import ib_gateway_pb2_grpc
from ktrdr_ib_gateway.domain import IbGateway
from ktrdr_ib_gateway.ib_adapter import IbAsyncAdapter
from ktrdr_ib_gateway.metrics import PrometheusTelemetry
from ktrdr_ib_gateway.servicer import DESCRIPTOR, IbGatewayServiceServicer
from ktrdr_ib_gateway.settings import IbGatewaySettings
from ktrdr_runtime.server import Cleanup, ServiceSpec


async def setup(server: aio.Server, settings: IbGatewaySettings) -> Cleanup:
    """Serve at once and connect to TWS in the background (status answers while TWS is down)."""
    gateway = IbGateway(
        IbAsyncAdapter(account=settings.ib_account.reveal() if settings.ib_account else ""),
        settings.gateway_config(),
        telemetry=PrometheusTelemetry(),
    )
    ib_gateway_pb2_grpc.add_IbGatewayServiceServicer_to_server(
        IbGatewayServiceServicer(gateway), server
    )
    gateway.start()
    return gateway.stop


SPEC = ServiceSpec("ib_gateway", IbGatewaySettings, [DESCRIPTOR], setup)
