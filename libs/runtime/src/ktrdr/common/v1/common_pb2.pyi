import datetime

from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Timeframe(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIMEFRAME_UNSPECIFIED: _ClassVar[Timeframe]
    TIMEFRAME_M1: _ClassVar[Timeframe]
    TIMEFRAME_M5: _ClassVar[Timeframe]
    TIMEFRAME_M15: _ClassVar[Timeframe]
    TIMEFRAME_M30: _ClassVar[Timeframe]
    TIMEFRAME_H1: _ClassVar[Timeframe]
    TIMEFRAME_H2: _ClassVar[Timeframe]
    TIMEFRAME_H4: _ClassVar[Timeframe]
    TIMEFRAME_D1: _ClassVar[Timeframe]
    TIMEFRAME_W1: _ClassVar[Timeframe]
    TIMEFRAME_MN1: _ClassVar[Timeframe]

class InstrumentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTRUMENT_TYPE_UNSPECIFIED: _ClassVar[InstrumentType]
    INSTRUMENT_TYPE_FX: _ClassVar[InstrumentType]
    INSTRUMENT_TYPE_STOCK: _ClassVar[InstrumentType]
    INSTRUMENT_TYPE_FUTURE: _ClassVar[InstrumentType]
    INSTRUMENT_TYPE_INDEX: _ClassVar[InstrumentType]
    INSTRUMENT_TYPE_CRYPTO: _ClassVar[InstrumentType]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_READ: _ClassVar[Role]
    ROLE_TRADE: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]
TIMEFRAME_UNSPECIFIED: Timeframe
TIMEFRAME_M1: Timeframe
TIMEFRAME_M5: Timeframe
TIMEFRAME_M15: Timeframe
TIMEFRAME_M30: Timeframe
TIMEFRAME_H1: Timeframe
TIMEFRAME_H2: Timeframe
TIMEFRAME_H4: Timeframe
TIMEFRAME_D1: Timeframe
TIMEFRAME_W1: Timeframe
TIMEFRAME_MN1: Timeframe
INSTRUMENT_TYPE_UNSPECIFIED: InstrumentType
INSTRUMENT_TYPE_FX: InstrumentType
INSTRUMENT_TYPE_STOCK: InstrumentType
INSTRUMENT_TYPE_FUTURE: InstrumentType
INSTRUMENT_TYPE_INDEX: InstrumentType
INSTRUMENT_TYPE_CRYPTO: InstrumentType
ROLE_UNSPECIFIED: Role
ROLE_READ: Role
ROLE_TRADE: Role
ROLE_ADMIN: Role
ROLE_FIELD_NUMBER: _ClassVar[int]
role: _descriptor.FieldDescriptor

class TimeframeInfo(_message.Message):
    __slots__ = ("timeframe", "code", "seconds")
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    timeframe: Timeframe
    code: str
    seconds: int
    def __init__(self, timeframe: _Optional[_Union[Timeframe, str]] = ..., code: _Optional[str] = ..., seconds: _Optional[int] = ...) -> None: ...

class Bar(_message.Message):
    __slots__ = ("timestamp", "open", "high", "low", "close", "volume")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: int
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., open: _Optional[float] = ..., high: _Optional[float] = ..., low: _Optional[float] = ..., close: _Optional[float] = ..., volume: _Optional[int] = ...) -> None: ...

class BarColumns(_message.Message):
    __slots__ = ("timestamps_us", "open", "high", "low", "close", "volume")
    TIMESTAMPS_US_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    timestamps_us: _containers.RepeatedScalarFieldContainer[int]
    open: _containers.RepeatedScalarFieldContainer[float]
    high: _containers.RepeatedScalarFieldContainer[float]
    low: _containers.RepeatedScalarFieldContainer[float]
    close: _containers.RepeatedScalarFieldContainer[float]
    volume: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, timestamps_us: _Optional[_Iterable[int]] = ..., open: _Optional[_Iterable[float]] = ..., high: _Optional[_Iterable[float]] = ..., low: _Optional[_Iterable[float]] = ..., close: _Optional[_Iterable[float]] = ..., volume: _Optional[_Iterable[int]] = ...) -> None: ...

class ValueColumn(_message.Message):
    __slots__ = ("name", "values", "ready")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: _containers.RepeatedScalarFieldContainer[float]
    ready: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Iterable[float]] = ..., ready: _Optional[_Iterable[bool]] = ...) -> None: ...

class Instrument(_message.Message):
    __slots__ = ("symbol", "exchange", "instrument_type", "currency", "time_zone", "calendar", "trading_hours")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    TRADING_HOURS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    exchange: str
    instrument_type: InstrumentType
    currency: str
    time_zone: str
    calendar: str
    trading_hours: str
    def __init__(self, symbol: _Optional[str] = ..., exchange: _Optional[str] = ..., instrument_type: _Optional[_Union[InstrumentType, str]] = ..., currency: _Optional[str] = ..., time_zone: _Optional[str] = ..., calendar: _Optional[str] = ..., trading_hours: _Optional[str] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ("code", "message", "field", "suggestions", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    field: str
    suggestions: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., field: _Optional[str] = ..., suggestions: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...
