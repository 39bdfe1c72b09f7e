"""A strategy's backtest in-process: the runner over the real domains (data store, indicator
and fuzzy streams, the neural model, the engine) on the bundled EURUSD hours.

The same runner runs across the mesh (tests/integration/test_backtest_mesh.py asserts the two
give the same trades)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from run_testutil import MTF, RSI, STRATEGIES, last, pipeline, request, utc

from ktrdr_backtest.domain.run import (
    BacktestOutcome,
    BacktestRunner,
    ModelInfo,
    RunInfo,
    SignalSource,
    SignalStream,
    Step,
    majority_signal,
)
from ktrdr_backtest.servicer import StoreRecorder
from ktrdr_backtest.store import ResultStore, create_engine, migrate
from ktrdr_core.bars import Bars
from ktrdr_core.errors import FailedPreconditionError, UnavailableError, ValidationError
from ktrdr_core.problems import ProblemsError
from ktrdr_core.strategy.document import Strategy
from ktrdr_data.domain.storage import ParquetBarStore

START, END = "2017-11-01", "2018-02-08"


class MemoryRecorder:
    """A RunRecorder keeping what it was told, in memory."""

    def __init__(self) -> None:
        self.infos: list[RunInfo] = []
        self.outcomes: list[BacktestOutcome] = []
        self.failures: list[str] = []

    async def started(self, info: RunInfo) -> str:
        self.infos.append(info)
        return f"run-{len(self.infos)}"

    async def succeeded(self, run_id: str, outcome: BacktestOutcome) -> None:
        self.outcomes.append(outcome)

    async def failed(self, run_id: str, error: str) -> None:
        self.failures.append(error)


def _trades(outcome: BacktestOutcome) -> list[tuple]:
    return [tuple(t) for t in outcome.result.trades]


async def test_a_backtest_reports_progress_and_ends_with_its_stored_result(bt_home):
    recorder = MemoryRecorder()
    runner = pipeline(bt_home).backtester(recorder=recorder)
    events = [e async for e in runner.run(request(RSI, START, END, confidence_threshold=0.0))]
    stages = [e.progress.stage for e in events]
    assert stages[0] == "warming_up" and stages[-2:] == ["saving", "done"]
    percents = [e.progress.percent for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0
    outcome = events[-1].outcome
    assert outcome is not None and recorder.outcomes == [outcome] and not recorder.failures
    stored = ParquetBarStore(bt_home / "data").read("EURUSD", "1h")
    in_range = stored.loc[(stored.index >= utc(START)) & (stored.index < utc(END))]
    assert outcome.result.bars == len(in_range) == events[-1].progress.bars
    assert outcome.result.trades, "the threshold of 0 makes the tiny model trade"
    # Every trade's entry decision is traced with the model's inputs at its signal bar.
    traced = {d.bar: d for d in outcome.decisions}
    for trade in outcome.result.trades:
        decision = traced[trade.entry_signal_bar]
        assert decision.probabilities == trade.entry_probabilities
        assert len(decision.features) == len(recorder.infos[0].feature_names) == 9
        assert decision.signal == trade.side
    info = recorder.infos[0]
    assert info.model.startswith(f"{RSI}.EURUSD_1h_v") and info.warmup_bars == 350
    assert outcome.warmup_bars == 350  # all of it is stored before the range
    assert info.model_metrics["majority_accuracy"] > 0
    assert outcome.buy_and_hold is not None
    hold = outcome.buy_and_hold.net.values()
    first, final = in_range["open"].iloc[1], in_range["close"].iloc[-1]
    assert hold["total_return_pct"] == pytest.approx((final / first - 1) * 100, rel=0.02)


async def test_the_result_does_not_depend_on_the_batch_size(bt_home):
    runner = pipeline(bt_home).backtester()
    small = await last(runner, request(RSI, START, END, confidence_threshold=0.0, batch_size=7))
    large = await last(runner, request(RSI, START, END, confidence_threshold=0.0, batch_size=5000))
    assert small.outcome and large.outcome
    assert _trades(small.outcome) == _trades(large.outcome)
    assert np.array_equal(small.outcome.result.equity, large.outcome.result.equity)
    assert small.outcome.decisions == large.outcome.decisions


async def test_the_result_does_not_depend_on_how_much_older_history_is_stored(bt_home, tmp_path):
    """The runner feeds a fixed warm-up (the strategy's 350 bars) before the range: with the
    older history cut away, the trades and equity are the same bits."""
    full = pipeline(bt_home).backtester()
    expected = await last(full, request(RSI, START, END, confidence_threshold=0.0))
    store = ParquetBarStore(bt_home / "data")
    frame = store.read("EURUSD", "1h")
    keep_from = int(np.searchsorted(frame.index, utc(START))) - 360  # the warm-up and a little
    cut = ParquetBarStore(tmp_path / "data")
    cut.write("EURUSD", "1h", frame.iloc[keep_from:])
    shutil.copytree(bt_home / "models", tmp_path / "models")
    short = pipeline(tmp_path).backtester()
    got = await last(short, request(RSI, START, END, confidence_threshold=0.0))
    assert got.outcome and expected.outcome
    assert _trades(got.outcome) == _trades(expected.outcome)
    assert np.array_equal(got.outcome.result.equity, expected.outcome.result.equity)


async def test_without_a_trained_model_the_run_is_refused_with_the_command_to_train(bt_home):
    recorder = MemoryRecorder()
    runner = pipeline(bt_home).backtester(recorder=recorder)
    with pytest.raises(FailedPreconditionError) as info:
        await last(runner, request(MTF, START, END))
    assert info.value.code == "BACKTEST-016" and info.value.field == "model"
    assert f"ktrdr models train {MTF} --symbol EURUSD" in info.value.message
    assert "POST /api/v1/models/train" in info.value.message
    assert recorder.infos == []  # nothing recorded for a run that never started


def _edited(tmp_path: Path, strategy: str, edits: list[tuple[str, str]]) -> Path:
    """A strategies directory holding ``strategy`` with ``edits`` made to its text."""
    out = tmp_path / "strategies"
    out.mkdir()
    text = (STRATEGIES / f"{strategy}.yaml").read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    (out / f"{strategy}.yaml").write_text(text)
    return out


async def test_a_model_trained_on_other_features_is_refused(bt_home, tmp_path):
    strategies = _edited(tmp_path, RSI, [("    neutral: [30, 50, 70]\n", "")])  # one fewer
    runner = pipeline(bt_home, strategies=strategies).backtester()
    with pytest.raises(FailedPreconditionError) as info:
        await last(runner, request(RSI, START, END))
    assert info.value.code == "BACKTEST-017"
    message = info.value.message
    assert "trained on 9 features, the strategy now has 8" in message and "retrain" in message
    assert "the model has 1h_rsi_14_neutral, the strategy 1h_rsi_14_overbought" in message


async def test_an_invalid_strategy_is_refused_listing_every_problem(bt_home, tmp_path):
    strategies = _edited(
        tmp_path,
        RSI,
        [
            ("{type: rsi, period: 14}", "{type: rsi, perid: 14}"),
            ("learning_rate: 0.001", "learning_rat: 0.001"),
            ("confidence_threshold: 0.6", "confidence_threshold: 1.6"),
        ],
    )
    runner = pipeline(bt_home, strategies=strategies).backtester()
    with pytest.raises(ProblemsError) as info:
        await last(runner, request(RSI, START, END))
    error = info.value
    assert error.code == "BACKTEST-014" and "3 problems" in error.message
    fields = {p.field: p for p in error.problems}
    assert fields["indicators.rsi_14.parameters.perid"].suggestions == ("period",)
    assert fields["training.learning_rat"].suggestions == ("learning_rate",)
    assert fields["decisions.confidence_threshold"].code == "BACKTEST-001"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"timeframe": "4h"}, "BACKTEST-018", "timeframe"),
        ({"start": utc("2019-01-01"), "end": utc("2019-02-01")}, "BACKTEST-019", "start_date"),
        ({"symbol": "GOOG", "model": f"{RSI}.EURUSD_1h"}, "BACKTEST-019", "symbol"),
    ],
)
async def test_a_request_the_strategy_or_data_cannot_serve_is_refused(bt_home, fields, code, field):
    runner = pipeline(bt_home).backtester()
    req = dataclasses.replace(request(RSI, START, END), **fields)
    with pytest.raises((ValidationError, FailedPreconditionError)) as info:
        await last(runner, req)
    assert info.value.code == code and info.value.field == field


def test_request_bounds_are_checked_all_at_once():
    with pytest.raises(ValidationError) as info:
        request(RSI, END, START, batch_size=0, risk_free_rate=1.5, confidence_threshold=2)
    fields = {p.field for p in info.value.problems}  # type: ignore[attr-defined]
    assert fields == {"end_date", "batch_size", "risk_free_rate", "confidence_threshold"}


class _Dying:
    """A signal source whose streams fail after ``after`` batches, as a service that dies."""

    def __init__(self, inner: SignalSource, after: int) -> None:
        self.inner = inner
        self.after = after

    async def open(self, strategy: Strategy, *, symbol: str, model: str) -> SignalStream:
        stream = await self.inner.open(strategy, symbol=symbol, model=model)
        outer = self

        class Stream:
            sent = 0

            async def send(self, bars: Bars) -> None:
                self.sent += 1
                if self.sent > outer.after:
                    raise UnavailableError(
                        "RUNTIME-002", "The fuzzy service is unavailable: connection reset"
                    )
                await stream.send(bars)

            async def receive(self) -> Step:
                return await stream.receive()

            async def close(self) -> None:
                await stream.close()

        return Stream()


async def test_a_run_that_fails_midway_is_stored_failed_with_nothing_half_saved(bt_home, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'results.db'}")
    migrate(engine)
    store = ResultStore(engine)
    p = pipeline(bt_home)
    good = p.backtester()
    runner = BacktestRunner(
        strategies=good.strategies,
        models=good.models,
        feed=good.feed,
        signals=_Dying(good.signals, after=3),
        recorder=StoreRecorder(store),
    )
    req = request(RSI, START, END, confidence_threshold=0.0, batch_size=100)
    with pytest.raises(UnavailableError, match="fuzzy"):
        await last(runner, req)
    [record] = store.list_runs().items
    assert record.state == "failed" and "RUNTIME-002" in (record.error or "")
    assert "fuzzy" in (record.error or "") and record.metrics == {} and record.trades == 0
    assert store.list_trades(record.id).total_size == 0
    assert store.equity_curve(record.id).total_size == 0
    # The same run can be run again once the service is back.
    rerun = BacktestRunner(
        strategies=good.strategies,
        models=good.models,
        feed=good.feed,
        signals=good.signals,
        recorder=StoreRecorder(store),
    )
    done = await last(rerun, req)
    assert store.get_run(done.run_id).state == "succeeded"
    engine.dispose()


def _metadata(**counts: dict[str, int]) -> dict:
    return {
        "data": {"symbols": {s: {"splits": {"train": {"classes": c}}} for s, c in counts.items()}}
    }


def test_the_majority_signal_is_the_training_splits_most_frequent_label():
    assert majority_signal(_metadata(EURUSD={"BUY": 5, "HOLD": 90, "SELL": 5})) == 0
    assert majority_signal(_metadata(EURUSD={"BUY": 50, "HOLD": 30, "SELL": 20})) == 1
    # Summed over symbols: SELL leads overall though HOLD leads on one symbol.
    both = _metadata(A={"BUY": 0, "HOLD": 10, "SELL": 8}, B={"BUY": 1, "HOLD": 0, "SELL": 9})
    assert majority_signal(both) == -1
    # A tie goes to the first class, as the neural domain's argmax does.
    assert majority_signal(_metadata(A={"BUY": 4, "HOLD": 4, "SELL": 1})) == 1
    assert majority_signal({}) is None


class _Majority:
    """A model catalog whose models say their majority label is ``signal``."""

    def __init__(self, inner, signal: int) -> None:
        self.inner, self.signal = inner, signal

    async def describe(self, name: str) -> ModelInfo:
        info = await self.inner.describe(name)
        return dataclasses.replace(info, majority_signal=self.signal)


async def test_a_majority_class_model_answering_hold_never_trades(bt_home):
    runner = pipeline(bt_home).backtester()
    runner.models = _Majority(runner.models, 0)
    done = await last(runner, request(RSI, START, END, confidence_threshold=0.0))
    assert done.outcome is not None and done.outcome.majority_class is not None
    majority = done.outcome.majority_class.net.values()
    assert majority["total_trades"] == 0
    assert majority["final_equity"] == majority["initial_equity"]
    assert majority["total_return_pct"] == 0.0


async def test_a_majority_class_model_answering_buy_is_buy_and_hold(bt_home):
    runner = pipeline(bt_home).backtester()
    runner.models = _Majority(runner.models, 1)
    done = await last(runner, request(RSI, START, END, confidence_threshold=0.0))
    assert done.outcome is not None
    assert done.outcome.majority_class is not None and done.outcome.buy_and_hold is not None
    assert done.outcome.majority_class.net.values() == done.outcome.buy_and_hold.net.values()


async def test_the_trained_models_majority_label_comes_from_its_training_split(bt_home):
    runner = pipeline(bt_home).backtester()
    done = await last(runner, request(RSI, START, END, confidence_threshold=0.0))
    assert done.outcome is not None and done.outcome.majority_class is not None
    # The bundled EURUSD hours are mostly HOLD under the strategy's zigzag labels.
    assert done.outcome.majority_class.net.values()["total_trades"] == 0
