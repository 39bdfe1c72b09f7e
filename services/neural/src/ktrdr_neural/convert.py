"""The only module of the neural service that knows both protobuf and domain types."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.neural.v1 import neural_pb2
from ktrdr_core.dates import parse_date
from ktrdr_core.errors import ValidationError
from ktrdr_neural.domain import errors as codes
from ktrdr_neural.domain.jobs import TrainingStatus, summary_metrics
from ktrdr_neural.domain.metrics import Evaluation
from ktrdr_neural.domain.plan import TrainRequest
from ktrdr_neural.domain.registry import ModelRef, StoredModel, parse_model_name
from ktrdr_neural.domain.serving import MAX_ROWS_PER_CALL, PredictionBatch
from ktrdr_runtime.bars import timestamp_us

_STATES = {
    "queued": neural_pb2.TRAINING_STATE_QUEUED,
    "running": neural_pb2.TRAINING_STATE_RUNNING,
    "succeeded": neural_pb2.TRAINING_STATE_SUCCEEDED,
    "failed": neural_pb2.TRAINING_STATE_FAILED,
    "cancelled": neural_pb2.TRAINING_STATE_CANCELLED,
}
# Class index (BUY 0, HOLD 1, SELL 2; -1 not ready) -> Signal.
_SIGNALS = np.array(
    [
        neural_pb2.SIGNAL_UNSPECIFIED,
        neural_pb2.SIGNAL_BUY,
        neural_pb2.SIGNAL_HOLD,
        neural_pb2.SIGNAL_SELL,
    ],
    dtype=np.int64,
)


def _ints(value: Any) -> Any:
    """JSON numbers arrive as floats in a Struct: integral ones become ints again."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def train_request(request: neural_pb2.TrainModelRequest) -> TrainRequest:
    overrides = _ints(json_format.MessageToDict(request.config)) if request.config.fields else {}
    start = parse_date(request.start_date or None, "start_date")
    end = parse_date(request.end_date or None, "end_date")
    if start and end and start >= end:
        raise ValidationError(
            codes.BAD_CONFIG, "'start_date' must be before 'end_date'.", field="start_date"
        )
    return TrainRequest(tuple(request.symbols), overrides, start, end)


def _timestamp(value: Any) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def evaluation(ev: Evaluation) -> neural_pb2.Evaluation:
    return neural_pb2.Evaluation(
        name=ev.name,
        accuracy=ev.accuracy,
        macro_f1=ev.macro_f1,
        classes=[
            neural_pb2.ClassMetrics(
                signal=cast(neural_pb2.Signal, int(_SIGNALS[c + 1])),
                precision=ev.precision[c],
                recall=ev.recall[c],
                f1=ev.f1[c],
                support=ev.support[c],
            )
            for c in range(3)
        ],
        confusion_matrix=[v for row in ev.confusion for v in row],
    )


def training(status: TrainingStatus) -> neural_pb2.Training:
    return neural_pb2.Training(
        training_id=status.training_id,
        state=_STATES[status.state],
        strategy=status.strategy,
        symbols=list(status.symbols),
        epoch=status.epoch,
        total_epochs=status.total_epochs,
        train_loss=status.train_loss,
        val_loss=status.val_loss,
        val_accuracy=status.val_accuracy,
        started_at=_timestamp(status.started_at),
        finished_at=_timestamp(status.finished_at),
        model_name=status.model_name,
        error=status.error,
        device=status.device,
        train_accuracy=status.train_accuracy,
        val_macro_f1=status.val_macro_f1,
        eta_seconds=status.eta_seconds,
        elapsed_seconds=status.elapsed_seconds,
        learning_rate=status.learning_rate,
        best_epoch=status.best_epoch,
        evaluations=[evaluation(e) for e in status.evaluations],
        queue_position=status.queue_position,
        message=status.message,
    )


def model_info(model: StoredModel, *, full: bool = True) -> neural_pb2.ModelInfo:
    """The model's summary; ``full`` adds the whole model.json (GetModel, not ListModels)."""
    meta = model.metadata
    created = Timestamp()
    created.FromJsonString(meta["created_at"])
    metadata = struct_pb2.Struct()
    if full:
        metadata.update(meta)
    evaluations = [Evaluation.from_dict(e) for e in meta["metrics"]["evaluations"]]
    return neural_pb2.ModelInfo(
        name=model.ref.name,
        strategy=model.ref.strategy,
        version=model.ref.version or 0,
        symbols=meta["symbols"],
        timeframes=[meta["timeframe"]],
        features=[f["name"] for f in meta["features"]],
        model_type=meta["model"]["type"],
        created_at=created,
        metrics=summary_metrics(meta),
        device=meta.get("device", ""),
        latest=model.latest,
        evaluations=[evaluation(e) for e in evaluations],
        metadata=metadata if full else None,
    )


def model_ref(name: str, version: int, *, field: str) -> ModelRef:
    """A name plus an optional pinned ``version`` (they must agree when both pin)."""
    if not name:
        raise ValidationError(codes.BAD_MODEL_NAME, f"'{field}' is required.", field=field)
    ref = parse_model_name(name, field=field)
    if version < 0:
        raise ValidationError(codes.BAD_MODEL_NAME, "'version' must be >= 0.", field="version")
    if version:
        if ref.version is not None and ref.version != version:
            raise ValidationError(
                codes.BAD_MODEL_NAME,
                f"'{field}' pins v{ref.version} but 'version' asks for {version}.",
                field="version",
            )
        ref = ref.pinned(version)
    return ref


def rows_matrix(rows: Any) -> tuple[np.ndarray, np.ndarray]:
    """PredictRequest rows -> (timestamps_us, values [n, F])."""
    if len(rows) > MAX_ROWS_PER_CALL:
        raise ValidationError(
            codes.BAD_PREDICT_REQUEST,
            f"'rows' has {len(rows)} rows; at most {MAX_ROWS_PER_CALL} per request.",
            field="rows",
        )
    widths = {len(r.values) for r in rows}
    if len(widths) > 1:
        raise ValidationError(
            codes.BAD_PREDICT_REQUEST,
            f"'rows' have different lengths ({', '.join(map(str, sorted(widths)))}).",
            field="rows",
        )
    stamps = np.array(
        [r.timestamp.seconds * 1_000_000 + r.timestamp.nanos // 1000 for r in rows],
        dtype=np.int64,
    )
    width = widths.pop() if widths else 0
    values = np.array([list(r.values) for r in rows], dtype=np.float64).reshape(len(rows), width)
    return stamps, values


def predictions(stamps: np.ndarray, batch: PredictionBatch) -> list[neural_pb2.Prediction]:
    signals = _SIGNALS[batch.signals + 1].tolist()
    probs = batch.probabilities.tolist()
    ready = batch.ready.tolist()
    conf = batch.confidence.tolist()
    reg = np.nan_to_num(batch.predicted_return, nan=0.0).tolist()
    return [
        neural_pb2.Prediction(
            timestamp=timestamp_us(int(t)),
            signal=s,
            confidence=c,
            probabilities=p,
            ready=r,
            predicted_return=g,
        )
        for t, s, c, p, r, g in zip(stamps.tolist(), signals, conf, probs, ready, reg, strict=True)
    ]


def feature_batch(batch: neural_pb2.FeatureBatch, names: tuple[str, ...]) -> np.ndarray:
    """A stream batch's columns as ``[n, F]`` (columns must be ``names``, checked by caller)."""
    n = len(batch.timestamps_us)
    if n > MAX_ROWS_PER_CALL:
        raise ValidationError(
            codes.BAD_PREDICT_REQUEST,
            f"A batch has {n} rows; at most {MAX_ROWS_PER_CALL} per message.",
            field="features",
        )
    out = np.empty((n, len(names)))
    for j, col in enumerate(batch.columns):
        values = np.array(col.values, dtype=np.float64)
        if len(values) != n:
            raise ValidationError(
                codes.BAD_PREDICT_REQUEST,
                f"Column '{col.name}' has {len(values)} values for {n} timestamps.",
                field="features.columns",
            )
        if len(col.ready):
            ready = np.array(col.ready, dtype=bool)
            if len(ready) != n:
                raise ValidationError(
                    codes.BAD_PREDICT_REQUEST,
                    f"Column '{col.name}' has {len(ready)} ready flags for {n} timestamps.",
                    field="features.columns",
                )
            values[~ready] = np.nan
        out[:, j] = values
    return out


def stream_response(
    stamps: Any, batch: PredictionBatch, model_name: str, *, regression: bool
) -> neural_pb2.StreamPredictionsResponse:
    probs = batch.probabilities
    return neural_pb2.StreamPredictionsResponse(
        timestamps_us=stamps,
        signals=_SIGNALS[batch.signals + 1].tolist(),
        confidences=batch.confidence.tolist(),
        buy_probabilities=probs[:, 0].tolist(),
        hold_probabilities=probs[:, 1].tolist(),
        sell_probabilities=probs[:, 2].tolist(),
        ready=batch.ready.tolist(),
        predicted_returns=batch.predicted_return.tolist() if regression else [],
        model_name=model_name,
    )
