"""The backtest service: its contract, settings and composition root (the mesh's clients)."""

from __future__ import annotations

import asyncio

import structlog
from grpc import aio

from ktrdr.backtest.v1 import backtest_pb2_grpc
from ktrdr.data.v1 import data_pb2
from ktrdr.fuzzy.v1 import fuzzy_pb2
from ktrdr.indicators.v1 import indicators_pb2
from ktrdr.neural.v1 import neural_pb2
from ktrdr_backtest.domain.run import BacktestRunner
from ktrdr_backtest.domain.strategies import StrategyFiles
from ktrdr_backtest.domain.walkforward import WalkForward
from ktrdr_backtest.mesh import (
    GrpcBarFeed,
    GrpcIndicatorCatalogue,
    GrpcModelCatalog,
    GrpcSignalSource,
    GrpcTrainer,
)
from ktrdr_backtest.servicer import DESCRIPTOR, BacktestServiceServicer, StoreRecorder
from ktrdr_backtest.settings import BacktestSettings
from ktrdr_backtest.store import ResultStore, create_engine, migrate, safe_url
from ktrdr_core.errors import KtrdrError
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.server import Cleanup, ServiceSpec, StartupError
from ktrdr_runtime.workers import offload

log = structlog.get_logger("ktrdr.backtest")

DEPENDENCIES = {
    "data": data_pb2.DESCRIPTOR.services_by_name["DataService"],
    "indicators": indicators_pb2.DESCRIPTOR.services_by_name["IndicatorService"],
    "fuzzy": fuzzy_pb2.DESCRIPTOR.services_by_name["FuzzyService"],
    "neural": neural_pb2.DESCRIPTOR.services_by_name["NeuralService"],
}


async def setup(server: aio.Server, settings: BacktestSettings) -> Cleanup:
    engine = create_engine(settings.results_database_url)
    if settings.migrate_on_start:
        try:
            await asyncio.to_thread(migrate, engine)  # idempotent; one migrator at a time
        except KtrdrError as exc:
            await asyncio.to_thread(engine.dispose)
            raise StartupError(f"backtest: {exc.full_message}") from exc
    log.info("results_database", url=safe_url(engine.url))
    addresses = {
        "data": settings.data_address,
        "indicators": settings.indicators_address,
        "fuzzy": settings.fuzzy_address,
        "neural": settings.neural_address,
    }
    channels = {
        name: open_channel(
            addresses[name],
            services=[descriptor],
            timeout_seconds=settings.call_timeout_seconds,
            stream_timeout_seconds=settings.stream_timeout_seconds,
        )
        for name, descriptor in DEPENDENCIES.items()
    }
    store = ResultStore(engine)
    strategies = StrategyFiles(
        settings.strategies, GrpcIndicatorCatalogue(channels["indicators"]), offload=offload
    )
    runner = BacktestRunner(
        strategies=strategies,
        models=GrpcModelCatalog(channels["neural"]),
        feed=GrpcBarFeed(channels["data"], stream_timeout_seconds=settings.stream_timeout_seconds),
        signals=GrpcSignalSource(
            indicators=channels["indicators"],
            fuzzy=channels["fuzzy"],
            neural=channels["neural"],
            stream_timeout_seconds=settings.stream_timeout_seconds,
        ),
        recorder=StoreRecorder(store),
        offload=offload,
    )
    trainer = GrpcTrainer(channels["neural"], timeout_seconds=settings.training_timeout_seconds)
    servicer = BacktestServiceServicer(
        store,
        strategies=strategies,
        runner=runner,
        walk_forward=WalkForward(runner=runner, trainer=trainer),
    )
    backtest_pb2_grpc.add_BacktestServiceServicer_to_server(servicer, server)

    async def close() -> None:
        for channel in channels.values():
            await channel.close()
        await asyncio.to_thread(engine.dispose)

    return close


SPEC = ServiceSpec("backtest", BacktestSettings, [DESCRIPTOR], setup)
