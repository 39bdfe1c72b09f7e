"""The neural service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.neural.v1 import neural_pb2_grpc
from ktrdr_neural.servicer import DESCRIPTOR, NeuralServiceServicer
from ktrdr_neural.settings import NeuralSettings
from ktrdr_runtime.server import ServiceSpec


async def setup(server: aio.Server, settings: NeuralSettings) -> None:
    neural_pb2_grpc.add_NeuralServiceServicer_to_server(NeuralServiceServicer(), server)


SPEC = ServiceSpec("neural", NeuralSettings, [DESCRIPTOR], setup)
