"""The example strategies train and backtest on the bundled data alone; walk-forward windows
are planned with a purge and an embargo of at least the label horizon, retrained per window
and chained out of sample (in-process: the neural domain trains)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from run_testutil import GOOG, MTF, RSI, bundled_home, last, pipeline, request, train_sync, utc

from ktrdr_backtest.domain.walkforward import (
    WalkForwardConfig,
    WalkForwardMode,
    plan_windows,
)
from ktrdr_core.bars import index_to_us
from ktrdr_core.errors import FailedPreconditionError, ValidationError
from ktrdr_data.domain.storage import ParquetBarStore

HOUR_US = 3_600_000_000
BACKTESTS = {
    RSI: ("2017-10-01", "2018-02-08"),
    MTF: ("2017-10-01", "2018-02-08"),
    GOOG: ("2010-01-01", "2013-03-02"),
}


@pytest.fixture(scope="module")
def examples_home(tmp_path_factory):
    """The bundled bars and a tiny model of each example strategy."""
    home = bundled_home(tmp_path_factory.mktemp("examples"))
    models = {name: train_sync(home, name, epochs=20) for name in BACKTESTS}
    return home, models


@pytest.mark.parametrize("strategy", list(BACKTESTS))
async def test_each_example_strategy_trains_and_backtests_on_the_bundled_data(
    examples_home, strategy
):
    home, models = examples_home
    runner = pipeline(home).backtester()
    series = {RSI: "EURUSD_1h", MTF: "EURUSD_1h", GOOG: "GOOG_1d"}[strategy]
    info = await runner.models.describe(f"{strategy}.{series}")
    assert info.name == models[strategy]
    assert {"test_accuracy", "majority_accuracy", "logistic_regression_accuracy"} <= set(
        info.metrics
    )
    start, end = BACKTESTS[strategy]
    event = await last(runner, request(strategy, start, end, confidence_threshold=0.0))
    outcome = event.outcome
    assert outcome is not None and outcome.result.bars > 500
    net = outcome.report.net.values()
    assert np.isfinite(net["total_return_pct"]) and outcome.report.periods_per_year > 200
    assert outcome.result.trades, "a confidence threshold of 0 trades on every BUY/SELL"
    assert len(outcome.decisions) == outcome.result.signals["acted"]


def _config(**fields) -> WalkForwardConfig:
    base = {
        "strategy_id": RSI,
        "start": utc("2017-04-19"),
        "end": utc("2018-02-08"),
        "train_bars": 1000,
        "test_bars": 300,
    }
    return WalkForwardConfig(**{**base, **fields})


def test_rolling_windows_move_expanding_windows_grow_and_tests_tile():
    stamps = np.arange(4000, dtype=np.int64) * HOUR_US
    rolling = plan_windows(stamps, _config(), horizon=20, end_us=4000 * HOUR_US)
    expanding = plan_windows(
        stamps, _config(mode=WalkForwardMode.EXPANDING), horizon=20, end_us=4000 * HOUR_US
    )
    assert [w.train_start_us // HOUR_US for w in rolling[:3]] == [0, 300, 600]
    assert {w.train_start_us for w in expanding} == {0}
    for windows in (rolling, expanding):
        for w in windows:
            # purge 20 bars after the training, embargo 20 more before the test
            assert (w.test_start_us - w.train_end_us) // HOUR_US == 40
            assert (w.test_end_us - w.test_start_us) // HOUR_US == 300
        assert all(a.test_end_us == b.test_start_us for a, b in itertools.pairwise(windows))
    assert len(rolling) == (4000 - 1000 - 20 - 300) // 300 + 1


def test_a_purge_or_embargo_shorter_than_the_label_horizon_is_refused():
    stamps = np.arange(4000, dtype=np.int64) * HOUR_US
    with pytest.raises(ValidationError) as info:
        plan_windows(stamps, _config(purge_bars=5, embargo_bars=8), horizon=20, end_us=0)
    problems = info.value.problems  # type: ignore[attr-defined]
    assert {p.field for p in problems} == {"purge_bars", "embargo_bars"}
    assert "label horizon (20 bars)" in problems[0].message


def test_a_range_too_short_for_one_window_is_refused():
    stamps = np.arange(1200, dtype=np.int64) * HOUR_US
    with pytest.raises(FailedPreconditionError) as info:
        plan_windows(stamps, _config(), horizon=20, end_us=0)
    assert info.value.code == "BACKTEST-021" and "needs 1320" in info.value.message


def test_walk_forward_settings_out_of_bounds_are_all_reported():
    with pytest.raises(ValidationError) as info:
        _config(train_bars=10, test_bars=5, step_bars=3, max_windows=99)
    fields = {p.field for p in info.value.problems}  # type: ignore[attr-defined]
    assert fields == {"train_bars", "test_bars", "step_bars", "max_windows"}


async def test_a_walk_forward_retrains_per_window_and_chains_the_out_of_sample_tests(tmp_path):
    home = bundled_home(tmp_path)
    wf = pipeline(home).walk_forward()
    config = _config(
        train_bars=1200,
        test_bars=400,
        max_windows=2,
        overrides={"epochs": 1},
        confidence_threshold=0.0,
    )
    events = [e async for e in wf.run(config)]
    stages = [e.stage for e in events]
    assert stages[0] == "planning" and stages[-1] == "done"
    assert stages.count("training") == 2 and stages.count("backtesting") == 2
    done = events[-1]
    assert done.aggregate is not None and len(done.completed) == 2
    first, second = done.completed
    assert first.model != second.model  # retrained for each window
    stored = ParquetBarStore(home / "data").read("EURUSD", "1h")
    stamps = index_to_us(stored.index)
    for result in done.completed:
        w = result.window
        train_end = int(np.searchsorted(stamps, w.train_end_us))
        test_start = int(np.searchsorted(stamps, w.test_start_us))
        assert test_start - train_end == 2 * 20  # purge and embargo: the label horizon each
        assert result.outcome.result.bars == 400
        assert result.plan.request.walk_forward_id == done.walk_forward_id
    assert first.window.test_end_us == second.window.test_start_us
    _, plan, aggregate = done.aggregate
    assert aggregate.result.bars == 800
    assert plan.model.name.startswith("walk-forward: 2 models")
    # The chained run saw the windows' decisions in order: its equity starts as the first's.
    n = first.outcome.result.bars
    first_equity = first.outcome.result.equity[: n - 1]
    assert np.array_equal(aggregate.result.equity[: n - 1], first_equity)
