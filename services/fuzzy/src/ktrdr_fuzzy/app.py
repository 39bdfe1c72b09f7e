"""The fuzzy service: its contract, settings and servicer setup."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grpc import aio

from ktrdr.fuzzy.v1 import fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_fuzzy.servicer import DESCRIPTOR, FuzzyServiceServicer
from ktrdr_fuzzy.settings import FuzzySettings
from ktrdr_indicators.domain.catalogue import create as create_indicator
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.server import Cleanup, ServiceSpec

INDICATORS = indicators_pb2.DESCRIPTOR.services_by_name["IndicatorService"]


def indicator_outputs(indicator_type: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    """Strategy validation against the indicator catalogue (in-process, no network)."""
    return create_indicator(indicator_type, params).info.outputs


async def setup(server: aio.Server, settings: FuzzySettings) -> Cleanup:
    channel = open_channel(
        settings.indicators_address,
        services=[INDICATORS],
        timeout_seconds=settings.call_timeout_seconds,
    )
    stub = indicators_pb2_grpc.IndicatorServiceStub(channel)
    fuzzy_pb2_grpc.add_FuzzyServiceServicer_to_server(
        FuzzyServiceServicer(settings.strategies, indicator_outputs, lambda: stub), server
    )
    return channel.close


SPEC = ServiceSpec("fuzzy", FuzzySettings, [DESCRIPTOR], setup)
