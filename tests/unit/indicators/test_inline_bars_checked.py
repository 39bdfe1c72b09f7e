"""Bars supplied inline are held to the import rules before anything is computed (issue 9, 11)."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from backtesting.test import EURUSD
from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.common.v1 import common_pb2
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_indicators.app import SPEC
from ktrdr_runtime.bars import arrays_to_columns
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.testing import serve_in_process

FRAME = EURUSD.iloc[:40]
STAMPS = FRAME.index.tz_localize("UTC").as_unit("us").asi8
COLS = {k.lower(): FRAME[k].to_numpy(np.float64) for k in ("Open", "High", "Low", "Close")}
COLS["volume"] = FRAME["Volume"].to_numpy(np.float64)


@pytest.fixture
async def indicators(tmp_path):
    async with serve_in_process(SPEC, home=tmp_path, data_address="127.0.0.1:1") as (_, ch):
        yield indicators_pb2_grpc.IndicatorServiceStub(ch)


def _rows(order: np.ndarray, *, drop_timestamp: int | None = None) -> list[common_pb2.Bar]:
    bars = []
    for i in order:
        ts = Timestamp()
        if i != drop_timestamp:
            ts.FromMicroseconds(int(STAMPS[i]))
        bars.append(
            common_pb2.Bar(
                timestamp=ts,
                open=COLS["open"][i],
                high=COLS["high"][i],
                low=COLS["low"][i],
                close=COLS["close"][i],
                volume=int(COLS["volume"][i]),
            )
        )
    return bars


async def _calculate(indicators, data) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await indicators.CalculateIndicator(
            indicators_pb2.CalculateIndicatorRequest(indicator="sma", data=data)
        )
    return info.value


@pytest.mark.parametrize(
    ("data", "row", "rule"),
    [
        (_rows(np.array([0, 1, 2, 4, 3, *range(5, 40)])), 4, "not_increasing"),  # unsorted
        (_rows(np.array([0, 1, 2, 2, *range(3, 40)])), 3, "not_increasing"),  # duplicate
        (_rows(np.arange(40), drop_timestamp=7), 7, "missing_timestamp"),  # 1970-01-01
    ],
)
async def test_calculate_refuses_unsorted_duplicate_or_undated_inline_bars(
    indicators, data, row, rule
):
    err = await _calculate(indicators, data)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("COMMON-005", "data")
    assert dict(detail.metadata) == {"row": str(row), "rule": rule}


async def test_calculate_refuses_a_bar_whose_high_is_below_its_close(indicators):
    data = _rows(np.arange(40))
    data[12].high = max(data[12].low, min(data[12].open, data[12].close))
    data[12].close = data[12].high + 1e-4
    err = await _calculate(indicators, data)
    assert dict(error_detail_of(err).metadata) == {"row": "12", "rule": "high_below_body"}


async def test_valid_inline_bars_still_compute(indicators):
    reply = await indicators.CalculateIndicator(
        indicators_pb2.CalculateIndicatorRequest(indicator="sma", data=_rows(np.arange(40)))
    )
    assert len(reply.timestamps) == 40


def _batch(lo: int, hi: int, stamps: np.ndarray = STAMPS) -> indicators_pb2.StreamIndicatorsRequest:
    return indicators_pb2.StreamIndicatorsRequest(
        bars=arrays_to_columns(stamps[lo:hi], *(COLS[k][lo:hi] for k in COLS))
    )


async def _stream(indicators, batches) -> tuple[int, grpc.aio.AioRpcError]:
    async def requests():
        yield indicators_pb2.StreamIndicatorsRequest(
            config=indicators_pb2.StreamIndicatorsConfig(
                indicators=[indicators_pb2.IndicatorSpec(indicator="rsi")]
            )
        )
        for b in batches:
            yield b

    answered = 0
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in indicators.StreamIndicators(requests()):
            answered += 1
    return answered, info.value


async def test_a_stream_batch_that_goes_back_in_time_is_refused(indicators):
    answered, err = await _stream(indicators, [_batch(0, 20), _batch(10, 30)])
    assert answered == 1  # the first batch was computed, the second never
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("COMMON-005", "bars")
    assert dict(detail.metadata) == {"row": "0", "rule": "not_increasing"}


async def test_a_stream_batch_with_a_bad_bar_is_refused_before_computing(indicators):
    stamps = STAMPS.copy()
    stamps[25] = stamps[24]
    answered, err = await _stream(indicators, [_batch(0, 20), _batch(20, 30, stamps)])
    assert answered == 1
    assert dict(error_detail_of(err).metadata) == {"row": "5", "rule": "not_increasing"}
