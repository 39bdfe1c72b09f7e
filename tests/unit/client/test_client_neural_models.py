"""The client's training and model results read the JSON the edge sends (proto3 JSON)."""

from __future__ import annotations

from google.protobuf import json_format

from ktrdr.neural.v1 import neural_pb2
from ktrdr_client import models


def _evaluation(name: str, accuracy: float) -> neural_pb2.Evaluation:
    return neural_pb2.Evaluation(
        name=name, accuracy=accuracy, macro_f1=0.4, confusion_matrix=[5, 1, 0, 2, 9, 1, 0, 3, 7]
    )


def test_a_training_update_carries_losses_accuracy_and_the_baselines():
    message = neural_pb2.Training(
        training_id="t1",
        state=neural_pb2.TRAINING_STATE_SUCCEEDED,
        epoch=3,
        total_epochs=3,
        train_loss=1.05,
        val_loss=1.01,
        val_accuracy=0.52,
        best_epoch=2,
        model_name="s.EURUSD_1h_v4",
        evaluations=[_evaluation("model", 0.55), _evaluation("majority", 0.6)],
        message="done",
    )
    got = models.Training.from_json(json_format.MessageToDict(message))
    assert got.finished and (got.epoch, got.total_epochs, got.best_epoch) == (3, 3, 2)
    assert (got.train_loss, got.val_loss, got.val_accuracy) == (1.05, 1.01, 0.52)
    assert [e.name for e in got.evaluations] == ["model", "majority"]
    assert got.evaluations[0].confusion_matrix == [[5, 1, 0], [2, 9, 1], [0, 3, 7]]


def test_a_running_training_is_not_finished():
    message = neural_pb2.Training(training_id="t", state=neural_pb2.TRAINING_STATE_RUNNING)
    assert not models.Training.from_json(json_format.MessageToDict(message)).finished


def test_a_model_info_reads_int64_metrics_and_metadata():
    message = neural_pb2.ModelInfo(
        name="s.EURUSD_1h_v2",
        strategy="s",
        version=2,
        symbols=["EURUSD"],
        features=["1h_rsi_14_oversold"],
        metrics={"test_accuracy": 0.5, "majority_accuracy": 0.6},
        latest=True,
        evaluations=[_evaluation("model", 0.5)],
    )
    message.metadata.update({"timeframe": "1h"})
    got = models.ModelInfo.from_json(json_format.MessageToDict(message))
    assert (got.name, got.version, got.latest) == ("s.EURUSD_1h_v2", 2, True)
    assert got.metrics == {"test_accuracy": 0.5, "majority_accuracy": 0.6}
    assert got.metadata == {"timeframe": "1h"} and got.features == ["1h_rsi_14_oversold"]
