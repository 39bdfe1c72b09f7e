import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ktrdr.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Signal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_UNSPECIFIED: _ClassVar[Signal]
    SIGNAL_BUY: _ClassVar[Signal]
    SIGNAL_HOLD: _ClassVar[Signal]
    SIGNAL_SELL: _ClassVar[Signal]

class TrainingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_STATE_UNSPECIFIED: _ClassVar[TrainingState]
    TRAINING_STATE_QUEUED: _ClassVar[TrainingState]
    TRAINING_STATE_RUNNING: _ClassVar[TrainingState]
    TRAINING_STATE_SUCCEEDED: _ClassVar[TrainingState]
    TRAINING_STATE_FAILED: _ClassVar[TrainingState]
    TRAINING_STATE_CANCELLED: _ClassVar[TrainingState]
SIGNAL_UNSPECIFIED: Signal
SIGNAL_BUY: Signal
SIGNAL_HOLD: Signal
SIGNAL_SELL: Signal
TRAINING_STATE_UNSPECIFIED: TrainingState
TRAINING_STATE_QUEUED: TrainingState
TRAINING_STATE_RUNNING: TrainingState
TRAINING_STATE_SUCCEEDED: TrainingState
TRAINING_STATE_FAILED: TrainingState
TRAINING_STATE_CANCELLED: TrainingState

class Training(_message.Message):
    __slots__ = ("training_id", "state", "strategy", "symbols", "epoch", "total_epochs", "train_loss", "val_loss", "val_accuracy", "started_at", "finished_at", "model_name", "error", "device", "train_accuracy", "val_macro_f1", "eta_seconds", "elapsed_seconds", "learning_rate", "best_epoch", "evaluations", "queue_position", "message")
    TRAINING_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EPOCHS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    VAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    VAL_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    TRAIN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    VAL_MACRO_F1_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    BEST_EPOCH_FIELD_NUMBER: _ClassVar[int]
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    training_id: str
    state: TrainingState
    strategy: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    epoch: int
    total_epochs: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    model_name: str
    error: str
    device: str
    train_accuracy: float
    val_macro_f1: float
    eta_seconds: float
    elapsed_seconds: float
    learning_rate: float
    best_epoch: int
    evaluations: _containers.RepeatedCompositeFieldContainer[Evaluation]
    queue_position: int
    message: str
    def __init__(self, training_id: _Optional[str] = ..., state: _Optional[_Union[TrainingState, str]] = ..., strategy: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ..., epoch: _Optional[int] = ..., total_epochs: _Optional[int] = ..., train_loss: _Optional[float] = ..., val_loss: _Optional[float] = ..., val_accuracy: _Optional[float] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model_name: _Optional[str] = ..., error: _Optional[str] = ..., device: _Optional[str] = ..., train_accuracy: _Optional[float] = ..., val_macro_f1: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., elapsed_seconds: _Optional[float] = ..., learning_rate: _Optional[float] = ..., best_epoch: _Optional[int] = ..., evaluations: _Optional[_Iterable[_Union[Evaluation, _Mapping]]] = ..., queue_position: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ClassMetrics(_message.Message):
    __slots__ = ("signal", "precision", "recall", "f1", "support")
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    F1_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    signal: Signal
    precision: float
    recall: float
    f1: float
    support: int
    def __init__(self, signal: _Optional[_Union[Signal, str]] = ..., precision: _Optional[float] = ..., recall: _Optional[float] = ..., f1: _Optional[float] = ..., support: _Optional[int] = ...) -> None: ...

class Evaluation(_message.Message):
    __slots__ = ("name", "accuracy", "macro_f1", "classes", "confusion_matrix")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    MACRO_F1_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    CONFUSION_MATRIX_FIELD_NUMBER: _ClassVar[int]
    name: str
    accuracy: float
    macro_f1: float
    classes: _containers.RepeatedCompositeFieldContainer[ClassMetrics]
    confusion_matrix: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., accuracy: _Optional[float] = ..., macro_f1: _Optional[float] = ..., classes: _Optional[_Iterable[_Union[ClassMetrics, _Mapping]]] = ..., confusion_matrix: _Optional[_Iterable[int]] = ...) -> None: ...

class TrainModelRequest(_message.Message):
    __slots__ = ("strategy", "symbols", "config", "start_date", "end_date")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    config: _struct_pb2.Struct
    start_date: str
    end_date: str
    def __init__(self, strategy: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

class TrainModelResponse(_message.Message):
    __slots__ = ("training",)
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    training: Training
    def __init__(self, training: _Optional[_Union[Training, _Mapping]] = ...) -> None: ...

class GetTrainingRequest(_message.Message):
    __slots__ = ("training_id",)
    TRAINING_ID_FIELD_NUMBER: _ClassVar[int]
    training_id: str
    def __init__(self, training_id: _Optional[str] = ...) -> None: ...

class GetTrainingResponse(_message.Message):
    __slots__ = ("training",)
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    training: Training
    def __init__(self, training: _Optional[_Union[Training, _Mapping]] = ...) -> None: ...

class CancelTrainingRequest(_message.Message):
    __slots__ = ("training_id",)
    TRAINING_ID_FIELD_NUMBER: _ClassVar[int]
    training_id: str
    def __init__(self, training_id: _Optional[str] = ...) -> None: ...

class CancelTrainingResponse(_message.Message):
    __slots__ = ("training",)
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    training: Training
    def __init__(self, training: _Optional[_Union[Training, _Mapping]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "strategy", "version", "symbols", "timeframes", "features", "model_type", "created_at", "metrics", "device", "latest", "evaluations", "metadata")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAMES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    strategy: str
    version: int
    symbols: _containers.RepeatedScalarFieldContainer[str]
    timeframes: _containers.RepeatedScalarFieldContainer[str]
    features: _containers.RepeatedScalarFieldContainer[str]
    model_type: str
    created_at: _timestamp_pb2.Timestamp
    metrics: _containers.ScalarMap[str, float]
    device: str
    latest: bool
    evaluations: _containers.RepeatedCompositeFieldContainer[Evaluation]
    metadata: _struct_pb2.Struct
    def __init__(self, name: _Optional[str] = ..., strategy: _Optional[str] = ..., version: _Optional[int] = ..., symbols: _Optional[_Iterable[str]] = ..., timeframes: _Optional[_Iterable[str]] = ..., features: _Optional[_Iterable[str]] = ..., model_type: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., device: _Optional[str] = ..., latest: _Optional[bool] = ..., evaluations: _Optional[_Iterable[_Union[Evaluation, _Mapping]]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("strategy",)
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    def __init__(self, strategy: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: ModelInfo
    def __init__(self, model: _Optional[_Union[ModelInfo, _Mapping]] = ...) -> None: ...

class DeleteModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteModelResponse(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("timestamp", "signal", "confidence", "probabilities", "ready", "predicted_return")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_RETURN_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    signal: Signal
    confidence: float
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    ready: bool
    predicted_return: float
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signal: _Optional[_Union[Signal, str]] = ..., confidence: _Optional[float] = ..., probabilities: _Optional[_Iterable[float]] = ..., ready: _Optional[bool] = ..., predicted_return: _Optional[float] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("model", "rows", "symbol", "timeframe", "start_date", "end_date", "version", "feature_names")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    model: str
    rows: _containers.RepeatedCompositeFieldContainer[FeatureRow]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    version: int
    feature_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[FeatureRow, _Mapping]]] = ..., symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., version: _Optional[int] = ..., feature_names: _Optional[_Iterable[str]] = ...) -> None: ...

class FeatureRow(_message.Message):
    __slots__ = ("timestamp", "values")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("predictions", "model_name")
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    model_name: str
    def __init__(self, predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ..., model_name: _Optional[str] = ...) -> None: ...

class StreamPredictionsConfig(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class FeatureBatch(_message.Message):
    __slots__ = ("timestamps_us", "columns")
    TIMESTAMPS_US_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    timestamps_us: _containers.RepeatedScalarFieldContainer[int]
    columns: _containers.RepeatedCompositeFieldContainer[_common_pb2.ValueColumn]
    def __init__(self, timestamps_us: _Optional[_Iterable[int]] = ..., columns: _Optional[_Iterable[_Union[_common_pb2.ValueColumn, _Mapping]]] = ...) -> None: ...

class StreamPredictionsRequest(_message.Message):
    __slots__ = ("config", "features")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    config: StreamPredictionsConfig
    features: FeatureBatch
    def __init__(self, config: _Optional[_Union[StreamPredictionsConfig, _Mapping]] = ..., features: _Optional[_Union[FeatureBatch, _Mapping]] = ...) -> None: ...

class StreamPredictionsResponse(_message.Message):
    __slots__ = ("timestamps_us", "signals", "confidences", "buy_probabilities", "hold_probabilities", "sell_probabilities", "ready", "predicted_returns", "model_name")
    TIMESTAMPS_US_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCES_FIELD_NUMBER: _ClassVar[int]
    BUY_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    HOLD_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    SELL_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_RETURNS_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    timestamps_us: _containers.RepeatedScalarFieldContainer[int]
    signals: _containers.RepeatedScalarFieldContainer[Signal]
    confidences: _containers.RepeatedScalarFieldContainer[float]
    buy_probabilities: _containers.RepeatedScalarFieldContainer[float]
    hold_probabilities: _containers.RepeatedScalarFieldContainer[float]
    sell_probabilities: _containers.RepeatedScalarFieldContainer[float]
    ready: _containers.RepeatedScalarFieldContainer[bool]
    predicted_returns: _containers.RepeatedScalarFieldContainer[float]
    model_name: str
    def __init__(self, timestamps_us: _Optional[_Iterable[int]] = ..., signals: _Optional[_Iterable[_Union[Signal, str]]] = ..., confidences: _Optional[_Iterable[float]] = ..., buy_probabilities: _Optional[_Iterable[float]] = ..., hold_probabilities: _Optional[_Iterable[float]] = ..., sell_probabilities: _Optional[_Iterable[float]] = ..., ready: _Optional[_Iterable[bool]] = ..., predicted_returns: _Optional[_Iterable[float]] = ..., model_name: _Optional[str] = ...) -> None: ...
