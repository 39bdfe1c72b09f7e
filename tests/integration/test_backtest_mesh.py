"""RunBacktest across the real mesh processes gives the same trades as in-process.

Models are trained through the neural service (tiny epochs) on the bundled EURUSD hours; the
backtest service streams bars from the data service through the indicator, fuzzy and neural
services into the decision engine and stores the run; the in-process pipeline runs the same
request on the same store and registry. A service killed mid-backtest fails the run with
UNAVAILABLE naming it, the stored run is failed with nothing half-saved, and it can be re-run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf import struct_pb2

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_backtest import convert
from ktrdr_backtest.domain.run import BacktestOutcome
from ktrdr_cli import mesh
from ktrdr_pipeline import Pipeline
from ktrdr_runtime.grpc_errors import error_detail_of

pytestmark = pytest.mark.integration

STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"
RSI = "rsi_trend_eurusd_1h"
MTF = "mtf_trend_follow_1h_4h_1d"
RANGE = {"start_date": "2017-11-01", "end_date": "2018-02-08"}


@pytest.fixture(scope="module")
def channels(mesh_layout: mesh.Layout) -> Iterator[dict[str, grpc.Channel]]:
    out = {
        name: grpc.insecure_channel(mesh_layout.address(name)) for name in ("backtest", "neural")
    }
    yield out
    for channel in out.values():
        channel.close()


@pytest.fixture(scope="module")
def backtest(channels) -> backtest_pb2_grpc.BacktestServiceStub:
    return backtest_pb2_grpc.BacktestServiceStub(channels["backtest"])


def _train(channels: dict[str, grpc.Channel], strategy: str) -> str:
    config = struct_pb2.Struct()
    config.update({"epochs": 10, "early_stopping": False})
    stub = neural_pb2_grpc.NeuralServiceStub(channels["neural"])
    request = neural_pb2.TrainModelRequest(
        strategy=strategy,
        symbols=["EURUSD"],
        start_date="2017-04-19",
        end_date="2017-10-01",
        config=config,
    )
    last = [m.training for m in stub.TrainModel(request, timeout=600)][-1]
    assert last.state == neural_pb2.TRAINING_STATE_SUCCEEDED, last.error
    return last.model_name


@pytest.fixture(scope="module")
def models(channels) -> dict[str, str]:
    return {strategy: _train(channels, strategy) for strategy in (RSI, MTF)}


def _request(strategy: str, model: str, **fields: Any) -> backtest_pb2.RunBacktestRequest:
    return backtest_pb2.RunBacktestRequest(
        strategy_id=strategy,
        model=model,
        **RANGE,
        confidence_threshold=0.0,
        spread_bps=1.0,
        **fields,
    )


def _all_trades(stub, run_id: str) -> list[backtest_pb2.Trade]:
    out: list[backtest_pb2.Trade] = []
    token = ""
    while True:
        page = stub.ListTrades(
            backtest_pb2.ListTradesRequest(backtest_id=run_id, page_size=1000, page_token=token)
        )
        out.extend(page.trades)
        token = page.next_page_token
        if not token:
            return out


def _equity(stub, run_id: str) -> np.ndarray:
    page = stub.GetEquityCurve(
        backtest_pb2.GetEquityCurveRequest(backtest_id=run_id, page_size=100_000)
    )
    return np.array([p.equity for p in page.points])


def _in_process(home: Path, request: backtest_pb2.RunBacktestRequest) -> BacktestOutcome:
    p = Pipeline(data_dir=home / "data", strategies_dir=STRATEGIES, models_dir=home / "models")

    async def run() -> BacktestOutcome:
        events = [e async for e in p.backtester().run(convert.backtest_request(request))]
        assert events[-1].outcome is not None
        return events[-1].outcome

    return asyncio.run(run())


def test_without_a_trained_model_the_backtest_fails_with_the_command_to_train(backtest):
    request = backtest_pb2.RunBacktestRequest(
        strategy_id="goog_daily_raw_inputs", start_date="2012-01-01", end_date="2013-01-01"
    )
    with pytest.raises(grpc.RpcError) as info:
        list(backtest.RunBacktest(request, timeout=60))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    detail = error_detail_of(info.value)
    assert detail is not None and detail.code == "BACKTEST-016"
    # the status message carries the text (the hardened ErrorDetail has none)
    assert "ktrdr models train goog_daily_raw_inputs --symbol GOOG" in (info.value.details() or "")


@pytest.mark.parametrize("strategy", [RSI, MTF])
def test_a_backtest_across_the_mesh_makes_the_same_trades_as_in_process(
    backtest, models, mesh_layout, strategy
):
    request = _request(strategy, models[strategy], batch_size=500)
    messages = list(backtest.RunBacktest(request, timeout=600))
    final = messages[-1].backtest
    assert final.state == backtest_pb2.BACKTEST_STATE_SUCCEEDED, final.error
    percents = [m.progress.percent for m in messages]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert messages[0].progress.stage == "warming_up" and final.model == models[strategy]
    remote = _all_trades(backtest, final.backtest_id)
    local = _in_process(mesh_layout.home, request)
    assert len(remote) == len(local.result.trades) == final.metrics.total_trades > 0
    for got, want in zip(remote, local.result.trades, strict=True):
        assert (got.entry_bar, got.exit_bar) == (want.entry_bar, want.exit_bar)
        assert (got.entry_price, got.exit_price) == (want.entry_price, want.exit_price)
        assert (got.quantity, got.pnl, got.commission) == (want.units, want.pnl, want.commission)
        probabilities = got.entry_probabilities
        assert (probabilities.buy, probabilities.hold, probabilities.sell) == (
            want.entry_probabilities
        )
    assert np.array_equal(_equity(backtest, final.backtest_id), local.result.equity)
    assert final.metrics.final_equity == local.result.final_equity
    # The decision traces: what the model saw and said at each entry's signal bar.
    traces = {d.bar: d for d in local.decisions}
    for got in remote:
        want = traces[got.entry_decision.bar]
        assert tuple(f.value for f in got.entry_decision.features) == want.features


def _status(layout: mesh.Layout) -> dict[str, Any]:
    return {p.name: p for p in mesh.describe(layout)}


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_service_dying_mid_backtest_fails_the_run_naming_it_and_it_can_be_rerun(
    backtest, models, mesh_layout
):
    state = mesh.read_state(mesh_layout)
    victim = killed = int(state["services"]["fuzzy"]["pid"])
    request = _request(RSI, models[RSI], batch_size=1)  # one bar per message: a long run
    run_id = ""
    with pytest.raises(grpc.RpcError) as info:
        for message in backtest.RunBacktest(request, timeout=600):
            run_id = message.backtest.backtest_id
            if message.progress.stage == "running" and victim:
                os.kill(victim, signal.SIGKILL)
                victim = 0
    assert not victim, "the run ended before the service could be killed"
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    detail = error_detail_of(info.value)
    assert detail is not None and "fuzzy" in (info.value.details() or "")
    stored = backtest.GetBacktest(backtest_pb2.GetBacktestRequest(backtest_id=run_id)).backtest
    assert stored.state == backtest_pb2.BACKTEST_STATE_FAILED and "fuzzy" in stored.error
    assert stored.metrics.basis == "" and stored.metrics.total_trades == 0  # none stored
    assert backtest.ListTrades(backtest_pb2.ListTradesRequest(backtest_id=run_id)).total_size == 0
    assert (
        backtest.GetEquityCurve(backtest_pb2.GetEquityCurveRequest(backtest_id=run_id)).total_size
        == 0
    )
    _wait(
        lambda: (s := _status(mesh_layout)["fuzzy"]).health == "SERVING" and s.pid != killed,
        "fuzzy back",
    )
    again = list(backtest.RunBacktest(_request(RSI, models[RSI]), timeout=600))[-1].backtest
    assert again.state == backtest_pb2.BACKTEST_STATE_SUCCEEDED


def test_a_walk_forward_across_the_mesh_trains_per_window_and_stores_every_run(
    backtest, models, mesh_layout
):
    overrides = struct_pb2.Struct()
    overrides.update({"epochs": 2})
    request = backtest_pb2.RunWalkForwardRequest(
        strategy_id=RSI,
        symbol="EURUSD",
        start_date="2017-04-19",
        end_date="2018-02-08",
        train_bars=1500,
        test_bars=500,
        max_windows=2,
        training_overrides=overrides,
        backtest=backtest_pb2.RunBacktestRequest(confidence_threshold=0.0),
    )
    messages = list(backtest.RunWalkForward(request, timeout=900))
    assert [m.stage for m in messages][-1] == "done"
    done = messages[-1]
    assert len(done.completed) == 2 and done.aggregate.walk_forward_id == done.walk_forward_id
    first, second = done.completed
    assert first.model != second.model and first.test_end == second.test_start
    for window in done.completed:
        run = window.backtest
        assert run.walk_forward_id == done.walk_forward_id and run.model == window.model
        assert run.state == backtest_pb2.BACKTEST_STATE_SUCCEEDED and run.bars == 500
        gap = window.test_start.ToSeconds() - window.train_end.ToSeconds()
        assert gap >= 40 * 3600  # purge and embargo: 20 bars (the label horizon) each
    assert done.aggregate.bars == 1000
    assert done.aggregate.settings["walk_forward.purge_bars"] == "20"
