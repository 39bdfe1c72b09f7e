"""The backtest service's strategy and run RPCs over a real gRPC server and results database,
with the other domains plugged in in-process (the composition the pipeline provides; the mesh's
gRPC clients are exercised by tests/integration/test_backtest_mesh.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from grpc import aio
from run_testutil import RSI, STRATEGIES, pipeline

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr_backtest.servicer import DESCRIPTOR, BacktestServiceServicer, StoreRecorder
from ktrdr_backtest.settings import BacktestSettings
from ktrdr_backtest.store import ResultStore, create_engine, migrate
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.server import ServiceSpec, create_server

RANGE = {"start_date": "2017-11-01", "end_date": "2018-02-08"}


def _spec(home: Path) -> ServiceSpec:
    async def setup(server: aio.Server, settings: BacktestSettings):
        engine = create_engine(settings.results_database_url)
        await asyncio.to_thread(migrate, engine)
        store = ResultStore(engine)
        p = pipeline(home)
        recorder = StoreRecorder(store)
        runner = p.backtester(recorder=recorder)
        servicer = BacktestServiceServicer(
            store,
            strategies=runner.strategies,  # type: ignore[arg-type]
            runner=runner,
            walk_forward=p.walk_forward(recorder=recorder),
        )
        backtest_pb2_grpc.add_BacktestServiceServicer_to_server(servicer, server)

        async def close() -> None:
            await asyncio.to_thread(engine.dispose)

        return close

    return ServiceSpec("backtest", BacktestSettings, [DESCRIPTOR], setup)


@pytest.fixture
async def stub(bt_home, tmp_path):
    settings = BacktestSettings.from_env(
        {"KTRDR_HOME": str(tmp_path), "KTRDR_STRATEGIES_DIR": str(STRATEGIES)}
    )
    running = await create_server(_spec(bt_home), settings, address="127.0.0.1:0")
    channel = grpc.aio.insecure_channel(running.address)
    yield backtest_pb2_grpc.BacktestServiceStub(channel)
    await channel.close()
    await running.stop()


async def _error(call) -> tuple[grpc.StatusCode, object, str]:
    """The status code, the ErrorDetail and the status message (which lists every problem; the
    ErrorDetail carries no message) of a refused call."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        if hasattr(call, "__aiter__"):
            async for _ in call:
                pass
        else:
            await call
    return info.value.code(), error_detail_of(info.value), info.value.details() or ""


async def test_strategies_are_listed_described_and_validated(stub):
    listed = await stub.ListStrategies(backtest_pb2.ListStrategiesRequest())
    assert {s.strategy_id: s.valid for s in listed.strategies} == {
        "goog_daily_raw_inputs": True,
        "mtf_trend_follow_1h_4h_1d": True,
        RSI: True,
    }
    got = await stub.GetStrategy(backtest_pb2.GetStrategyRequest(strategy_id=RSI))
    assert got.yaml == (STRATEGIES / f"{RSI}.yaml").read_text()
    assert got.features[0] == "1h_rsi_14_oversold" and got.warmup_bars == 350
    assert got.feature_specs[0].indicator == "rsi_14" and got.label_horizon_bars == 20
    text = got.yaml.replace("period: 14}", "perod: 14}").replace("epochs: 50", "epochz: 50")
    checked = await stub.ValidateStrategy(
        backtest_pb2.ValidateStrategyRequest(strategy_id="draft", yaml=text)
    )
    assert not checked.valid and checked.sections[0] == "name"
    by_field = {e.field: e for e in checked.errors}
    assert list(by_field["training.epochz"].suggestions) == ["epochs"]
    assert by_field["indicators.rsi_14.parameters.perod"].code == "FUZZY-012"
    stored = await stub.ValidateStrategy(backtest_pb2.ValidateStrategyRequest(strategy_id=RSI))
    assert stored.valid and len(stored.features) == 9 and not stored.errors


async def test_run_backtest_streams_progress_and_the_stored_result_with_decision_traces(stub):
    request = backtest_pb2.RunBacktestRequest(
        strategy_id=RSI,
        **RANGE,
        confidence_threshold=0.0,
        commission_settings=backtest_pb2.CommissionSettings(rate=0.0002),
        spread_bps=1.0,
        slippage_bps=0.0,
        batch_size=250,
    )
    messages = [m async for m in stub.RunBacktest(request)]
    assert messages[0].progress.stage == "warming_up"
    assert messages[0].backtest.state == backtest_pb2.BACKTEST_STATE_RUNNING
    final = messages[-1]
    run = final.backtest
    assert run.state == backtest_pb2.BACKTEST_STATE_SUCCEEDED and final.progress.percent == 100
    assert {m.backtest.backtest_id for m in messages} == {run.backtest_id}
    assert run.settings["costs.commission"] == "RateCommission(rate=0.0002)"
    assert run.settings["costs.spread_bps"] == "1.0" and run.settings["costs.slippage_bps"] == "0.0"
    assert run.buy_and_hold.basis == "buy_hold" and run.buy_and_hold.total_trades == 1
    assert run.warmup_bars == 350 and run.model_metrics["majority_accuracy"] > 0
    assert run.metrics.total_trades == final.progress.trades > 0
    trades = await stub.ListTrades(backtest_pb2.ListTradesRequest(backtest_id=run.backtest_id))
    first = trades.trades[0]
    entry = first.entry_decision
    assert entry.signal in ("BUY", "SELL") and len(entry.features) == 9
    assert entry.probabilities == first.entry_probabilities
    assert entry.features[0].name == "1h_rsi_14_oversold"
    assert entry.bar + 1 == first.entry_bar  # decided at the close, filled at the next open


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"start_date": "", "spread_bps": -1, "batch_size": 20_000},
            {"start_date", "spread_bps", "batch_size"},
        ),
        (
            {"commission": 0.2, "sizing": backtest_pb2.SizingSettings(fraction_of_equity=1.5)},
            {"commission", "sizing.fraction_of_equity"},
        ),
        (
            {"commission": 0.001, "commission_settings": backtest_pb2.CommissionSettings(rate=0)},
            {"commission_settings"},
        ),
    ],
)
async def test_settings_out_of_bounds_are_refused_naming_every_field(stub, fields, expected):
    request = backtest_pb2.RunBacktestRequest(strategy_id=RSI, **{**RANGE, **fields})
    code, _, message = await _error(stub.RunBacktest(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    for field in expected:
        assert field in message, field


async def test_a_strategy_without_a_model_fails_with_the_command_to_train(stub):
    request = backtest_pb2.RunBacktestRequest(strategy_id="goog_daily_raw_inputs", **RANGE)
    code, detail, message = await _error(stub.RunBacktest(request))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert detail.code == "BACKTEST-016"  # type: ignore[attr-defined]
    assert "ktrdr models train goog_daily_raw_inputs --symbol GOOG" in message


async def test_walk_forward_settings_out_of_bounds_are_refused(stub):
    request = backtest_pb2.RunWalkForwardRequest(
        strategy_id=RSI, **RANGE, train_bars=50, test_bars=5, purge_bars=3
    )
    code, _, message = await _error(stub.RunWalkForward(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "train_bars" in message and "test_bars" in message
