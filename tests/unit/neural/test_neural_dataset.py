"""Preparing a training: every check before training starts, per-symbol splits, scaling."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pytest
from neural_testutil import HOUR_US, MemorySource, make_strategy

from ktrdr_core.errors import FailedPreconditionError
from ktrdr_core.strategy.training import parse_network_spec
from ktrdr_neural.domain.dataset import build_symbol_samples, stack
from ktrdr_neural.domain.features import FeatureColumn, FeatureFrame
from ktrdr_neural.domain.plan import TrainRequest, plan_training


def _plan(strategy, source, request=None):
    return asyncio.run(plan_training(source, strategy, request or TrainRequest()))


def test_a_symbol_not_stored_fails_naming_it_and_how_to_load_it():
    strategy = make_strategy(symbols="AAA, ZZZ")
    source = MemorySource.synthetic(strategy, {"AAA": 1})
    with pytest.raises(FailedPreconditionError) as info:
        _plan(strategy, source, TrainRequest(end=dt.datetime(2018, 1, 1, tzinfo=dt.UTC)))
    err = info.value
    assert err.code == "NEURAL-006" and err.field == "symbols"
    assert "ZZZ" in err.message and "ktrdr data load ZZZ 1h" in err.message
    assert "/api/v1/data/load" in err.message


def test_too_little_data_fails_before_training_with_the_sizes():
    strategy = make_strategy()
    source = MemorySource.synthetic(strategy, {"AAA": 1}, n=150)
    with pytest.raises(FailedPreconditionError) as info:
        _plan(strategy, source)
    assert info.value.code == "NEURAL-005"
    assert "Too little data for AAA" in info.value.message
    assert "at least 30 per split" in info.value.message


def test_a_class_absent_from_training_fails_before_training():
    # a 50 % move within 4 hours never happens: every label is HOLD
    strategy = make_strategy(
        training="{labels: {source: forward_return, horizon_bars: 4, threshold: 0.5}}"
    )
    source = MemorySource.synthetic(strategy, {"AAA": 1})
    with pytest.raises(FailedPreconditionError) as info:
        _plan(strategy, source)
    assert info.value.code == "NEURAL-005"
    assert "no BUY or SELL sample" in info.value.message


def test_feature_columns_other_than_the_strategy_resolves_are_refused():
    strategy = make_strategy()
    source = MemorySource.synthetic(strategy, {"AAA": 1})
    bars, frame = source.series["AAA"]
    swapped = (frame.names[1], frame.names[0], *frame.names[2:])
    source.series["AAA"] = (bars, FeatureFrame(frame.timestamps_us, swapped, frame.values))
    with pytest.raises(FailedPreconditionError) as info:
        _plan(strategy, source)
    assert info.value.code == "NEURAL-012"
    assert f"feature 0 is '{swapped[0]}' where the model expects '{frame.names[0]}'" in (
        info.value.message
    )


def test_multi_symbol_strategies_stack_symbols_each_split_on_its_own():
    strategy = make_strategy(symbols="AAA, BBB")
    source = MemorySource.synthetic(strategy, {"AAA": 1, "BBB": 2}, n=800)
    job = _plan(strategy, source)
    assert job.series == "AAA+BBB_1h" and job.symbols == ("AAA", "BBB")
    data = job.dataset
    per_symbol = data.data["symbols"]
    assert set(per_symbol) == {"AAA", "BBB"}
    n_aaa = per_symbol["AAA"]["rows"]
    for split in ("train", "validation", "test"):
        rows = data.rows[split]
        aaa, bbb = rows[rows < n_aaa], rows[rows >= n_aaa]
        # each symbol contributes to every split, chronologically within itself
        assert len(aaa) and len(bbb)
        counts = per_symbol["AAA"]["splits"][split]["samples"]
        assert len(aaa) == counts
    assert (
        data.rows["train"][data.rows["train"] < n_aaa].max()
        < data.rows["validation"][data.rows["validation"] < n_aaa].min()
    )
    assert len(per_symbol["AAA"]["sha256"]) == 64


def test_raw_columns_are_scaled_with_training_rows_only():
    strategy = make_strategy()
    spec = parse_network_spec(strategy.model, strategy.training)
    source = MemorySource.synthetic(strategy, {"AAA": 1}, n=900)
    bars, frame = source.series["AAA"]
    values = frame.values.copy()
    values[:, 0] = np.linspace(0, 1000, len(values))  # a trending raw indicator
    frame = FeatureFrame(frame.timestamps_us, frame.names, values)
    schema = [FeatureColumn(n, "zscore" if j == 0 else "none") for j, n in enumerate(frame.names)]
    samples = build_symbol_samples("AAA", frame, bars, spec)
    data = stack([samples], schema, spec)
    train = values[data.rows["train"], 0]
    assert data.scalers[0].offset == pytest.approx(train.mean())
    assert data.scalers[0].divisor == pytest.approx(train.std())
    scaled_train = data.features[data.rows["train"], 0]
    assert scaled_train.mean() == pytest.approx(0, abs=1e-5)
    # test rows lie beyond the training range: fitted on everything they would not
    assert data.features[data.rows["test"], 0].min() > 1.5
    np.testing.assert_array_equal(data.features[:, 1], values[:, 1].astype(np.float32))


def test_a_date_range_restricts_the_training_data():
    strategy = make_strategy()
    source = MemorySource.synthetic(strategy, {"AAA": 1}, n=1500)
    stamps = source.series["AAA"][0].timestamps_us
    start = dt.datetime.fromtimestamp(stamps[200] / 1e6, tz=dt.UTC)
    end = dt.datetime.fromtimestamp(stamps[1200] / 1e6, tz=dt.UTC)
    job = _plan(strategy, source, TrainRequest(start=start, end=end))
    info = job.dataset.data["symbols"]["AAA"]
    assert info["rows"] == 1000
    first = dt.datetime.fromisoformat(info["splits"]["train"]["first"])
    last = dt.datetime.fromisoformat(info["splits"]["test"]["last"])
    assert first >= start and last < end
    assert (end - start).total_seconds() * 1e6 == 1000 * HOUR_US
