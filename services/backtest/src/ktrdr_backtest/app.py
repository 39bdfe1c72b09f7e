"""The backtest service: its contract, settings and servicer setup."""

from __future__ import annotations

import asyncio

import structlog
from grpc import aio

from ktrdr.backtest.v1 import backtest_pb2_grpc
from ktrdr_backtest.servicer import DESCRIPTOR, BacktestServiceServicer
from ktrdr_backtest.settings import BacktestSettings
from ktrdr_backtest.store import ResultStore, create_engine, migrate, safe_url
from ktrdr_core.errors import KtrdrError
from ktrdr_runtime.server import Cleanup, ServiceSpec, StartupError

log = structlog.get_logger("ktrdr.backtest")


async def setup(server: aio.Server, settings: BacktestSettings) -> Cleanup:
    engine = create_engine(settings.results_database_url)
    if settings.migrate_on_start:
        try:
            await asyncio.to_thread(migrate, engine)  # idempotent; one migrator at a time
        except KtrdrError as exc:
            await asyncio.to_thread(engine.dispose)
            raise StartupError(f"backtest: {exc.full_message}") from exc
    log.info("results_database", url=safe_url(engine.url))
    backtest_pb2_grpc.add_BacktestServiceServicer_to_server(
        BacktestServiceServicer(ResultStore(engine)), server
    )

    async def close() -> None:
        await asyncio.to_thread(engine.dispose)

    return close


SPEC = ServiceSpec("backtest", BacktestSettings, [DESCRIPTOR], setup)
