"""The fuzzy service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.fuzzy.v1 import fuzzy_pb2_grpc
from ktrdr_fuzzy.servicer import DESCRIPTOR, FuzzyServiceServicer
from ktrdr_fuzzy.settings import FuzzySettings
from ktrdr_runtime.server import ServiceSpec


async def setup(server: aio.Server, settings: FuzzySettings) -> None:
    fuzzy_pb2_grpc.add_FuzzyServiceServicer_to_server(FuzzyServiceServicer(), server)


SPEC = ServiceSpec("fuzzy", FuzzySettings, [DESCRIPTOR], setup)
