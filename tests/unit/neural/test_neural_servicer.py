"""The neural service over gRPC, in-process with real data, indicator and fuzzy services."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.protobuf import struct_pb2
from neural_testutil import STRATEGIES, feature_services

from ktrdr.common.v1 import common_pb2
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_neural.app import SPEC as NEURAL
from ktrdr_runtime.bars import timestamp_us
from ktrdr_runtime.grpc_errors import error_detail_of, error_message_of
from ktrdr_runtime.testing import serve_in_process

STRATEGY = "rsi_trend_eurusd_1h"


@contextlib.asynccontextmanager
async def mesh(home: Path) -> AsyncIterator[tuple[neural_pb2_grpc.NeuralServiceStub, object]]:
    async with (
        feature_services(home) as (data, fz, fz_channel),
        serve_in_process(
            NEURAL,
            home=home,
            strategies_dir=STRATEGIES,
            data_address=data.address,
            fuzzy_address=fz.address,
        ) as (_, channel),
    ):
        yield (
            neural_pb2_grpc.NeuralServiceStub(channel),
            fuzzy_pb2_grpc.FuzzyServiceStub(fz_channel),
        )


def _config(**values) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(values)
    return out


def _train_request(epochs: int = 2) -> neural_pb2.TrainModelRequest:
    return neural_pb2.TrainModelRequest(
        strategy=STRATEGY,
        config=_config(epochs=epochs, batch_size=128),
        start_date="2017-06-01",
        end_date="2018-01-01",
    )


async def _train(stub, epochs: int = 2) -> list[neural_pb2.Training]:
    return [r.training async for r in stub.TrainModel(_train_request(epochs))]


async def _features(fuzzy, start="2017-12-01", end="2017-12-08"):
    reply = await fuzzy.CalculateFuzzy(
        fuzzy_pb2.CalculateFuzzyRequest(
            symbol="EURUSD", strategy=STRATEGY, start_date=start, end_date=end
        )
    )
    stamps = [t.seconds * 1_000_000 + t.nanos // 1000 for t in reply.timestamps]
    return stamps, list(reply.columns)


async def _stream(stub, model, stamps, columns, batch=37):
    async def requests():
        yield neural_pb2.StreamPredictionsRequest(
            config=neural_pb2.StreamPredictionsConfig(model=model)
        )
        for a in range(0, len(stamps), batch):
            cols = [
                common_pb2.ValueColumn(
                    name=c.name, values=c.values[a : a + batch], ready=c.ready[a : a + batch]
                )
                for c in columns
            ]
            yield neural_pb2.StreamPredictionsRequest(
                features=neural_pb2.FeatureBatch(timestamps_us=stamps[a : a + batch], columns=cols)
            )

    return [r async for r in stub.StreamPredictions(requests())]


async def test_train_store_predict_and_stream_give_identical_outputs(tmp_path):
    async with mesh(tmp_path) as (stub, fuzzy):
        updates = await _train(stub)
        final = updates[-1]
        assert final.state == neural_pb2.TRAINING_STATE_SUCCEEDED, final.error
        states = [u.state for u in updates]
        assert states[0] == neural_pb2.TRAINING_STATE_QUEUED
        epochs = [u for u in updates if u.message.startswith("epoch")]
        assert [u.epoch for u in epochs] == [1, 2] and epochs[0].eta_seconds > 0
        assert all(u.device == "cpu" for u in updates)
        assert [e.name for e in final.evaluations] == ["model", "majority", "logistic_regression"]
        assert len(final.evaluations[0].confusion_matrix) == 9
        assert final.model_name == f"{STRATEGY}.EURUSD_1h_v1"

        got = await stub.GetTraining(neural_pb2.GetTrainingRequest(training_id=final.training_id))
        assert got.training == final
        info = (await stub.GetModel(neural_pb2.GetModelRequest(name=STRATEGY))).model
        assert info.name == final.model_name and info.latest and info.device == "cpu"
        meta = info.metadata
        assert meta["labels"]["source"] == "zigzag"
        assert meta["data"]["symbols"]["EURUSD"]["splits"]["train"]["samples"] > 100
        assert len(info.features) == 9 and info.features[0] == "1h_rsi_14_oversold"

        stamps, columns = await _features(fuzzy)
        rows = [
            neural_pb2.FeatureRow(timestamp=timestamp_us(t), values=[c.values[i] for c in columns])
            for i, t in enumerate(stamps)
        ]
        predicted = await stub.Predict(
            neural_pb2.PredictRequest(
                model=STRATEGY, rows=rows, feature_names=[c.name for c in columns]
            )
        )
        ranged = await stub.Predict(
            neural_pb2.PredictRequest(
                model=final.model_name,
                symbol="EURUSD",
                start_date="2017-12-01",
                end_date="2017-12-08",
            )
        )
        assert predicted.model_name == final.model_name
        assert list(predicted.predictions) == list(ranged.predictions)
        streamed = await _stream(stub, STRATEGY, stamps, columns)
        probs = np.array([list(p.probabilities) for p in predicted.predictions])
        s_probs = np.column_stack(
            [
                np.concatenate([r.buy_probabilities for r in streamed]),
                np.concatenate([r.hold_probabilities for r in streamed]),
                np.concatenate([r.sell_probabilities for r in streamed]),
            ]
        )
        np.testing.assert_array_equal(probs, s_probs)
        assert [p.signal for p in predicted.predictions] == [s for r in streamed for s in r.signals]
        assert [s for r in streamed for s in r.timestamps_us] == stamps
        assert {r.model_name for r in streamed} == {final.model_name}


async def test_cancel_leaves_no_version_and_says_why(tmp_path):
    async with mesh(tmp_path) as (stub, _):
        call = stub.TrainModel(_train_request(epochs=500))
        first = (await call.read()).training
        cancelled = await stub.CancelTraining(
            neural_pb2.CancelTrainingRequest(training_id=first.training_id)
        )
        assert cancelled.training.state == neural_pb2.TRAINING_STATE_CANCELLED
        assert "no model was stored" in cancelled.training.error
        rest = []
        while (message := await call.read()) is not grpc.aio.EOF:
            rest.append(message.training)
        assert rest[-1].state == neural_pb2.TRAINING_STATE_CANCELLED
        listed = await stub.ListModels(neural_pb2.ListModelsRequest())
        assert list(listed.models) == []
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CancelTraining(
                neural_pb2.CancelTrainingRequest(training_id=first.training_id)
            )
        assert error_detail_of(info.value).code == "NEURAL-008"
        assert "already ended (cancelled)" in error_message_of(info.value)


async def test_training_goes_on_when_the_client_disconnects(tmp_path):
    async with mesh(tmp_path) as (stub, _):
        call = stub.TrainModel(_train_request(epochs=2))
        first = (await call.read()).training
        call.cancel()
        for _ in range(600):
            got = await stub.GetTraining(
                neural_pb2.GetTrainingRequest(training_id=first.training_id)
            )
            if got.training.state not in (
                neural_pb2.TRAINING_STATE_QUEUED,
                neural_pb2.TRAINING_STATE_RUNNING,
            ):
                break
            await asyncio.sleep(0.2)
        assert got.training.state == neural_pb2.TRAINING_STATE_SUCCEEDED, got.training.error
        assert got.training.model_name.endswith("_v1")


async def _error(coro) -> tuple[grpc.StatusCode, object, str]:
    """The status code, ErrorDetail and sentence a call fails with."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await coro
    return info.value.code(), error_detail_of(info.value), error_message_of(info.value)


async def test_bad_input_answers_with_stable_codes(tmp_path):
    async with mesh(tmp_path) as (stub, _):
        code, detail, _ = await _error(
            stub.TrainModel(neural_pb2.TrainModelRequest(strategy="rsi_trend_eurusd")).read()
        )
        assert code == grpc.StatusCode.NOT_FOUND and STRATEGY in detail.suggestions
        code, detail, _ = await _error(
            stub.TrainModel(
                neural_pb2.TrainModelRequest(strategy=STRATEGY, config=_config(epoch=3))
            ).read()
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert detail.code == "NEURAL-001" and list(detail.suggestions) == ["epochs"]
        code, detail, message = await _error(
            stub.TrainModel(
                neural_pb2.TrainModelRequest(strategy=STRATEGY, symbols=["GBPUSD"])
            ).read()
        )
        assert code == grpc.StatusCode.FAILED_PRECONDITION and detail.code == "NEURAL-006"
        assert "ktrdr data load GBPUSD 1h" in message
        code, detail, _ = await _error(
            stub.TrainModel(
                neural_pb2.TrainModelRequest(
                    strategy=STRATEGY, start_date="2017-06-01", end_date="2017-06-10"
                )
            ).read()
        )
        assert code == grpc.StatusCode.FAILED_PRECONDITION and detail.code == "NEURAL-005"
        code, detail, _ = await _error(
            stub.Predict(neural_pb2.PredictRequest(model=f"{STRATEGY}.EURUSD_1h_v7"))
        )
        assert code == grpc.StatusCode.NOT_FOUND and detail.code == "NEURAL-002"
        code, detail, _ = await _error(
            stub.GetTraining(neural_pb2.GetTrainingRequest(training_id="x"))
        )
        assert code == grpc.StatusCode.NOT_FOUND and detail.code == "NEURAL-007"
        code, detail, _ = await _error(stub.DeleteModel(neural_pb2.DeleteModelRequest(name="../x")))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and detail.code == "NEURAL-003"


async def test_feature_mismatch_is_failed_precondition_and_restart_reloads(tmp_path):
    async with mesh(tmp_path) as (stub, fuzzy):
        final = (await _train(stub))[-1]
        stamps, columns = await _features(fuzzy, "2017-12-04", "2017-12-05")
        swapped = [columns[1], columns[0], *columns[2:]]
        code, detail, message = await _error(_stream(stub, final.model_name, stamps, swapped))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and detail.code == "NEURAL-004"
        assert "feature 0 is '1h_rsi_14_neutral'" in message
        before = await _stream(stub, final.model_name, stamps, columns)
    async with mesh(tmp_path) as (stub, _):  # a new service process reads the registry
        after = await _stream(stub, final.model_name, stamps, columns)
        assert [list(r.buy_probabilities) for r in after] == [
            list(r.buy_probabilities) for r in before
        ]
        deleted = await stub.DeleteModel(neural_pb2.DeleteModelRequest(name=final.model_name))
        assert deleted.name == final.model_name
        code, _, _ = await _error(stub.GetModel(neural_pb2.GetModelRequest(name=final.model_name)))
        assert code == grpc.StatusCode.NOT_FOUND
