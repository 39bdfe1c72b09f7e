import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ktrdr.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("connected", "host", "port", "client_id", "server_version", "connected_since", "trading_mode", "pacing_requests_window")
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_SINCE_FIELD_NUMBER: _ClassVar[int]
    TRADING_MODE_FIELD_NUMBER: _ClassVar[int]
    PACING_REQUESTS_WINDOW_FIELD_NUMBER: _ClassVar[int]
    connected: bool
    host: str
    port: int
    client_id: int
    server_version: int
    connected_since: _timestamp_pb2.Timestamp
    trading_mode: str
    pacing_requests_window: int
    def __init__(self, connected: _Optional[bool] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., client_id: _Optional[int] = ..., server_version: _Optional[int] = ..., connected_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trading_mode: _Optional[str] = ..., pacing_requests_window: _Optional[int] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ("healthy", "message", "round_trip_ms")
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ROUND_TRIP_MS_FIELD_NUMBER: _ClassVar[int]
    healthy: bool
    message: str
    round_trip_ms: float
    def __init__(self, healthy: _Optional[bool] = ..., message: _Optional[str] = ..., round_trip_ms: _Optional[float] = ...) -> None: ...

class QualifyContractRequest(_message.Message):
    __slots__ = ("symbol", "instrument_type", "exchange", "currency")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    instrument_type: _common_pb2.InstrumentType
    exchange: str
    currency: str
    def __init__(self, symbol: _Optional[str] = ..., instrument_type: _Optional[_Union[_common_pb2.InstrumentType, str]] = ..., exchange: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class QualifyContractResponse(_message.Message):
    __slots__ = ("instrument", "con_id")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    CON_ID_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    con_id: int
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., con_id: _Optional[int] = ...) -> None: ...

class GetHeadTimestampRequest(_message.Message):
    __slots__ = ("symbol", "timeframe")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ...) -> None: ...

class GetHeadTimestampResponse(_message.Message):
    __slots__ = ("head_timestamp",)
    HEAD_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    head_timestamp: _timestamp_pb2.Timestamp
    def __init__(self, head_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamHistoricalBarsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "start_date", "end_date", "use_rth", "what_to_show")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    USE_RTH_FIELD_NUMBER: _ClassVar[int]
    WHAT_TO_SHOW_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    use_rth: bool
    what_to_show: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., use_rth: _Optional[bool] = ..., what_to_show: _Optional[str] = ...) -> None: ...

class StreamHistoricalBarsResponse(_message.Message):
    __slots__ = ("bars",)
    BARS_FIELD_NUMBER: _ClassVar[int]
    bars: _common_pb2.BarColumns
    def __init__(self, bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ...) -> None: ...

class StreamLiveBarsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "what_to_show")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    WHAT_TO_SHOW_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    what_to_show: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., what_to_show: _Optional[str] = ...) -> None: ...

class StreamLiveBarsResponse(_message.Message):
    __slots__ = ("bars",)
    BARS_FIELD_NUMBER: _ClassVar[int]
    bars: _common_pb2.BarColumns
    def __init__(self, bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ...) -> None: ...
