"""The indicator service over gRPC, in-process, in front of a real in-process data service."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import talib
from backtesting.test import EURUSD
from google.protobuf import struct_pb2

from ktrdr.common.v1 import common_pb2
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_data.app import SPEC as DATA_SPEC
from ktrdr_indicators.app import SPEC
from ktrdr_runtime.bars import arrays_to_bars, arrays_to_columns, value_columns_to_arrays
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.testing import serve_in_process

CLOSE = EURUSD["Close"].to_numpy(np.float64)
STAMPS = (EURUSD.index.tz_localize("UTC").as_unit("us").asi8).astype(np.int64)


def _params(**values) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(values)
    return out


def _bars(lo: int = 0, hi: int = len(EURUSD)) -> list[common_pb2.Bar]:
    frame = EURUSD.iloc[lo:hi]
    return arrays_to_bars(
        STAMPS[lo:hi],
        {k.lower(): frame[k].to_numpy() for k in ("Open", "High", "Low", "Close", "Volume")},
    )


@pytest.fixture
async def indicators(tmp_path):
    async with (
        serve_in_process(DATA_SPEC, home=tmp_path) as (data, _),
        serve_in_process(SPEC, home=tmp_path, data_address=data.address) as (_, channel),
    ):
        yield indicators_pb2_grpc.IndicatorServiceStub(channel)


async def _error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


async def test_lists_the_catalogue_and_filters_by_category(indicators):
    everything = await indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest())
    names = {i.name for i in everything.indicators}
    assert {"sma", "ema", "rsi", "macd", "adx", "ichimoku", "zigzag", "squeeze_intensity"} <= names
    momentum = await indicators.ListIndicators(
        indicators_pb2.ListIndicatorsRequest(category="momentum")
    )
    assert momentum.indicators and all(
        i.category == indicators_pb2.INDICATOR_CATEGORY_MOMENTUM for i in momentum.indicators
    )
    err = await _error(
        indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(category="momentun"))
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_info_describes_parameters_outputs_and_warmup(indicators):
    reply = await indicators.GetIndicatorInfo(indicators_pb2.GetIndicatorInfoRequest(name="macd"))
    info = reply.indicator
    assert list(info.outputs) == ["line", "signal", "histogram"]
    assert {p.name for p in info.parameters} >= {"fast", "slow", "signal"}
    assert info.warmup_bars == 33
    err = await _error(
        indicators.GetIndicatorInfo(indicators_pb2.GetIndicatorInfoRequest(name="rsii"))
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "rsi" in error_detail_of(err).suggestions


async def test_calculate_on_supplied_bars_equals_talib(indicators):
    reply = await indicators.CalculateIndicator(
        indicators_pb2.CalculateIndicatorRequest(
            indicator="rsi", data=_bars(0, 500), parameters=_params(period=14)
        )
    )
    assert reply.indicator_id == "rsi_14"
    values = value_columns_to_arrays(reply.outputs, 500)["rsi_14"]
    expected = talib.RSI(CLOSE[:500], timeperiod=14)
    np.testing.assert_allclose(values, expected, rtol=1e-9, equal_nan=True)
    assert list(reply.outputs[0].ready[:14]) == [False] * 14 and reply.outputs[0].ready[14]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": 0}, "parameters.period"),
        ({"period": 2.5}, "parameters.period"),
        ({"perod": 14}, "parameters.perod"),
    ],
)
async def test_bad_parameters_are_invalid_argument_naming_them(indicators, params, field):
    err = await _error(
        indicators.CalculateIndicator(
            indicators_pb2.CalculateIndicatorRequest(
                indicator="rsi", data=_bars(0, 50), parameters=_params(**params)
            )
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(err).field == field


async def test_calculate_on_a_stored_range_is_past_warmup_from_its_first_bar(indicators):
    reply = await indicators.CalculateIndicator(
        indicators_pb2.CalculateIndicatorRequest(
            indicator="sma",
            parameters=_params(period=50),
            source=indicators_pb2.DataSelection(
                symbol="EURUSD", timeframe="1h", start_date="2017-09-01", end_date="2017-10-01"
            ),
        )
    )
    mask = (EURUSD.index >= "2017-09-01") & (EURUSD.index < "2017-10-01")
    values = value_columns_to_arrays(reply.outputs, len(reply.timestamps))["sma_50"]
    np.testing.assert_allclose(values, talib.SMA(CLOSE, 50)[mask], rtol=1e-12)
    assert not np.isnan(values).any()


async def test_higher_timeframe_values_appear_only_after_the_higher_bar_closed(indicators):
    n = 600
    request = indicators_pb2.CalculateIndicatorRequest(
        indicator="ema",
        data=_bars(0, n),
        parameters=_params(period=5),
        data_timeframe="1h",
        compute_timeframe="4h",
    )
    full = value_columns_to_arrays((await indicators.CalculateIndicator(request)).outputs, n)
    full = full["ema_5"]
    assert np.isfinite(full).sum() > 100
    # No look-ahead: the value at bar t never changes when bars after t are removed.
    for t in (60, 61, 62, 63, 200, 333, n - 1):
        request.ClearField("data")
        request.data.extend(_bars(0, t + 1))
        prefix = value_columns_to_arrays(
            (await indicators.CalculateIndicator(request)).outputs, t + 1
        )["ema_5"]
        np.testing.assert_allclose(prefix[t], full[t], equal_nan=True)


async def test_stream_gives_one_value_per_bar_equal_to_batch(indicators):
    specs = [
        indicators_pb2.IndicatorSpec(indicator="rsi", parameters=_params(period=14)),
        indicators_pb2.IndicatorSpec(id="trend", indicator="macd"),
        indicators_pb2.IndicatorSpec(indicator="bbands", parameters=_params(period=20)),
    ]
    n = 1200
    frame = EURUSD.iloc[:n]
    cols = {k.lower(): frame[k].to_numpy() for k in ("Open", "High", "Low", "Close", "Volume")}

    async def requests():
        yield indicators_pb2.StreamIndicatorsRequest(
            config=indicators_pb2.StreamIndicatorsConfig(indicators=specs)
        )
        lo = 0
        for size in (1, 7, 500, 692):
            hi = lo + size
            yield indicators_pb2.StreamIndicatorsRequest(
                bars=arrays_to_columns(
                    STAMPS[lo:hi],
                    cols["open"][lo:hi],
                    cols["high"][lo:hi],
                    cols["low"][lo:hi],
                    cols["close"][lo:hi],
                    cols["volume"][lo:hi],
                )
            )
            lo = hi

    replies = [r async for r in indicators.StreamIndicators(requests())]
    assert [len(r.timestamps_us) for r in replies] == [1, 7, 500, 692]
    streamed = {}
    for r in replies:
        for name, v in value_columns_to_arrays(r.columns, len(r.timestamps_us)).items():
            streamed.setdefault(name, []).append(v)
    streamed = {k: np.concatenate(v) for k, v in streamed.items()}
    assert list(streamed) == [c.name for c in replies[0].columns]
    np.testing.assert_allclose(
        streamed["rsi_14"], talib.RSI(CLOSE[:n], 14), rtol=1e-9, equal_nan=True
    )
    _, signal, _ = talib.MACD(CLOSE[:n], 12, 26, 9)
    np.testing.assert_allclose(
        streamed["trend.signal"], signal, rtol=1e-9, atol=1e-12, equal_nan=True
    )
    assert list(streamed) == [
        "rsi_14",
        "trend.line",
        "trend.signal",
        "trend.histogram",
        "bollinger_bands_20_2.upper",
        "bollinger_bands_20_2.middle",
        "bollinger_bands_20_2.lower",
    ]


async def test_stream_must_start_with_its_config(indicators):
    async def requests():
        yield indicators_pb2.StreamIndicatorsRequest(bars=common_pb2.BarColumns())

    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in indicators.StreamIndicators(requests()):
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(info.value).field == "config"


async def test_stored_source_with_data_service_down_is_unavailable(tmp_path):
    async with serve_in_process(
        SPEC, home=tmp_path, data_address="127.0.0.1:1", call_timeout_seconds=10
    ) as (_, channel):
        stub = indicators_pb2_grpc.IndicatorServiceStub(channel)
        err = await _error(
            stub.CalculateIndicator(
                indicators_pb2.CalculateIndicatorRequest(
                    indicator="sma",
                    source=indicators_pb2.DataSelection(symbol="EURUSD", timeframe="1h"),
                )
            )
        )
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert "data service" in err.details()
