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

class IndicatorCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDICATOR_CATEGORY_UNSPECIFIED: _ClassVar[IndicatorCategory]
    INDICATOR_CATEGORY_TREND: _ClassVar[IndicatorCategory]
    INDICATOR_CATEGORY_MOMENTUM: _ClassVar[IndicatorCategory]
    INDICATOR_CATEGORY_VOLATILITY: _ClassVar[IndicatorCategory]
    INDICATOR_CATEGORY_VOLUME: _ClassVar[IndicatorCategory]
    INDICATOR_CATEGORY_OTHER: _ClassVar[IndicatorCategory]

class ParameterType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARAMETER_TYPE_UNSPECIFIED: _ClassVar[ParameterType]
    PARAMETER_TYPE_INT: _ClassVar[ParameterType]
    PARAMETER_TYPE_FLOAT: _ClassVar[ParameterType]
    PARAMETER_TYPE_STRING: _ClassVar[ParameterType]
    PARAMETER_TYPE_BOOL: _ClassVar[ParameterType]

class StreamingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAMING_MODE_UNSPECIFIED: _ClassVar[StreamingMode]
    STREAMING_MODE_INCREMENTAL: _ClassVar[StreamingMode]
    STREAMING_MODE_WINDOW_RECOMPUTE: _ClassVar[StreamingMode]
INDICATOR_CATEGORY_UNSPECIFIED: IndicatorCategory
INDICATOR_CATEGORY_TREND: IndicatorCategory
INDICATOR_CATEGORY_MOMENTUM: IndicatorCategory
INDICATOR_CATEGORY_VOLATILITY: IndicatorCategory
INDICATOR_CATEGORY_VOLUME: IndicatorCategory
INDICATOR_CATEGORY_OTHER: IndicatorCategory
PARAMETER_TYPE_UNSPECIFIED: ParameterType
PARAMETER_TYPE_INT: ParameterType
PARAMETER_TYPE_FLOAT: ParameterType
PARAMETER_TYPE_STRING: ParameterType
PARAMETER_TYPE_BOOL: ParameterType
STREAMING_MODE_UNSPECIFIED: StreamingMode
STREAMING_MODE_INCREMENTAL: StreamingMode
STREAMING_MODE_WINDOW_RECOMPUTE: StreamingMode

class ParameterInfo(_message.Message):
    __slots__ = ("name", "type", "default_value", "minimum", "maximum", "choices", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: ParameterType
    default_value: _struct_pb2.Value
    minimum: float
    maximum: float
    choices: _containers.RepeatedScalarFieldContainer[str]
    description: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[ParameterType, str]] = ..., default_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ..., choices: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ...) -> None: ...

class IndicatorInfo(_message.Message):
    __slots__ = ("name", "display_name", "category", "description", "parameters", "outputs", "primary_output", "warmup_bars", "engine", "streaming_mode", "aliases")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    WARMUP_BARS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    STREAMING_MODE_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    category: IndicatorCategory
    description: str
    parameters: _containers.RepeatedCompositeFieldContainer[ParameterInfo]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    primary_output: str
    warmup_bars: int
    engine: str
    streaming_mode: StreamingMode
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., category: _Optional[_Union[IndicatorCategory, str]] = ..., description: _Optional[str] = ..., parameters: _Optional[_Iterable[_Union[ParameterInfo, _Mapping]]] = ..., outputs: _Optional[_Iterable[str]] = ..., primary_output: _Optional[str] = ..., warmup_bars: _Optional[int] = ..., engine: _Optional[str] = ..., streaming_mode: _Optional[_Union[StreamingMode, str]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class ListIndicatorsRequest(_message.Message):
    __slots__ = ("category",)
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    category: str
    def __init__(self, category: _Optional[str] = ...) -> None: ...

class ListIndicatorsResponse(_message.Message):
    __slots__ = ("indicators",)
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorInfo]
    def __init__(self, indicators: _Optional[_Iterable[_Union[IndicatorInfo, _Mapping]]] = ...) -> None: ...

class GetIndicatorInfoRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetIndicatorInfoResponse(_message.Message):
    __slots__ = ("indicator",)
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    indicator: IndicatorInfo
    def __init__(self, indicator: _Optional[_Union[IndicatorInfo, _Mapping]] = ...) -> None: ...

class ValidateIndicatorRequest(_message.Message):
    __slots__ = ("indicator", "parameters")
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    indicator: str
    parameters: _struct_pb2.Struct
    def __init__(self, indicator: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ValidateIndicatorResponse(_message.Message):
    __slots__ = ("indicator_id", "outputs", "columns", "warmup_bars", "parameters")
    INDICATOR_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_BARS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    indicator_id: str
    outputs: _containers.RepeatedScalarFieldContainer[str]
    columns: _containers.RepeatedScalarFieldContainer[str]
    warmup_bars: int
    parameters: _struct_pb2.Struct
    def __init__(self, indicator_id: _Optional[str] = ..., outputs: _Optional[_Iterable[str]] = ..., columns: _Optional[_Iterable[str]] = ..., warmup_bars: _Optional[int] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DataSelection(_message.Message):
    __slots__ = ("symbol", "timeframe", "start_date", "end_date")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

class CalculateIndicatorRequest(_message.Message):
    __slots__ = ("indicator", "data", "parameters", "source", "data_timeframe", "compute_timeframe")
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DATA_TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    indicator: str
    data: _containers.RepeatedCompositeFieldContainer[_common_pb2.Bar]
    parameters: _struct_pb2.Struct
    source: DataSelection
    data_timeframe: str
    compute_timeframe: str
    def __init__(self, indicator: _Optional[str] = ..., data: _Optional[_Iterable[_Union[_common_pb2.Bar, _Mapping]]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., source: _Optional[_Union[DataSelection, _Mapping]] = ..., data_timeframe: _Optional[str] = ..., compute_timeframe: _Optional[str] = ...) -> None: ...

class CalculateIndicatorResponse(_message.Message):
    __slots__ = ("indicator_id", "timestamps", "outputs", "warmup_bars")
    INDICATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_BARS_FIELD_NUMBER: _ClassVar[int]
    indicator_id: str
    timestamps: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    outputs: _containers.RepeatedCompositeFieldContainer[_common_pb2.ValueColumn]
    warmup_bars: int
    def __init__(self, indicator_id: _Optional[str] = ..., timestamps: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[_common_pb2.ValueColumn, _Mapping]]] = ..., warmup_bars: _Optional[int] = ...) -> None: ...

class IndicatorSpec(_message.Message):
    __slots__ = ("id", "indicator", "parameters")
    ID_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    indicator: str
    parameters: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., indicator: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class StreamIndicatorsConfig(_message.Message):
    __slots__ = ("indicators", "base_timeframe", "timeframes", "symbol", "calendar")
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    BASE_TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAMES_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorSpec]
    base_timeframe: str
    timeframes: _containers.RepeatedScalarFieldContainer[str]
    symbol: str
    calendar: str
    def __init__(self, indicators: _Optional[_Iterable[_Union[IndicatorSpec, _Mapping]]] = ..., base_timeframe: _Optional[str] = ..., timeframes: _Optional[_Iterable[str]] = ..., symbol: _Optional[str] = ..., calendar: _Optional[str] = ...) -> None: ...

class StreamIndicatorsRequest(_message.Message):
    __slots__ = ("config", "bars")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    BARS_FIELD_NUMBER: _ClassVar[int]
    config: StreamIndicatorsConfig
    bars: _common_pb2.BarColumns
    def __init__(self, config: _Optional[_Union[StreamIndicatorsConfig, _Mapping]] = ..., bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ...) -> None: ...

class StreamIndicatorsResponse(_message.Message):
    __slots__ = ("timestamps_us", "columns")
    TIMESTAMPS_US_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    timestamps_us: _containers.RepeatedScalarFieldContainer[int]
    columns: _containers.RepeatedCompositeFieldContainer[_common_pb2.ValueColumn]
    def __init__(self, timestamps_us: _Optional[_Iterable[int]] = ..., columns: _Optional[_Iterable[_Union[_common_pb2.ValueColumn, _Mapping]]] = ...) -> None: ...
