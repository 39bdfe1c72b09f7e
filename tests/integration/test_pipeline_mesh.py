"""The real mesh processes and the in-process pipeline agree exactly: CalculateIndicator and
CalculateFuzzy for the multi-timeframe strategy (EURUSD 1h + 4h + 1d on the bundled data) and the
strategy feature stream. (Errors across hops: tests/unit/pipeline/test_pipeline_equivalence.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.bars import Bars
from ktrdr_core.dates import parse_date
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_fuzzy.domain.features import FeatureRequest
from ktrdr_indicators.domain.calculation import CalculateRequest
from ktrdr_indicators.domain.sources import StoredSelection
from ktrdr_pipeline import Pipeline
from ktrdr_runtime.bars import parameters_struct, timestamps_to_us, value_columns_to_frame
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.streams import GrpcStrategyStream

pytestmark = pytest.mark.integration

STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"
MTF = "mtf_trend_follow_1h_4h_1d"
START, END = "2017-08-01", "2018-01-01"  # past the daily MACD signal's warm-up


@pytest.fixture
async def channels(mesh_layout):
    ind = open_channel(mesh_layout.address("indicators"), timeout_seconds=60)
    fuz = open_channel(mesh_layout.address("fuzzy"), timeout_seconds=60)
    yield ind, fuz
    await ind.close()
    await fuz.close()


@pytest.fixture
def pipeline(mesh_layout) -> Pipeline:
    """In-process, on the store the mesh's data service imported the bundled data into."""
    return Pipeline(data_dir=mesh_layout.home / "data", strategies_dir=STRATEGIES)


def _range(start: str, end: str) -> tuple:
    return parse_date(start, "start_date"), parse_date(end, "end_date")


async def test_calculate_indicator_on_every_strategy_timeframe_is_identical(channels, pipeline):
    strategy = await pipeline.strategy(MTF)
    stub = indicators_pb2_grpc.IndicatorServiceStub(channels[0])
    start, end = _range(START, END)
    for ind_id, spec in strategy.indicators.items():
        for tf in strategy.timeframes:
            compute = "" if tf == "1h" else tf
            reply = await stub.CalculateIndicator(
                indicators_pb2.CalculateIndicatorRequest(
                    indicator=spec.type,
                    parameters=parameters_struct(spec.params),
                    source=indicators_pb2.DataSelection(
                        symbol="EURUSD", timeframe="1h", start_date=START, end_date=END
                    ),
                    compute_timeframe=compute,
                )
            )
            local = await pipeline.calculate_indicator(
                CalculateRequest(
                    indicator=spec.type,
                    parameters=spec.params,
                    source=StoredSelection("EURUSD", parse_timeframe("1h"), start, end),
                    compute_timeframe=parse_timeframe(compute) if compute else None,
                )
            )
            remote = value_columns_to_frame(timestamps_to_us(reply.timestamps), reply.outputs)
            assert len(remote) > 2500, (ind_id, tf)
            assert remote.equals(local.values), (ind_id, tf)


async def test_calculate_fuzzy_for_the_multi_timeframe_strategy_is_identical(channels, pipeline):
    reply = await fuzzy_pb2_grpc.FuzzyServiceStub(channels[1]).CalculateFuzzy(
        fuzzy_pb2.CalculateFuzzyRequest(
            symbol="EURUSD", strategy=MTF, start_date=START, end_date=END
        )
    )
    start, end = _range(START, END)
    local = await pipeline.calculate_fuzzy(MTF, FeatureRequest("EURUSD", start=start, end=end))
    remote = value_columns_to_frame(timestamps_to_us(reply.timestamps), reply.columns)
    assert remote.names == (await pipeline.strategy(MTF)).feature_names()
    assert len(remote) > 2500 and np.isfinite(remote.values).all()
    assert remote.equals(local.values)


async def test_the_strategy_stream_over_the_mesh_is_identical(channels, pipeline):
    strategy = await pipeline.strategy(MTF)
    bars = Bars.from_frame(pipeline.store.read("EURUSD", "1h"))
    local = await pipeline.strategy_stream(strategy, symbol="EURUSD")
    remote = await GrpcStrategyStream.open(*channels, strategy=strategy, symbol="EURUSD")
    local_rows, remote_rows = [], []
    for lo in range(0, len(bars), 1000):
        part = bars.take(slice(lo, lo + 1000))
        local_rows.append(local.update(part))
        remote_rows.append(await remote.update(part))
    await remote.close()
    assert ValueFrame.concat(remote_rows).equals(ValueFrame.concat(local_rows))
