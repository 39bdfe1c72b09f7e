"""What one CalculateFuzzy may expand to is bounded, refused before the work (issue 9, 1).

At most ``MAX_SETS`` set ids, ``MAX_FEATURES`` features and ``MAX_FEATURE_VALUES`` feature
values (bars answered x features): one more is INVALID_ARGUMENT ``FUZZY-028`` naming the field
and the bound; the largest allowed is computed (memberships checked against scikit-fuzzy).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import skfuzzy as fuzz

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import IndicatorSpec, Strategy, load_strategy_text
from ktrdr_core.timeframes import Timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_fuzzy.app import SPEC
from ktrdr_fuzzy.convert import MAX_SETS
from ktrdr_fuzzy.domain.features import (
    MAX_FEATURE_VALUES,
    MAX_FEATURES,
    FeatureCalculator,
    FeatureRequest,
)
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.testing import serve_in_process

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
MINUTE_US = 60_000_000


def _strategy(sets: int) -> Strategy:
    """A 1m strategy reading ``rsi_14`` through ``sets`` fuzzy sets of three memberships."""
    lines = [
        "name: bounds",
        "training_data:",
        "  symbols: {mode: single_symbol, list: [ZZBIG]}",
        "  timeframes: {mode: single_timeframe, list: [1m], base_timeframe: 1m}",
        "indicators:",
        "  rsi_14: {type: rsi, period: 14}",
        "fuzzy_sets:",
    ]
    for i in range(sets):
        lines += [
            f"  s{i}:",
            "    indicator: rsi_14",
            "    low: [0, 25, 50]",
            "    mid: [25, 50, 75]",
            "    high: [50, 75, 100]",
        ]
    lines.append("nn_inputs:")
    lines += [f"  - {{fuzzy_set: s{i}, timeframes: all}}" for i in range(sets)]
    return load_strategy_text("\n".join(lines) + "\n")


class _Rsi:
    """An ``IndicatorSource`` answering ``bars`` RSI values, counting the calls."""

    def __init__(self, bars: int) -> None:
        self.calls = 0
        stamps = np.arange(bars, dtype=np.int64) * MINUTE_US + 1_500_000_000 * 1_000_000
        self.rsi = np.linspace(0.0, 100.0, bars)
        self._frame = ValueFrame(stamps, ("rsi_14",), self.rsi[:, None])

    async def values(
        self,
        indicator: IndicatorSpec,
        *,
        symbol: str,
        timeframe: Timeframe,
        compute_timeframe: Timeframe | None,
        end: dt.datetime | None,
    ) -> ValueFrame:
        self.calls += 1
        return self._frame


class _CountingOffload:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return function(*args, **kwargs)


async def test_a_strategy_expanding_past_the_feature_bound_is_refused_before_any_indicator():
    strategy = _strategy(MAX_FEATURES // 3 + 1)  # 258 features
    source = _Rsi(100)
    with pytest.raises(ValidationError) as info:
        await FeatureCalculator(source).calculate(strategy, FeatureRequest(symbol="ZZBIG"))
    assert (info.value.code, info.value.field) == ("FUZZY-028", "fuzzy_sets")
    assert f"at most {MAX_FEATURES:,}" in info.value.message
    assert source.calls == 0


async def test_one_feature_value_over_the_bound_is_refused_before_fuzzifying():
    strategy = _strategy(1)  # 3 features
    source, offload = _Rsi(MAX_FEATURE_VALUES // 3 + 1), _CountingOffload()
    with pytest.raises(ValidationError) as info:
        await FeatureCalculator(source, offload=offload).calculate(
            strategy, FeatureRequest(symbol="ZZBIG")
        )
    assert (info.value.code, info.value.field) == ("FUZZY-028", "start_date")
    assert f"at most {MAX_FEATURE_VALUES:,}" in info.value.message
    assert "StreamFuzzy" in info.value.message
    assert offload.calls == 0


async def test_the_most_feature_values_allowed_are_computed():
    strategy = _strategy(1)
    bars = MAX_FEATURE_VALUES // 3 + 1
    source = _Rsi(bars)
    start = dt.datetime.fromtimestamp(1_500_000_000 + 60, dt.UTC)  # drops the first bar
    result = await FeatureCalculator(source).calculate(
        strategy, FeatureRequest(symbol="ZZBIG", start=start)
    )
    assert result.values.values.shape == (bars - 1, 3)
    np.testing.assert_allclose(
        result.values.columns()["1m_s0_mid"], fuzz.trimf(source.rsi[1:], [25, 50, 75])
    )


@pytest.fixture
async def fuzzy(tmp_path):
    async with (
        serve_in_process(INDICATORS, home=tmp_path, data_address="127.0.0.1:1") as (ind, _),
        serve_in_process(
            SPEC, home=tmp_path, strategies_dir=STRATEGIES, indicators_address=ind.address
        ) as (_, channel),
    ):
        yield fuzzy_pb2_grpc.FuzzyServiceStub(channel)


async def test_more_set_ids_than_allowed_are_invalid_argument_asking_no_dependency(fuzzy):
    # The data service is down: a request that reached it would be UNAVAILABLE.
    request = fuzzy_pb2.CalculateFuzzyRequest(
        symbol="EURUSD", strategy="rsi_trend_eurusd_1h", fuzzy_sets=["rsi_14"] * (MAX_SETS + 1)
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await fuzzy.CalculateFuzzy(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(info.value)
    assert (detail.code, detail.field) == ("FUZZY-028", "fuzzy_sets")
    assert f"at most {MAX_SETS}" in info.value.details()
