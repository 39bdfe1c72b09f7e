"""The backtest service: its contract, settings and servicer setup."""

from __future__ import annotations

from grpc import aio

from ktrdr.backtest.v1 import backtest_pb2_grpc
from ktrdr_backtest.servicer import DESCRIPTOR, BacktestServiceServicer
from ktrdr_backtest.settings import BacktestSettings
from ktrdr_runtime.server import ServiceSpec


async def setup(server: aio.Server, settings: BacktestSettings) -> None:
    backtest_pb2_grpc.add_BacktestServiceServicer_to_server(BacktestServiceServicer(), server)


SPEC = ServiceSpec("backtest", BacktestSettings, [DESCRIPTOR], setup)
