"""gRPC servicer of the backtest service: thin, over the domain and the results store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from grpc import aio

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr_backtest import convert
from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.run import BacktestOutcome, BacktestRunner, RunInfo
from ktrdr_backtest.domain.strategies import StrategyFiles
from ktrdr_backtest.domain.walkforward import WalkForward
from ktrdr_backtest.store import ResultStore
from ktrdr_core.errors import ValidationError

DESCRIPTOR = backtest_pb2.DESCRIPTOR.services_by_name["BacktestService"]


def _required(value: str, field: str) -> str:
    if not value:
        raise ValidationError(codes.MISSING_FIELD, f"'{field}' is required.", field=field)
    return value


class StoreRecorder:
    """The domain's ``RunRecorder`` over the results store (off the event loop)."""

    def __init__(self, store: ResultStore) -> None:
        self._store = store

    async def started(self, info: RunInfo) -> str:
        return await asyncio.to_thread(self._store.create_run, info)

    async def succeeded(self, run_id: str, outcome: BacktestOutcome) -> None:
        await asyncio.to_thread(
            self._store.complete_run,
            run_id,
            outcome.result,
            outcome.report,
            buy_and_hold=outcome.buy_and_hold,
            majority_class=outcome.majority_class,
            decisions=outcome.decisions,
            warmup_bars=outcome.warmup_bars,
        )

    async def failed(self, run_id: str, error: str) -> None:
        await asyncio.to_thread(self._store.fail_run, run_id, error)


class BacktestServiceServicer(backtest_pb2_grpc.BacktestServiceServicer):
    """Strategies, backtests (run, walk-forward) and their stored results."""

    def __init__(
        self,
        store: ResultStore,
        *,
        strategies: StrategyFiles,
        runner: BacktestRunner,
        walk_forward: WalkForward,
    ) -> None:
        self._store = store
        self._strategies = strategies
        self._runner = runner
        self._walk_forward = walk_forward

    # -- strategies -----------------------------------------------------------------------------

    async def ListStrategies(
        self, request: backtest_pb2.ListStrategiesRequest, context: aio.ServicerContext
    ) -> backtest_pb2.ListStrategiesResponse:
        entries = await self._strategies.entries()
        return backtest_pb2.ListStrategiesResponse(
            strategies=[convert.strategy_summary(e) for e in entries]
        )

    async def GetStrategy(
        self, request: backtest_pb2.GetStrategyRequest, context: aio.ServicerContext
    ) -> backtest_pb2.GetStrategyResponse:
        entry = await self._strategies.get(_required(request.strategy_id, "strategy_id"))
        return convert.get_strategy(entry)

    async def ValidateStrategy(
        self, request: backtest_pb2.ValidateStrategyRequest, context: aio.ServicerContext
    ) -> backtest_pb2.ValidateStrategyResponse:
        if request.yaml:
            source = request.strategy_id or "<request>"
            check = await self._strategies.check_text(request.yaml, source=source)
        else:
            check = await self._strategies.check(_required(request.strategy_id, "strategy_id"))
        return convert.validation(check)

    # -- running --------------------------------------------------------------------------------

    async def RunBacktest(
        self, request: backtest_pb2.RunBacktestRequest, context: aio.ServicerContext
    ) -> AsyncIterator[backtest_pb2.RunBacktestResponse]:
        run = convert.backtest_request(request)
        async for event in self._runner.run(run):
            record = None
            if event.outcome is not None and event.run_id:
                record = await asyncio.to_thread(self._store.get_run, event.run_id)
            yield convert.run_response(event, record)

    async def RunWalkForward(
        self, request: backtest_pb2.RunWalkForwardRequest, context: aio.ServicerContext
    ) -> AsyncIterator[backtest_pb2.RunWalkForwardResponse]:
        config = convert.walk_forward_config(request)
        windows: list[backtest_pb2.WalkForwardWindow] = []
        async for event in self._walk_forward.run(config):
            for result in event.completed[len(windows) :]:
                record = await asyncio.to_thread(self._store.get_run, result.run_id)
                windows.append(convert.window(result, record))
            aggregate = None
            if event.aggregate is not None:
                aggregate = await asyncio.to_thread(self._store.get_run, event.aggregate[0])
            yield convert.walk_forward_response(event, windows, aggregate)

    # -- results --------------------------------------------------------------------------------

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
        run_id = _required(request.backtest_id, "backtest_id")
        page = await asyncio.to_thread(
            self._store.list_trades,
            run_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        bars = [
            b for t in page.items for b in (t.entry_signal_bar, t.exit_signal_bar) if b is not None
        ]
        decisions = await asyncio.to_thread(self._store.decisions, run_id, bars) if bars else {}
        names: tuple[str, ...] = ()
        if decisions:
            names = (await asyncio.to_thread(self._store.get_run, run_id)).feature_names
        return backtest_pb2.ListTradesResponse(
            trades=[convert.trade(t, decisions, names) for t in page.items],
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
