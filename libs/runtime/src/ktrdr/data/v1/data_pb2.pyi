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

class LoadMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAD_MODE_UNSPECIFIED: _ClassVar[LoadMode]
    LOAD_MODE_LOCAL: _ClassVar[LoadMode]
    LOAD_MODE_TAIL: _ClassVar[LoadMode]
    LOAD_MODE_BACKFILL: _ClassVar[LoadMode]
    LOAD_MODE_FULL: _ClassVar[LoadMode]

class QualityAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_ACTION_UNSPECIFIED: _ClassVar[QualityAction]
    QUALITY_ACTION_REJECTED: _ClassVar[QualityAction]
    QUALITY_ACTION_REPAIRED: _ClassVar[QualityAction]
    QUALITY_ACTION_FLAGGED: _ClassVar[QualityAction]

class GapKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GAP_KIND_UNSPECIFIED: _ClassVar[GapKind]
    GAP_KIND_WEEKEND: _ClassVar[GapKind]
    GAP_KIND_OUTSIDE_TRADING_HOURS: _ClassVar[GapKind]
    GAP_KIND_HOLIDAY: _ClassVar[GapKind]
    GAP_KIND_UNEXPECTED: _ClassVar[GapKind]

class DateOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATE_ORDER_UNSPECIFIED: _ClassVar[DateOrder]
    DATE_ORDER_DAY_FIRST: _ClassVar[DateOrder]
    DATE_ORDER_MONTH_FIRST: _ClassVar[DateOrder]
LOAD_MODE_UNSPECIFIED: LoadMode
LOAD_MODE_LOCAL: LoadMode
LOAD_MODE_TAIL: LoadMode
LOAD_MODE_BACKFILL: LoadMode
LOAD_MODE_FULL: LoadMode
QUALITY_ACTION_UNSPECIFIED: QualityAction
QUALITY_ACTION_REJECTED: QualityAction
QUALITY_ACTION_REPAIRED: QualityAction
QUALITY_ACTION_FLAGGED: QualityAction
GAP_KIND_UNSPECIFIED: GapKind
GAP_KIND_WEEKEND: GapKind
GAP_KIND_OUTSIDE_TRADING_HOURS: GapKind
GAP_KIND_HOLIDAY: GapKind
GAP_KIND_UNEXPECTED: GapKind
DATE_ORDER_UNSPECIFIED: DateOrder
DATE_ORDER_DAY_FIRST: DateOrder
DATE_ORDER_MONTH_FIRST: DateOrder

class LoadDataRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "start_date", "end_date", "mode", "page_size", "page_token")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    mode: LoadMode
    page_size: int
    page_token: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., mode: _Optional[_Union[LoadMode, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class LoadDataResponse(_message.Message):
    __slots__ = ("symbol", "timeframe", "bars", "quality", "provenance", "next_page_token")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    BARS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    bars: _containers.RepeatedCompositeFieldContainer[_common_pb2.Bar]
    quality: QualityReport
    provenance: LoadProvenance
    next_page_token: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., bars: _Optional[_Iterable[_Union[_common_pb2.Bar, _Mapping]]] = ..., quality: _Optional[_Union[QualityReport, _Mapping]] = ..., provenance: _Optional[_Union[LoadProvenance, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class QualityIssue(_message.Message):
    __slots__ = ("kind", "action", "count", "reason", "timestamps", "rows")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    action: QualityAction
    count: int
    reason: str
    timestamps: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    rows: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, kind: _Optional[str] = ..., action: _Optional[_Union[QualityAction, str]] = ..., count: _Optional[int] = ..., reason: _Optional[str] = ..., timestamps: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ..., rows: _Optional[_Iterable[int]] = ...) -> None: ...

class QualityReport(_message.Message):
    __slots__ = ("bars_in", "bars_out", "rejected", "repaired", "flagged", "issues")
    BARS_IN_FIELD_NUMBER: _ClassVar[int]
    BARS_OUT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REPAIRED_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    bars_in: int
    bars_out: int
    rejected: int
    repaired: int
    flagged: int
    issues: _containers.RepeatedCompositeFieldContainer[QualityIssue]
    def __init__(self, bars_in: _Optional[int] = ..., bars_out: _Optional[int] = ..., rejected: _Optional[int] = ..., repaired: _Optional[int] = ..., flagged: _Optional[int] = ..., issues: _Optional[_Iterable[_Union[QualityIssue, _Mapping]]] = ...) -> None: ...

class LoadProvenance(_message.Message):
    __slots__ = ("local_bars", "fetched_bars", "complete", "missing_ranges", "source_status", "resampled_from")
    LOCAL_BARS_FIELD_NUMBER: _ClassVar[int]
    FETCHED_BARS_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    MISSING_RANGES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_STATUS_FIELD_NUMBER: _ClassVar[int]
    RESAMPLED_FROM_FIELD_NUMBER: _ClassVar[int]
    local_bars: int
    fetched_bars: int
    complete: bool
    missing_ranges: _containers.RepeatedCompositeFieldContainer[_common_pb2.TimeRange]
    source_status: str
    resampled_from: str
    def __init__(self, local_bars: _Optional[int] = ..., fetched_bars: _Optional[int] = ..., complete: _Optional[bool] = ..., missing_ranges: _Optional[_Iterable[_Union[_common_pb2.TimeRange, _Mapping]]] = ..., source_status: _Optional[str] = ..., resampled_from: _Optional[str] = ...) -> None: ...

class ListSymbolsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SeriesInfo(_message.Message):
    __slots__ = ("timeframe", "first", "last", "bar_count", "corrupt", "error")
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    BAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    CORRUPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    timeframe: str
    first: _timestamp_pb2.Timestamp
    last: _timestamp_pb2.Timestamp
    bar_count: int
    corrupt: bool
    error: str
    def __init__(self, timeframe: _Optional[str] = ..., first: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bar_count: _Optional[int] = ..., corrupt: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class SymbolInfo(_message.Message):
    __slots__ = ("instrument", "series")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    series: _containers.RepeatedCompositeFieldContainer[SeriesInfo]
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., series: _Optional[_Iterable[_Union[SeriesInfo, _Mapping]]] = ...) -> None: ...

class ListSymbolsResponse(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedCompositeFieldContainer[SymbolInfo]
    def __init__(self, symbols: _Optional[_Iterable[_Union[SymbolInfo, _Mapping]]] = ...) -> None: ...

class ListTimeframesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTimeframesResponse(_message.Message):
    __slots__ = ("timeframes",)
    TIMEFRAMES_FIELD_NUMBER: _ClassVar[int]
    timeframes: _containers.RepeatedCompositeFieldContainer[_common_pb2.TimeframeInfo]
    def __init__(self, timeframes: _Optional[_Iterable[_Union[_common_pb2.TimeframeInfo, _Mapping]]] = ...) -> None: ...

class GetDataInfoRequest(_message.Message):
    __slots__ = ("symbol", "timeframe")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ...) -> None: ...

class GetDataInfoResponse(_message.Message):
    __slots__ = ("instrument", "series")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    series: SeriesInfo
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., series: _Optional[_Union[SeriesInfo, _Mapping]] = ...) -> None: ...

class Gap(_message.Message):
    __slots__ = ("start", "end", "kind", "missing_bars")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MISSING_BARS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    kind: GapKind
    missing_bars: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[GapKind, str]] = ..., missing_bars: _Optional[int] = ...) -> None: ...

class GapCount(_message.Message):
    __slots__ = ("kind", "count")
    KIND_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    kind: GapKind
    count: int
    def __init__(self, kind: _Optional[_Union[GapKind, str]] = ..., count: _Optional[int] = ...) -> None: ...

class GapSummary(_message.Message):
    __slots__ = ("bar_count", "gap_count", "by_kind", "coverage_pct")
    BAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    GAP_COUNT_FIELD_NUMBER: _ClassVar[int]
    BY_KIND_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_PCT_FIELD_NUMBER: _ClassVar[int]
    bar_count: int
    gap_count: int
    by_kind: _containers.RepeatedCompositeFieldContainer[GapCount]
    coverage_pct: float
    def __init__(self, bar_count: _Optional[int] = ..., gap_count: _Optional[int] = ..., by_kind: _Optional[_Iterable[_Union[GapCount, _Mapping]]] = ..., coverage_pct: _Optional[float] = ...) -> None: ...

class AnalyzeGapsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "start_date", "end_date", "include_expected", "page_size", "page_token")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXPECTED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    include_expected: bool
    page_size: int
    page_token: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., include_expected: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class AnalyzeGapsResponse(_message.Message):
    __slots__ = ("gaps", "summary", "next_page_token")
    GAPS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    gaps: _containers.RepeatedCompositeFieldContainer[Gap]
    summary: GapSummary
    next_page_token: str
    def __init__(self, gaps: _Optional[_Iterable[_Union[Gap, _Mapping]]] = ..., summary: _Optional[_Union[GapSummary, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ImportBarsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "csv_content", "bars", "time_zone", "date_order", "instrument")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    CSV_CONTENT_FIELD_NUMBER: _ClassVar[int]
    BARS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    DATE_ORDER_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    csv_content: str
    bars: _common_pb2.BarColumns
    time_zone: str
    date_order: DateOrder
    instrument: _common_pb2.Instrument
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., csv_content: _Optional[str] = ..., bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ..., time_zone: _Optional[str] = ..., date_order: _Optional[_Union[DateOrder, str]] = ..., instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ...) -> None: ...

class ImportBarsResponse(_message.Message):
    __slots__ = ("imported", "quality", "series", "instrument")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    imported: int
    quality: QualityReport
    series: SeriesInfo
    instrument: _common_pb2.Instrument
    def __init__(self, imported: _Optional[int] = ..., quality: _Optional[_Union[QualityReport, _Mapping]] = ..., series: _Optional[_Union[SeriesInfo, _Mapping]] = ..., instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ...) -> None: ...

class ExportBarsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "start_date", "end_date", "page_size", "page_token")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    page_size: int
    page_token: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ExportBarsResponse(_message.Message):
    __slots__ = ("csv_content", "bar_count", "next_page_token")
    CSV_CONTENT_FIELD_NUMBER: _ClassVar[int]
    BAR_COUNT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    csv_content: str
    bar_count: int
    next_page_token: str
    def __init__(self, csv_content: _Optional[str] = ..., bar_count: _Optional[int] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StreamBarsRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "start_date", "end_date", "batch_size", "replay_speed")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    REPLAY_SPEED_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    batch_size: int
    replay_speed: float
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., batch_size: _Optional[int] = ..., replay_speed: _Optional[float] = ...) -> None: ...

class StreamBarsResponse(_message.Message):
    __slots__ = ("bars", "resampled_from")
    BARS_FIELD_NUMBER: _ClassVar[int]
    RESAMPLED_FROM_FIELD_NUMBER: _ClassVar[int]
    bars: _common_pb2.BarColumns
    resampled_from: str
    def __init__(self, bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ..., resampled_from: _Optional[str] = ...) -> None: ...

class GetSymbolMetadataRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetSymbolMetadataResponse(_message.Message):
    __slots__ = ("instrument",)
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ...) -> None: ...

class UpdateSymbolMetadataRequest(_message.Message):
    __slots__ = ("symbol", "instrument")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    instrument: _common_pb2.Instrument
    def __init__(self, symbol: _Optional[str] = ..., instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ...) -> None: ...

class UpdateSymbolMetadataResponse(_message.Message):
    __slots__ = ("instrument",)
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ...) -> None: ...

class ReplaceSeriesRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "csv_content", "bars", "time_zone", "date_order", "instrument")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    CSV_CONTENT_FIELD_NUMBER: _ClassVar[int]
    BARS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    DATE_ORDER_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    csv_content: str
    bars: _common_pb2.BarColumns
    time_zone: str
    date_order: DateOrder
    instrument: _common_pb2.Instrument
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., csv_content: _Optional[str] = ..., bars: _Optional[_Union[_common_pb2.BarColumns, _Mapping]] = ..., time_zone: _Optional[str] = ..., date_order: _Optional[_Union[DateOrder, str]] = ..., instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ...) -> None: ...

class ReplaceSeriesResponse(_message.Message):
    __slots__ = ("replaced_bars", "imported", "quality", "series")
    REPLACED_BARS_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    replaced_bars: int
    imported: int
    quality: QualityReport
    series: SeriesInfo
    def __init__(self, replaced_bars: _Optional[int] = ..., imported: _Optional[int] = ..., quality: _Optional[_Union[QualityReport, _Mapping]] = ..., series: _Optional[_Union[SeriesInfo, _Mapping]] = ...) -> None: ...

class DeleteSeriesRequest(_message.Message):
    __slots__ = ("symbol", "timeframe")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ...) -> None: ...

class DeleteSeriesResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...
