"""gRPC servicer of the backtest service: thin, over the results store.

The read RPCs are built; RunBacktest and the strategy RPCs arrive with the shared pipeline and
the neural service, and answer UNIMPLEMENTED until then.
"""

from __future__ import annotations

import asyncio

from grpc import aio

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr_backtest import convert
from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.store import ResultStore
from ktrdr_core.errors import ValidationError
from ktrdr_runtime.servicers import fill_unimplemented

DESCRIPTOR = backtest_pb2.DESCRIPTOR.services_by_name["BacktestService"]


def _required(value: str, field: str) -> str:
    if not value:
        raise ValidationError(codes.MISSING_FIELD, f"'{field}' is required.", field=field)
    return value


@fill_unimplemented(
    DESCRIPTOR,
    "running backtests and the strategy RPCs arrive with the neural service and the shared "
    "pipeline (the backtesting issue, second half)",
)
class BacktestServiceServicer(backtest_pb2_grpc.BacktestServiceServicer):
    """Reads stored backtest runs; RPCs not defined here answer UNIMPLEMENTED."""

    def __init__(self, store: ResultStore) -> None:
        self._store = store

    async def ListBacktests(
        self, request: backtest_pb2.ListBacktestsRequest, context: aio.ServicerContext
    ) -> backtest_pb2.ListBacktestsResponse:
        page = await asyncio.to_thread(
            self._store.list_runs,
            strategy_id=request.strategy_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return backtest_pb2.ListBacktestsResponse(
            backtests=[convert.backtest(r) for r in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def GetBacktest(
        self, request: backtest_pb2.GetBacktestRequest, context: aio.ServicerContext
    ) -> backtest_pb2.GetBacktestResponse:
        run_id = _required(request.backtest_id, "backtest_id")
        record = await asyncio.to_thread(self._store.get_run, run_id)
        return backtest_pb2.GetBacktestResponse(backtest=convert.backtest(record))

    async def ListTrades(
        self, request: backtest_pb2.ListTradesRequest, context: aio.ServicerContext
    ) -> backtest_pb2.ListTradesResponse:
        page = await asyncio.to_thread(
            self._store.list_trades,
            _required(request.backtest_id, "backtest_id"),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return backtest_pb2.ListTradesResponse(
            trades=[convert.trade(t) for t in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def GetEquityCurve(
        self, request: backtest_pb2.GetEquityCurveRequest, context: aio.ServicerContext
    ) -> backtest_pb2.GetEquityCurveResponse:
        page = await asyncio.to_thread(
            self._store.equity_curve,
            _required(request.backtest_id, "backtest_id"),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        points = await asyncio.to_thread(convert.equity_points, page.items)
        return backtest_pb2.GetEquityCurveResponse(
            points=points, next_page_token=page.next_page_token, total_size=page.total_size
        )

    async def GetStrategyPerformance(
        self, request: backtest_pb2.GetStrategyPerformanceRequest, context: aio.ServicerContext
    ) -> backtest_pb2.GetStrategyPerformanceResponse:
        strategy_id = _required(request.strategy_id, "strategy_id")
        perf = await asyncio.to_thread(self._store.strategy_performance, strategy_id)
        return convert.performance(perf)
