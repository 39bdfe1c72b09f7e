"""The data service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.data.v1 import data_pb2_grpc
from ktrdr_data.servicer import DESCRIPTOR, DataServiceServicer
from ktrdr_data.settings import DataSettings
from ktrdr_runtime.server import ServiceSpec


async def setup(server: aio.Server, settings: DataSettings) -> None:
    data_pb2_grpc.add_DataServiceServicer_to_server(DataServiceServicer(), server)


SPEC = ServiceSpec("data", DataSettings, [DESCRIPTOR], setup)
