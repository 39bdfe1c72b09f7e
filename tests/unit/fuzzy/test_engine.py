"""FuzzyEngine: batch fuzzification, streaming identity, NaN isolation, feature matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skfuzzy as fuzz
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core.errors import NotFoundError, ValidationError
from ktrdr_core.strategy.document import parse_strategy
from ktrdr_core.strategy.fuzzy_sets import parse_fuzzy_sets
from ktrdr_fuzzy.domain.engine import FuzzyEngine, fuzzify_features

SETS = parse_fuzzy_sets(
    {
        "rsi_14": {
            "indicator": "rsi_14",
            "oversold": {"type": "triangular", "parameters": [0, 30, 40], "shoulder": "left"},
            "neutral": [35, 50, 65],
            "overbought": {"type": "gaussian", "parameters": [70, 15]},
        },
        "macd_hist": {
            "indicator": "macd_12_26_9.histogram",
            "neg": {"type": "sigmoid", "parameters": [-10, 0]},
            "pos": {"type": "gbell", "parameters": [0.5, 2, 1]},
        },
        "adx": {
            "indicator": "adx_14.adx",
            "weak": {"type": "trapezoidal", "parameters": [0, 0, 15, 25]},
        },
    }
)


def test_columns_follow_declared_set_and_membership_order():
    eng = FuzzyEngine(SETS)
    assert eng.input_columns == ("rsi_14", "macd_12_26_9.histogram", "adx_14.adx")
    assert eng.column_names == (
        "rsi_14_oversold",
        "rsi_14_neutral",
        "rsi_14_overbought",
        "macd_hist_neg",
        "macd_hist_pos",
        "adx_weak",
    )


def test_fuzzify_matches_skfuzzy_memberships():
    rsi = np.linspace(0, 100, 501)
    hist = np.linspace(-2, 2, 501)
    adx = np.linspace(0, 60, 501)
    names, mat = FuzzyEngine(SETS).fuzzify(
        {"rsi_14": rsi, "macd_12_26_9.histogram": hist, "adx_14.adx": adx}, prefix="1h_"
    )
    assert names[0] == "1h_rsi_14_oversold" and mat.shape == (501, 6)
    expected = np.column_stack(
        [
            np.where(rsi <= 30, 1.0, fuzz.trimf(rsi, [0, 30, 40])),
            fuzz.trimf(rsi, [35, 50, 65]),
            fuzz.gaussmf(rsi, 70, 15),
            fuzz.sigmf(hist, 0, -10),
            fuzz.gbellmf(hist, 0.5, 2, 1),
            fuzz.trapmf(adx, [0, 0, 15, 25]),
        ]
    )
    np.testing.assert_allclose(mat, expected, atol=1e-12)


def test_nan_input_only_affects_that_sets_memberships():
    eng = FuzzyEngine(SETS)
    _, mat = eng.fuzzify(
        {
            "rsi_14": [np.nan, 30.0],
            "macd_12_26_9.histogram": [0.0, np.nan],
            "adx_14.adx": [10.0, 10.0],
        }
    )
    assert np.isnan(mat[0, :3]).all() and not np.isnan(mat[0, 3:]).any()
    assert np.isnan(mat[1, 3:5]).all() and not np.isnan(mat[1, [0, 1, 2, 5]]).any()
    out = eng.stream().update([math.nan, 0.0, 10.0])
    assert all(math.isnan(v) for v in out[:3]) and not any(math.isnan(v) for v in out[3:])


def test_set_id_is_accepted_as_a_fallback_key_and_missing_columns_are_reported():
    eng = FuzzyEngine(SETS)
    names, _ = eng.fuzzify({"macd_hist": [0.1]}, sets=["macd_hist"])
    assert names == ("macd_hist_neg", "macd_hist_pos")
    with pytest.raises(ValidationError) as exc:
        eng.fuzzify({"rsi_15": [1.0]}, sets=["rsi_14"])
    assert exc.value.code == "FUZZY-019" and "rsi_15" in exc.value.suggestions
    with pytest.raises(NotFoundError):
        eng.fuzzify_set("rsi_41", [1.0])
    with pytest.raises(ValidationError):
        eng.stream().update([1.0, 2.0])


_vals = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 30.0, 35.0, 40.0, 50.0, 65.0, 1.0, 15.0, 25.0]),
    st.floats(-120, 120),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(_vals, _vals, _vals), min_size=1, max_size=25))
def test_streaming_update_is_identical_to_batch(rows):
    eng = FuzzyEngine(SETS)
    arr = np.array(rows, dtype=np.float64)
    _, batch = eng.fuzzify(dict(zip(eng.input_columns, arr.T, strict=True)))
    stream = eng.stream()
    mapped = eng.stream(input_order=["adx_14.adx", "rsi_14", "macd_12_26_9.histogram"])
    for i, row in enumerate(rows):
        a = stream.update(row)
        b = mapped.update(
            {"rsi_14": row[0], "macd_12_26_9.histogram": row[1], "adx_14.adx": row[2]}
        )
        c = mapped.update([row[2], row[0], row[1]])
        np.testing.assert_array_equal(np.array(a), batch[i])
        np.testing.assert_array_equal(np.array(b), batch[i])
        np.testing.assert_array_equal(np.array(c), batch[i])


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(st.tuples(_vals, _vals, _vals), min_size=1, max_size=25),
    repeat=st.sampled_from([1, 7]),  # 7 x up to 25 rows reaches the vectorised batch size
)
def test_a_streamed_batch_is_fuzzified_like_its_bars_one_by_one(rows, repeat):
    rows = rows * repeat
    eng = FuzzyEngine(SETS)
    arr = np.array(rows, dtype=np.float64)
    stream = eng.stream(input_order=["adx_14.adx", "unused", "rsi_14", "macd_12_26_9.histogram"])
    values = dict(zip(eng.input_columns, arr.T, strict=True))
    values["macd_hist"] = values.pop("macd_12_26_9.histogram")  # by set id
    many = stream.update_many(values)
    assert many.shape == (len(rows), len(eng.column_names))
    for i, (rsi, hist, adx) in enumerate(rows):
        np.testing.assert_array_equal(many[i], stream.update([adx, 0.0, rsi, hist]))


def test_fuzzify_features_builds_the_neural_matrix_in_feature_order():
    raw = {
        "name": "mtf",
        "training_data": {"symbols": ["EURUSD"], "timeframes": ["1h", "4h"]},
        "indicators": {"rsi_14": {"type": "rsi"}, "adx_14": {"type": "adx"}},
        "fuzzy_sets": {
            "rsi_14": {"low": [0, 0, 50], "high": [50, 100, 100]},
            "trend": {"indicator": "adx_14", "weak": [0, 0, 25]},
        },
        "nn_inputs": [{"fuzzy_set": "trend", "timeframes": ["4h"]}, {"fuzzy_set": "rsi_14"}],
    }
    s = parse_strategy(raw)
    values = {
        "1h": {"rsi_14": np.array([25.0, 75.0]), "adx_14": np.array([0.0, 0.0])},
        "4h": {"rsi_14": np.array([50.0, 100.0]), "adx_14": np.array([12.5, 50.0])},
    }
    names, mat = fuzzify_features(s, values)
    assert (
        names
        == s.feature_names()
        == ("4h_trend_weak", "1h_rsi_14_low", "1h_rsi_14_high", "4h_rsi_14_low", "4h_rsi_14_high")
    )
    np.testing.assert_array_equal(mat, [[0.5, 0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0, 1.0]])
    with pytest.raises(ValidationError):
        fuzzify_features(s, {"1h": values["1h"]})
