"""The work one indicator request may ask for is bounded, refused before computing (issue 9, 1).

A calculation covers at most ``MAX_CALCULATION_BARS`` bars (inline, or the stored history up
to the end date), a stream config at most ``MAX_STREAM_INDICATORS`` indicators: one more is
INVALID_ARGUMENT ``IND-017`` naming the field and the bound, the largest allowed is computed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import numpy as np
import pytest
import talib

from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.bars import Bars
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.errors import ValidationError
from ktrdr_core.timeframes import Timeframe, parse_timeframe
from ktrdr_indicators.app import SPEC
from ktrdr_indicators.domain.calculation import (
    MAX_CALCULATION_BARS,
    MAX_STREAM_INDICATORS,
    CalculateRequest,
    IndicatorCalculator,
)
from ktrdr_indicators.domain.sources import StoredSelection
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.testing import serve_in_process

MINUTE_US = 60_000_000


def _bars(count: int) -> Bars:
    stamps = np.arange(count, dtype=np.int64) * MINUTE_US + 1_500_000_000 * 1_000_000
    close = 1.1 + 0.01 * np.sin(np.arange(count) / 50.0)
    return Bars(stamps, close, close + 0.001, close - 0.001, close, np.ones(count))


class _StoredSeries:
    """A stored series of ``count`` 1m bars (the ``BarSource`` a composition root plugs in)."""

    def __init__(self, count: int) -> None:
        self._bars = _bars(count)

    async def bars(self, *, symbol: str, timeframe: Timeframe, end: dt.datetime | None) -> Bars:
        return self._bars

    async def calendar(self, *, symbol: str, timeframe: Timeframe) -> TradingCalendar:
        return get_calendar("crypto_24_7")


async def _never(function: Any, *args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a refused calculation was computed")


SOURCE = StoredSelection(symbol="ZZBIG", timeframe=parse_timeframe("1m"))


async def test_a_stored_history_one_bar_over_the_bound_is_refused_before_computing():
    calculator = IndicatorCalculator(_StoredSeries(MAX_CALCULATION_BARS + 1), offload=_never)
    with pytest.raises(ValidationError) as info:
        await calculator.calculate(CalculateRequest(indicator="sma", source=SOURCE))
    assert (info.value.code, info.value.field) == ("IND-017", "source.end_date")
    assert f"{MAX_CALCULATION_BARS + 1:,}" in info.value.message
    assert f"1 to {MAX_CALCULATION_BARS:,} bars" in info.value.message
    assert "StreamIndicators" in info.value.message


async def test_the_largest_allowed_stored_history_is_computed():
    calculator = IndicatorCalculator(
        _StoredSeries(MAX_CALCULATION_BARS),
    )
    result = await calculator.calculate(
        CalculateRequest(indicator="sma", parameters={"period": 20}, source=SOURCE)
    )
    close = _bars(MAX_CALCULATION_BARS).close
    assert len(result.values) == MAX_CALCULATION_BARS
    np.testing.assert_allclose(
        result.values.columns()["sma_20"], talib.SMA(close, 20), equal_nan=True
    )


async def test_inline_data_over_the_bound_is_refused_naming_data():
    with pytest.raises(ValidationError) as info:
        await IndicatorCalculator(None, offload=_never).calculate(
            CalculateRequest(indicator="sma", bars=_bars(MAX_CALCULATION_BARS + 1))
        )
    assert (info.value.code, info.value.field) == ("IND-017", "data")


@pytest.fixture
async def indicators(tmp_path):
    async with serve_in_process(SPEC, home=tmp_path, data_address="127.0.0.1:1") as (_, ch):
        yield indicators_pb2_grpc.IndicatorServiceStub(ch)


def _config(count: int) -> indicators_pb2.StreamIndicatorsRequest:
    specs = [indicators_pb2.IndicatorSpec(id=f"sma_{i}", indicator="sma") for i in range(count)]
    return indicators_pb2.StreamIndicatorsRequest(
        config=indicators_pb2.StreamIndicatorsConfig(indicators=specs)
    )


async def test_a_stream_config_with_one_indicator_too_many_is_invalid_argument(indicators):
    call = indicators.StreamIndicators(iter([_config(MAX_STREAM_INDICATORS + 1)]))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call.read()
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(info.value)
    assert (detail.code, detail.field) == ("IND-017", "config.indicators")
    assert f"1 to {MAX_STREAM_INDICATORS}" in info.value.details()


async def test_a_stream_config_with_the_most_indicators_allowed_streams(indicators):
    bars = _bars(30)
    columns = indicators_pb2.StreamIndicatorsRequest()
    columns.bars.timestamps_us.extend(bars.timestamps_us.tolist())
    for name in ("open", "high", "low", "close"):
        getattr(columns.bars, name).extend(getattr(bars, name).tolist())
    columns.bars.volume.extend([1] * 30)
    call = indicators.StreamIndicators(iter([_config(MAX_STREAM_INDICATORS), columns]))
    reply = await call.read()
    assert len(reply.timestamps_us) == 30
    assert len(reply.columns) == MAX_STREAM_INDICATORS
