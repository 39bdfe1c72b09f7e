"""The data service: its contract, settings and servicer setup."""

from __future__ import annotations

import asyncio

from grpc import aio

from ktrdr.data.v1 import data_pb2_grpc
from ktrdr_data.domain.bundled import import_bundled
from ktrdr_data.domain.loader import DataLoader
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_data.ib_source import IbGatewaySource
from ktrdr_data.servicer import DESCRIPTOR, DataServiceServicer
from ktrdr_data.settings import DataSettings
from ktrdr_runtime.server import Cleanup, ServiceSpec


async def setup(server: aio.Server, settings: DataSettings) -> Cleanup | None:
    store = ParquetBarStore(settings.data_dir)
    if settings.import_bundled:
        await asyncio.to_thread(import_bundled, store)  # idempotent; logs what it wrote
    source = (
        IbGatewaySource(settings.ib_gateway_address, timeout_seconds=settings.ib_timeout_seconds)
        if settings.ib_gateway_address
        else None
    )
    data_pb2_grpc.add_DataServiceServicer_to_server(
        DataServiceServicer(store, DataLoader(store, source)), server
    )
    return source.close if source is not None else None


SPEC = ServiceSpec("data", DataSettings, [DESCRIPTOR], setup)
