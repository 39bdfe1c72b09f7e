"""CPU work runs off the event loop: the service keeps answering health checks meanwhile."""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_indicators.domain.bars import random_walk_bars
from ktrdr_indicators.domain.sets import IndicatorSet
from ktrdr_runtime.bars import bars_to_columns, value_columns_to_arrays
from ktrdr_runtime.testing import serve_in_process

SPECS = [{"indicator": name} for name in ("rsi", "macd", "adx", "bbands", "atr", "stochastic")]
N = 30_000  # about a second of pure-Python stream updates


async def test_health_answers_while_a_large_stream_batch_is_computed(tmp_path):
    walk = random_walk_bars(N, seed=7, volatility=0.01, spread=0.002, min_volume=100)
    hourly = 1_500_000_000_000_000 + np.arange(N, dtype=np.int64) * 3_600_000_000
    bars = dataclasses.replace(walk, timestamps_us=hourly)
    config = indicators_pb2.StreamIndicatorsConfig(
        indicators=[indicators_pb2.IndicatorSpec(indicator=s["indicator"]) for s in SPECS]
    )
    async with serve_in_process(INDICATORS, home=tmp_path, data_address="127.0.0.1:1") as (
        _,
        channel,
    ):
        health = health_pb2_grpc.HealthStub(channel)
        stream = indicators_pb2_grpc.IndicatorServiceStub(channel).StreamIndicators()
        await stream.write(indicators_pb2.StreamIndicatorsRequest(config=config))
        await stream.write(indicators_pb2.StreamIndicatorsRequest(bars=bars_to_columns(bars)))
        reply = asyncio.ensure_future(stream.read())
        answered_meanwhile = 0
        while not reply.done():
            status = await health.Check(health_pb2.HealthCheckRequest(), timeout=60)
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            answered_meanwhile += not reply.done()
        result = await reply
        await stream.done_writing()
    # With the batch computed on the loop, no health check could be answered before it ended.
    assert answered_meanwhile >= 3
    values = value_columns_to_arrays(result.columns, N)
    expected = IndicatorSet(SPECS).compute(bars)
    np.testing.assert_allclose(values["rsi_14"], expected["rsi_14"], rtol=1e-9, equal_nan=True)
