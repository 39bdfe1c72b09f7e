"""The fuzzy service: its contract, settings and servicer setup (its composition root).

Indicator values and the indicator catalogue come from the indicator service over gRPC; the
fuzzy package carries no indicator code (no TA-Lib, pandas-ta or pyarrow).
"""

from __future__ import annotations

from grpc import aio

from ktrdr.fuzzy.v1 import fuzzy_pb2_grpc
from ktrdr_fuzzy.domain.strategies import StrategyLibrary
from ktrdr_fuzzy.servicer import DESCRIPTOR, FuzzyServiceServicer
from ktrdr_fuzzy.settings import FuzzySettings
from ktrdr_runtime.server import Cleanup, ServiceSpec
from ktrdr_runtime.sources import GrpcIndicatorCatalogue, GrpcIndicatorSource
from ktrdr_runtime.workers import offload


async def setup(server: aio.Server, settings: FuzzySettings) -> Cleanup:
    timeout = settings.call_timeout_seconds
    catalogue = GrpcIndicatorCatalogue(settings.indicators_address, timeout_seconds=timeout)
    indicators = GrpcIndicatorSource(settings.indicators_address, timeout_seconds=timeout)
    strategies = StrategyLibrary(settings.strategies, catalogue, offload=offload)
    fuzzy_pb2_grpc.add_FuzzyServiceServicer_to_server(
        FuzzyServiceServicer(strategies, indicators, offload=offload), server
    )

    async def cleanup() -> None:
        await catalogue.close()
        await indicators.close()

    return cleanup


SPEC = ServiceSpec("fuzzy", FuzzySettings, [DESCRIPTOR], setup)
