"""What one CalculateFuzzy may expand to is bounded, refused before the work (issue 9, 1).

At most ``MAX_FEATURES`` features and ``MAX_FEATURE_VALUES`` feature
values (bars answered x features): one more is INVALID_ARGUMENT ``FUZZY-028`` naming the field
and the bound; the largest allowed is computed (memberships checked against scikit-fuzzy).
The bound on set ids (``MAX_SETS``) is in ``test_fuzzy_servicer``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
import skfuzzy as fuzz

from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import IndicatorSpec, Strategy, load_strategy_text
from ktrdr_core.values import ValueFrame
from ktrdr_fuzzy.domain.features import (
    MAX_FEATURE_VALUES,
    MAX_FEATURES,
    FeatureCalculator,
    FeatureRequest,
)

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

    async def values(self, indicator: IndicatorSpec, **selection: Any) -> ValueFrame:
        self.calls += 1
        return self._frame


async def _never(function: Any, *args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a refused calculation was fuzzified")


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
    source = _Rsi(MAX_FEATURE_VALUES // 3 + 1)
    with pytest.raises(ValidationError) as info:
        await FeatureCalculator(source, offload=_never).calculate(
            strategy, FeatureRequest(symbol="ZZBIG")
        )
    assert (info.value.code, info.value.field) == ("FUZZY-028", "start_date")
    assert f"at most {MAX_FEATURE_VALUES:,}" in info.value.message
    assert "StreamFuzzy" in info.value.message
    assert source.calls == 1


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
