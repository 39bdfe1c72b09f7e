import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ktrdr.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATE_UNSPECIFIED: _ClassVar[ConnectionState]
    CONNECTION_STATE_DISCONNECTED: _ClassVar[ConnectionState]
    CONNECTION_STATE_CONNECTING: _ClassVar[ConnectionState]
    CONNECTION_STATE_CONNECTED: _ClassVar[ConnectionState]

class BreakerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREAKER_STATE_UNSPECIFIED: _ClassVar[BreakerState]
    BREAKER_STATE_CLOSED: _ClassVar[BreakerState]
    BREAKER_STATE_OPEN: _ClassVar[BreakerState]
    BREAKER_STATE_HALF_OPEN: _ClassVar[BreakerState]

class FarmState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FARM_STATE_UNSPECIFIED: _ClassVar[FarmState]
    FARM_STATE_OK: _ClassVar[FarmState]
    FARM_STATE_BROKEN: _ClassVar[FarmState]
    FARM_STATE_INACTIVE: _ClassVar[FarmState]
CONNECTION_STATE_UNSPECIFIED: ConnectionState
CONNECTION_STATE_DISCONNECTED: ConnectionState
CONNECTION_STATE_CONNECTING: ConnectionState
CONNECTION_STATE_CONNECTED: ConnectionState
BREAKER_STATE_UNSPECIFIED: BreakerState
BREAKER_STATE_CLOSED: BreakerState
BREAKER_STATE_OPEN: BreakerState
BREAKER_STATE_HALF_OPEN: BreakerState
FARM_STATE_UNSPECIFIED: FarmState
FARM_STATE_OK: FarmState
FARM_STATE_BROKEN: FarmState
FARM_STATE_INACTIVE: FarmState

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("connected", "host", "port", "client_id", "server_version", "connected_since", "trading_mode", "pacing_requests_window", "state", "breaker_state", "consecutive_failures", "next_attempt_at", "pacing", "farms", "last_error", "live_subscriptions", "reconnects", "ib_servers_reachable")
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_SINCE_FIELD_NUMBER: _ClassVar[int]
    TRADING_MODE_FIELD_NUMBER: _ClassVar[int]
    PACING_REQUESTS_WINDOW_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    PACING_FIELD_NUMBER: _ClassVar[int]
    FARMS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LIVE_SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    IB_SERVERS_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    connected: bool
    host: str
    port: int
    client_id: int
    server_version: int
    connected_since: _timestamp_pb2.Timestamp
    trading_mode: str
    pacing_requests_window: int
    state: ConnectionState
    breaker_state: BreakerState
    consecutive_failures: int
    next_attempt_at: _timestamp_pb2.Timestamp
    pacing: PacingBudget
    farms: _containers.RepeatedCompositeFieldContainer[FarmStatus]
    last_error: IbError
    live_subscriptions: _containers.RepeatedCompositeFieldContainer[LiveSubscription]
    reconnects: int
    ib_servers_reachable: bool
    def __init__(self, connected: _Optional[bool] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., client_id: _Optional[int] = ..., server_version: _Optional[int] = ..., connected_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trading_mode: _Optional[str] = ..., pacing_requests_window: _Optional[int] = ..., state: _Optional[_Union[ConnectionState, str]] = ..., breaker_state: _Optional[_Union[BreakerState, str]] = ..., consecutive_failures: _Optional[int] = ..., next_attempt_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pacing: _Optional[_Union[PacingBudget, _Mapping]] = ..., farms: _Optional[_Iterable[_Union[FarmStatus, _Mapping]]] = ..., last_error: _Optional[_Union[IbError, _Mapping]] = ..., live_subscriptions: _Optional[_Iterable[_Union[LiveSubscription, _Mapping]]] = ..., reconnects: _Optional[int] = ..., ib_servers_reachable: _Optional[bool] = ...) -> None: ...

class PacingBudget(_message.Message):
    __slots__ = ("requests_in_window", "window_limit", "window_seconds", "open_requests", "max_open_requests", "requests_total", "violations_total", "waited_seconds_total", "time_scale")
    REQUESTS_IN_WINDOW_FIELD_NUMBER: _ClassVar[int]
    WINDOW_LIMIT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPEN_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    WAITED_SECONDS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TIME_SCALE_FIELD_NUMBER: _ClassVar[int]
    requests_in_window: int
    window_limit: int
    window_seconds: float
    open_requests: int
    max_open_requests: int
    requests_total: int
    violations_total: int
    waited_seconds_total: float
    time_scale: float
    def __init__(self, requests_in_window: _Optional[int] = ..., window_limit: _Optional[int] = ..., window_seconds: _Optional[float] = ..., open_requests: _Optional[int] = ..., max_open_requests: _Optional[int] = ..., requests_total: _Optional[int] = ..., violations_total: _Optional[int] = ..., waited_seconds_total: _Optional[float] = ..., time_scale: _Optional[float] = ...) -> None: ...

class FarmStatus(_message.Message):
    __slots__ = ("name", "kind", "state", "code", "updated_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    state: FarmState
    code: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., state: _Optional[_Union[FarmState, str]] = ..., code: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IbError(_message.Message):
    __slots__ = ("code", "message", "at")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LiveSubscription(_message.Message):
    __slots__ = ("symbol", "timeframe", "last_bar", "stalled", "resubscriptions")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    LAST_BAR_FIELD_NUMBER: _ClassVar[int]
    STALLED_FIELD_NUMBER: _ClassVar[int]
    RESUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    last_bar: _timestamp_pb2.Timestamp
    stalled: bool
    resubscriptions: int
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., last_bar: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stalled: _Optional[bool] = ..., resubscriptions: _Optional[int] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ("healthy", "message", "round_trip_ms", "breaker_state")
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ROUND_TRIP_MS_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    healthy: bool
    message: str
    round_trip_ms: float
    breaker_state: BreakerState
    def __init__(self, healthy: _Optional[bool] = ..., message: _Optional[str] = ..., round_trip_ms: _Optional[float] = ..., breaker_state: _Optional[_Union[BreakerState, str]] = ...) -> None: ...

class QualifyContractRequest(_message.Message):
    __slots__ = ("symbol", "instrument_type", "exchange", "currency", "contract_month")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_MONTH_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    instrument_type: _common_pb2.InstrumentType
    exchange: str
    currency: str
    contract_month: str
    def __init__(self, symbol: _Optional[str] = ..., instrument_type: _Optional[_Union[_common_pb2.InstrumentType, str]] = ..., exchange: _Optional[str] = ..., currency: _Optional[str] = ..., contract_month: _Optional[str] = ...) -> None: ...

class QualifyContractResponse(_message.Message):
    __slots__ = ("instrument", "con_id", "sec_type", "local_symbol", "long_name", "last_trade_date")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    CON_ID_FIELD_NUMBER: _ClassVar[int]
    SEC_TYPE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LONG_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_TRADE_DATE_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    con_id: int
    sec_type: str
    local_symbol: str
    long_name: str
    last_trade_date: str
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., con_id: _Optional[int] = ..., sec_type: _Optional[str] = ..., local_symbol: _Optional[str] = ..., long_name: _Optional[str] = ..., last_trade_date: _Optional[str] = ...) -> None: ...

class GetHeadTimestampRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "instrument_type", "what_to_show", "use_rth", "exchange", "currency", "contract_month")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    WHAT_TO_SHOW_FIELD_NUMBER: _ClassVar[int]
    USE_RTH_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_MONTH_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    instrument_type: _common_pb2.InstrumentType
    what_to_show: str
    use_rth: bool
    exchange: str
    currency: str
    contract_month: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., instrument_type: _Optional[_Union[_common_pb2.InstrumentType, str]] = ..., what_to_show: _Optional[str] = ..., use_rth: _Optional[bool] = ..., exchange: _Optional[str] = ..., currency: _Optional[str] = ..., contract_month: _Optional[str] = ...) -> None: ...

class GetHeadTimestampResponse(_message.Message):
    __slots__ = ("head_timestamp",)
    HEAD_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    head_timestamp: _timestamp_pb2.Timestamp
    def __init__(self, head_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamHistoricalBarsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "start_date", "end_date", "use_rth", "what_to_show", "instrument_type", "exchange", "currency", "contract_month")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    USE_RTH_FIELD_NUMBER: _ClassVar[int]
    WHAT_TO_SHOW_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_MONTH_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    use_rth: bool
    what_to_show: str
    instrument_type: _common_pb2.InstrumentType
    exchange: str
    currency: str
    contract_month: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., use_rth: _Optional[bool] = ..., what_to_show: _Optional[str] = ..., instrument_type: _Optional[_Union[_common_pb2.InstrumentType, str]] = ..., exchange: _Optional[str] = ..., currency: _Optional[str] = ..., contract_month: _Optional[str] = ...) -> None: ...

class StreamHistoricalBarsResponse(_message.Message):
    __slots__ = ("bars", "chunk", "chunks")
    BARS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    bars: _common_pb2.BarColumns
    chunk: int
    chunks: int
    def __init__(self, bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ..., chunk: _Optional[int] = ..., chunks: _Optional[int] = ...) -> None: ...

class StreamLiveBarsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "what_to_show", "instrument_type", "exchange", "currency", "contract_month", "use_rth")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    WHAT_TO_SHOW_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_MONTH_FIELD_NUMBER: _ClassVar[int]
    USE_RTH_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    what_to_show: str
    instrument_type: _common_pb2.InstrumentType
    exchange: str
    currency: str
    contract_month: str
    use_rth: bool
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., what_to_show: _Optional[str] = ..., instrument_type: _Optional[_Union[_common_pb2.InstrumentType, str]] = ..., exchange: _Optional[str] = ..., currency: _Optional[str] = ..., contract_month: _Optional[str] = ..., use_rth: _Optional[bool] = ...) -> None: ...

class StreamLiveBarsResponse(_message.Message):
    __slots__ = ("bars",)
    BARS_FIELD_NUMBER: _ClassVar[int]
    bars: _common_pb2.BarColumns
    def __init__(self, bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ...) -> None: ...
