"""Raw indicator inputs (``nn_inputs: {raw_indicator, timeframes, normalization}``): grammar,
resolved order, and their values in CalculateFuzzy and the feature stream."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from backtesting.test import EURUSD

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_core.bars import Bars
from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import load_strategy_text
from ktrdr_core.strategy.features import resolve_features
from ktrdr_core.values import ValueFrame
from ktrdr_data.app import SPEC as DATA
from ktrdr_fuzzy.app import SPEC as FUZZY
from ktrdr_fuzzy.domain.features import FeatureRequest
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_indicators.domain.catalogue import create
from ktrdr_pipeline import Pipeline
from ktrdr_runtime.bars import timestamps_to_us, value_columns_to_frame
from ktrdr_runtime.testing import serve_in_process

STRATEGY = """
name: raw_mix
training_data:
  symbols: [EURUSD]
  timeframes: {list: [1h, 4h], base_timeframe: 1h}
indicators:
  rsi_14: {type: rsi, period: 14}
  macd_12_26_9: {type: macd, fast: 12, slow: 26, signal: 9}
fuzzy_sets:
  rsi_14:
    low: [0, 30, 50]
    high: [50, 70, 100]
nn_inputs:
  - {raw_indicator: macd_12_26_9.line, timeframes: [4h], normalization: zscore}
  - {fuzzy_set: rsi_14, timeframes: [1h]}
  - {raw_indicator: rsi_14, timeframes: all, normalization: minmax}
"""


def _outputs(kind: str, params: dict) -> tuple[str, ...]:
    return create(kind, params).info.outputs


def test_raw_entries_resolve_in_order_with_their_normalization():
    features = resolve_features(load_strategy_text(STRATEGY, validator=_outputs))
    assert [(f.name, f.kind, f.indicator, f.normalization) for f in features] == [
        ("4h_macd_12_26_9.line_raw", "raw", "macd_12_26_9.line", "zscore"),
        ("1h_rsi_14_low", "fuzzy", "rsi_14", "none"),
        ("1h_rsi_14_high", "fuzzy", "rsi_14", "none"),
        ("1h_rsi_14_raw", "raw", "rsi_14", "minmax"),
        ("4h_rsi_14_raw", "raw", "rsi_14", "minmax"),
    ]


@pytest.mark.parametrize(
    ("entry", "field", "suggestions"),
    [
        ("{raw_indicator: rsi_41}", "nn_inputs[0].raw_indicator", ["rsi_14"]),
        ("{raw_indicator: macd_12_26_9}", "nn_inputs[0].raw_indicator", None),
        ("{raw_indicator: macd_12_26_9.lin}", "nn_inputs[0].raw_indicator", None),
        ("{raw_indicator: rsi_14, normalization: z-score}", "nn_inputs[0].normalization", None),
        ("{raw_indicator: rsi_14, fuzzy_set: rsi_14}", "nn_inputs[0]", None),
        ("{fuzzy_set: rsi_14, normalization: zscore}", "nn_inputs[0].normalization", None),
        ("{raw_indicator: rsi_14, timeframes: [5h]}", "nn_inputs[0].timeframes[0]", None),
    ],
)
def test_bad_raw_entries_are_rejected_naming_the_entry(entry, field, suggestions):
    text = STRATEGY.split("nn_inputs:")[0] + f"nn_inputs:\n  - {entry}\n"
    with pytest.raises(ValidationError) as info:
        load_strategy_text(text, validator=_outputs)
    assert info.value.field == field
    if suggestions is not None:
        assert list(info.value.suggestions) == suggestions
    if entry == "{raw_indicator: macd_12_26_9}":  # several outputs: name one
        assert "macd_12_26_9.line" in info.value.suggestions
    if "z-score" in entry:
        assert "zscore" in info.value.suggestions


def test_a_raw_entry_repeated_on_a_timeframe_is_rejected():
    text = STRATEGY.replace(
        "  - {fuzzy_set: rsi_14, timeframes: [1h]}", "  - {raw_indicator: rsi_14, timeframes: [4h]}"
    )
    with pytest.raises(ValidationError) as info:
        load_strategy_text(text, validator=_outputs)
    assert info.value.field == "nn_inputs[2]" and "repeats" in info.value.message


async def test_calculate_fuzzy_returns_raw_values_unscaled_in_the_resolved_order(tmp_path):
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "raw_mix.yaml").write_text(STRATEGY)
    async with (
        serve_in_process(DATA, home=tmp_path) as (data, _),
        serve_in_process(INDICATORS, home=tmp_path, data_address=data.address) as (ind, _),
        serve_in_process(
            FUZZY, home=tmp_path, strategies_dir=strategies, indicators_address=ind.address
        ) as (_, channel),
    ):
        reply = await fuzzy_pb2_grpc.FuzzyServiceStub(channel).CalculateFuzzy(
            fuzzy_pb2.CalculateFuzzyRequest(symbol="EURUSD", strategy="raw_mix")
        )
    frame = value_columns_to_frame(timestamps_to_us(reply.timestamps), reply.columns)
    assert frame.names == tuple(f.name for f in reply.features)
    assert frame.names[0] == "4h_macd_12_26_9.line_raw" and frame.names[-1] == "4h_rsi_14_raw"
    normalizations = [fuzzy_pb2.Normalization.Name(f.normalization) for f in reply.features]
    assert normalizations == [
        "NORMALIZATION_ZSCORE",
        "NORMALIZATION_NONE",
        "NORMALIZATION_NONE",
        "NORMALIZATION_MINMAX",
        "NORMALIZATION_MINMAX",
    ]
    assert reply.features[0].kind == fuzzy_pb2.FEATURE_KIND_RAW
    np.testing.assert_allclose(
        frame.column("1h_rsi_14_raw"),
        talib.RSI(EURUSD["Close"].to_numpy(np.float64), 14),
        rtol=1e-9,
        equal_nan=True,
    )
    # the same features bar by bar, through the in-process feature stream
    pipeline = Pipeline(data_dir=tmp_path / "data", strategies_dir=strategies)
    stream = await pipeline.strategy_stream("raw_mix", symbol="EURUSD")
    bars = Bars.from_frame(pipeline.store.read("EURUSD", "1h"))
    rows = ValueFrame.concat(
        [stream.update(bars.take(slice(i, i + 999))) for i in range(0, 5000, 999)]
    )
    batch = await pipeline.calculate_fuzzy("raw_mix", FeatureRequest(symbol="EURUSD"))
    assert rows.names == frame.names and batch.values.equals(frame)
    np.testing.assert_allclose(rows.values, frame.values, rtol=1e-9, atol=1e-12, equal_nan=True)
