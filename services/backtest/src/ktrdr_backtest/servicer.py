"""gRPC servicer of the backtest service."""

from __future__ import annotations

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr_runtime.servicers import fill_unimplemented

DESCRIPTOR = backtest_pb2.DESCRIPTOR.services_by_name["BacktestService"]


@fill_unimplemented(DESCRIPTOR, "strategies and backtests are built in the backtesting issue")
class BacktestServiceServicer(backtest_pb2_grpc.BacktestServiceServicer):
    """Every RPC of this service is still to be built (see the reason in each error)."""
