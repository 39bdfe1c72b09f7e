"""The client's backtest results read the JSON the edge sends (proto3 JSON of the contract)."""

from __future__ import annotations

from google.protobuf import json_format

from ktrdr.backtest.v1 import backtest_pb2
from ktrdr_client import models
from ktrdr_runtime.bars import timestamp_us


def _json(message) -> dict:
    return json_format.MessageToDict(message)


def test_a_backtest_update_carries_the_run_and_its_progress():
    message = backtest_pb2.RunBacktestResponse(
        backtest=backtest_pb2.Backtest(
            backtest_id="abc",
            strategy_id="s",
            state=backtest_pb2.BACKTEST_STATE_SUCCEEDED,
            bars=1200,
            warmup_bars=350,
            metrics=backtest_pb2.PerformanceMetrics(total_return_pct=1.5, total_trades=7),
            buy_and_hold=backtest_pb2.PerformanceMetrics(total_return_pct=3.25, basis="buy_hold"),
            model_metrics={"majority_accuracy": 0.61},
        ),
        progress=backtest_pb2.BacktestProgress(
            stage="done", percent=100, bars=1200, trades=7, last_bar=timestamp_us(1_500_000_000)
        ),
    )
    update = models.BacktestUpdate.from_json(_json(message))
    assert update.done and update.progress.bars == 1200 and update.progress.trades == 7
    run = update.backtest
    assert (run.backtest_id, run.state, run.bars, run.warmup_bars) == (
        "abc",
        "BACKTEST_STATE_SUCCEEDED",
        1200,
        350,
    )
    assert run.buy_and_hold["totalReturnPct"] == 3.25 and run.model_metrics == {
        "majority_accuracy": 0.61
    }


def test_a_trade_carries_the_decision_traces_with_their_features():
    trade = backtest_pb2.Trade(
        side=backtest_pb2.SIDE_LONG,
        entry_bar=11,
        exit_bar=20,
        quantity=3,
        exit_reason=backtest_pb2.EXIT_REASON_STOP,
        entry_probabilities=backtest_pb2.ClassProbabilities(buy=0.7, hold=0.2, sell=0.1),
        entry_decision=backtest_pb2.DecisionTrace(
            bar=10,
            signal="BUY",
            confidence=0.7,
            probabilities=backtest_pb2.ClassProbabilities(buy=0.7, hold=0.2, sell=0.1),
            features=[backtest_pb2.FeatureValue(name="1h_rsi_14_oversold", value=0.8)],
        ),
    )
    got = models.Trade.from_json(_json(trade))
    assert got.exit_reason == "EXIT_REASON_STOP" and (got.entry_bar, got.exit_bar) == (11, 20)
    assert got.entry_decision is not None and got.exit_decision is None
    assert got.entry_decision.features == {"1h_rsi_14_oversold": 0.8}
    assert got.entry_decision.probabilities == {"buy": 0.7, "hold": 0.2, "sell": 0.1}


def test_a_walk_forward_update_lists_its_windows_and_aggregate():
    message = backtest_pb2.RunWalkForwardResponse(
        walk_forward_id="wf",
        stage="done",
        windows=2,
        completed=[
            backtest_pb2.WalkForwardWindow(
                index=i, model=f"m_v{i}", backtest=backtest_pb2.Backtest(bars=500)
            )
            for i in range(2)
        ],
        aggregate=backtest_pb2.Backtest(bars=1000, walk_forward_id="wf"),
    )
    got = models.WalkForwardUpdate.from_json(_json(message))
    assert [w.model for w in got.completed] == ["m_v0", "m_v1"]
    assert got.aggregate is not None and got.aggregate.bars == 1000
