"""The indicators service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.indicators.v1 import indicators_pb2_grpc
from ktrdr_indicators.servicer import DESCRIPTOR, IndicatorServiceServicer
from ktrdr_indicators.settings import IndicatorsSettings
from ktrdr_runtime.server import ServiceSpec


async def setup(server: aio.Server, settings: IndicatorsSettings) -> None:
    indicators_pb2_grpc.add_IndicatorServiceServicer_to_server(IndicatorServiceServicer(), server)


SPEC = ServiceSpec("indicators", IndicatorsSettings, [DESCRIPTOR], setup)
