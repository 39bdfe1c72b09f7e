"""The indicator service: its contract, settings and servicer setup (its composition root)."""

from __future__ import annotations

from grpc import aio

from ktrdr.indicators.v1 import indicators_pb2_grpc
from ktrdr_indicators.servicer import DESCRIPTOR, IndicatorServiceServicer
from ktrdr_indicators.settings import IndicatorsSettings
from ktrdr_runtime.server import Cleanup, ServiceSpec
from ktrdr_runtime.sources import GrpcBarSource
from ktrdr_runtime.workers import offload


async def setup(server: aio.Server, settings: IndicatorsSettings) -> Cleanup:
    bars = GrpcBarSource(settings.data_address, timeout_seconds=settings.call_timeout_seconds)
    indicators_pb2_grpc.add_IndicatorServiceServicer_to_server(
        IndicatorServiceServicer(bars, offload=offload), server
    )
    return bars.close


SPEC = ServiceSpec("indicators", IndicatorsSettings, [DESCRIPTOR], setup)
