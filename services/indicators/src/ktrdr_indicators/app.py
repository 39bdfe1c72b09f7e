"""The indicator service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2_grpc
from ktrdr_indicators.servicer import DESCRIPTOR, IndicatorServiceServicer
from ktrdr_indicators.settings import IndicatorsSettings
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.server import Cleanup, ServiceSpec

DATA = data_pb2.DESCRIPTOR.services_by_name["DataService"]


async def setup(server: aio.Server, settings: IndicatorsSettings) -> Cleanup:
    channel = open_channel(
        settings.data_address, services=[DATA], timeout_seconds=settings.call_timeout_seconds
    )
    stub = data_pb2_grpc.DataServiceStub(channel)
    indicators_pb2_grpc.add_IndicatorServiceServicer_to_server(
        IndicatorServiceServicer(lambda: stub), server
    )
    return channel.close


SPEC = ServiceSpec("indicators", IndicatorsSettings, [DESCRIPTOR], setup)
