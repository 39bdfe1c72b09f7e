"""The in-process pipeline (domain objects) and the services over gRPC answer the same, bit for
bit: CalculateIndicator, CalculateFuzzy, the strategy feature stream, and errors across hops."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
import pytest

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.bars import Bars
from ktrdr_core.dates import parse_date
from ktrdr_core.errors import KtrdrError
from ktrdr_core.strategy.document import load_strategy
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_data.app import SPEC as DATA
from ktrdr_fuzzy.app import SPEC as FUZZY
from ktrdr_fuzzy.domain.features import FeatureRequest
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_indicators.domain.calculation import CalculateRequest
from ktrdr_indicators.domain.sources import StoredSelection
from ktrdr_pipeline import Pipeline
from ktrdr_runtime.bars import parameters_struct, timestamps_to_us, value_columns_to_frame
from ktrdr_runtime.grpc_errors import error_detail_of, error_message_of
from ktrdr_runtime.streams import GrpcStrategyStream
from ktrdr_runtime.testing import serve_in_process

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
MTF = "mtf_trend_follow_1h_4h_1d"


@pytest.fixture
async def mesh(tmp_path):
    """Data, indicator and fuzzy services in-process, and a pipeline on the same store."""
    async with (
        serve_in_process(DATA, home=tmp_path) as (data, _),
        serve_in_process(INDICATORS, home=tmp_path, data_address=data.address) as (ind, ic),
        serve_in_process(
            FUZZY, home=tmp_path, strategies_dir=STRATEGIES, indicators_address=ind.address
        ) as (_, fc),
    ):
        pipeline = Pipeline(data_dir=tmp_path / "data", strategies_dir=STRATEGIES)
        yield pipeline, ic, fc


@pytest.mark.parametrize(
    ("indicator", "params", "compute"),
    [("macd", {"fast": 12, "slow": 26, "signal": 9}, "4h"), ("rsi", {"period": 14}, "1d")],
)
async def test_calculate_indicator_in_process_equals_the_service(mesh, indicator, params, compute):
    pipeline, ic, _ = mesh
    selection = {"symbol": "EURUSD", "timeframe": "1h", "start_date": "2017-09-01"}
    reply = await indicators_pb2_grpc.IndicatorServiceStub(ic).CalculateIndicator(
        indicators_pb2.CalculateIndicatorRequest(
            indicator=indicator,
            parameters=parameters_struct(params),
            source=indicators_pb2.DataSelection(**selection, end_date="2017-11-01"),
            compute_timeframe=compute,
        )
    )
    local = await pipeline.calculate_indicator(
        CalculateRequest(
            indicator=indicator,
            parameters=params,
            source=StoredSelection(
                "EURUSD",
                parse_timeframe("1h"),
                parse_date("2017-09-01", "start"),
                parse_date("2017-11-01", "end"),
            ),
            compute_timeframe=parse_timeframe(compute),
        )
    )
    remote = value_columns_to_frame(timestamps_to_us(reply.timestamps), reply.outputs)
    assert reply.indicator_id == local.indicator.name
    assert len(remote) > 400 and np.isfinite(remote.values).all()
    assert remote.equals(local.values)


async def test_calculate_fuzzy_in_process_equals_the_service(mesh):
    pipeline, _, fc = mesh
    reply = await fuzzy_pb2_grpc.FuzzyServiceStub(fc).CalculateFuzzy(
        fuzzy_pb2.CalculateFuzzyRequest(
            symbol="EURUSD", strategy=MTF, start_date="2017-09-01", end_date="2017-12-01"
        )
    )
    local = await pipeline.calculate_fuzzy(
        MTF,
        FeatureRequest(
            symbol="EURUSD",
            start=parse_date("2017-09-01", "start"),
            end=parse_date("2017-12-01", "end"),
        ),
    )
    remote = value_columns_to_frame(timestamps_to_us(reply.timestamps), reply.columns)
    assert remote.names == load_strategy(STRATEGIES / f"{MTF}.yaml").feature_names()
    assert len(remote) > 1000 and np.isfinite(remote.values).all()
    assert remote.equals(local.values)
    assert [f.name for f in reply.features] == list(remote.names)


async def test_strategy_stream_in_process_equals_the_two_streams_over_grpc(mesh):
    pipeline, ic, fc = mesh
    strategy = await pipeline.strategy(MTF)
    bars = Bars.from_frame(pipeline.store.read("EURUSD", "1h"))
    local = await pipeline.strategy_stream(strategy, symbol="EURUSD")
    remote = await GrpcStrategyStream.open(ic, fc, strategy=strategy, symbol="EURUSD")
    local_rows, remote_rows = [], []
    for lo, hi in ((0, 1), (1, 700), (700, 2500), (2500, len(bars))):
        local_rows.append(local.update(bars.take(slice(lo, hi))))
        remote_rows.append(await remote.update(bars.take(slice(lo, hi))))
    await remote.close()
    streamed = ValueFrame.concat(remote_rows)
    assert streamed.names == strategy.feature_names()
    assert streamed.equals(ValueFrame.concat(local_rows))
    assert np.isfinite(streamed.values[-1000:]).all()


async def _grpc_error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


async def test_a_misspelt_symbol_keeps_its_suggestions_through_each_hop(mesh):
    pipeline, ic, fc = mesh
    err = await _grpc_error(
        indicators_pb2_grpc.IndicatorServiceStub(ic).CalculateIndicator(
            indicators_pb2.CalculateIndicatorRequest(
                indicator="sma",
                source=indicators_pb2.DataSelection(symbol="EURUSE", timeframe="1h"),
            )
        )
    )
    detail = error_detail_of(err)
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert (detail.code, detail.field, list(detail.suggestions)) == (
        "DATA-004",
        "source.symbol",
        ["EURUSD"],
    )
    message = error_message_of(err)
    assert message.count("Did you mean") == 1
    with pytest.raises(KtrdrError) as local:
        await pipeline.calculate_indicator(
            CalculateRequest(
                indicator="sma", source=StoredSelection("EURUSE", parse_timeframe("1h"))
            )
        )
    assert (local.value.code, local.value.field, local.value.full_message) == (
        detail.code,
        detail.field,
        message,
    )
    # one hop further: the fuzzy request's own field is "symbol"
    err = await _grpc_error(
        fuzzy_pb2_grpc.FuzzyServiceStub(fc).CalculateFuzzy(
            fuzzy_pb2.CalculateFuzzyRequest(symbol="EURUSE", strategy=MTF)
        )
    )
    detail = error_detail_of(err)
    assert (detail.code, detail.field, list(detail.suggestions)) == (
        "DATA-004",
        "symbol",
        ["EURUSD"],
    )
    with pytest.raises(KtrdrError) as local:
        await pipeline.calculate_fuzzy(MTF, FeatureRequest(symbol="EURUSE"))
    assert (local.value.field, local.value.full_message) == (
        detail.field,
        error_message_of(err),
    )


async def test_a_strategy_with_a_misspelt_parameter_is_refused_alike_by_both_catalogues(
    tmp_path,
):
    text = (STRATEGIES / "rsi_trend_eurusd_1h.yaml").read_text()
    assert "rsi_14: {type: rsi, period: 14}" in text
    bad = tmp_path / "strategies"
    bad.mkdir()
    (bad / "bad.yaml").write_text(text.replace("period: 14}", "perod: 14}", 1))
    async with (
        serve_in_process(INDICATORS, home=tmp_path, data_address="127.0.0.1:1") as (ind, _),
        serve_in_process(
            FUZZY, home=tmp_path, strategies_dir=bad, indicators_address=ind.address
        ) as (_, fc),
    ):
        err = await _grpc_error(
            fuzzy_pb2_grpc.FuzzyServiceStub(fc).ListFuzzySets(
                fuzzy_pb2.ListFuzzySetsRequest(strategy="bad")
            )
        )
    detail = error_detail_of(err)
    assert (detail.code, detail.field, list(detail.suggestions)) == (
        "FUZZY-012",
        "indicators.rsi_14.parameters.perod",
        ["period"],
    )
    with pytest.raises(KtrdrError) as local:
        await Pipeline(data_dir=tmp_path / "data", strategies_dir=bad).strategy("bad")
    assert (local.value.code, local.value.field, local.value.full_message) == (
        detail.code,
        detail.field,
        error_message_of(err),
    )
    assert local.value.details["cause_code"] == detail.metadata["cause_code"] == "IND-002"
