"""The only module of the data service that knows both protobuf and domain types."""

from __future__ import annotations

import numpy as np
import pandas as pd
from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2
from ktrdr_core.bars import Bars, frame_from_arrays
from ktrdr_core.errors import ValidationError
from ktrdr_data.domain import errors as codes
from ktrdr_data.domain.csv_io import DateOrder
from ktrdr_data.domain.gaps import GapReport
from ktrdr_data.domain.instruments import Instrument, InstrumentType
from ktrdr_data.domain.loader import LoadMode, Provenance
from ktrdr_data.domain.quality import Action, QualityReport
from ktrdr_data.domain.storage import SeriesInfo
from ktrdr_runtime.bars import arrays_to_bars, columns_to_arrays

MAX_ISSUE_TIMESTAMPS = 100
# google.protobuf.Timestamp holds 0001-01-01 .. 9999-12-31
_PROTO_MIN_US = -62_135_596_800_000_000
_PROTO_MAX_US = 253_402_300_800_000_000

_LOAD_MODES: dict[int, LoadMode] = {
    data_pb2.LOAD_MODE_UNSPECIFIED: LoadMode.LOCAL,
    data_pb2.LOAD_MODE_LOCAL: LoadMode.LOCAL,
    data_pb2.LOAD_MODE_TAIL: LoadMode.TAIL,
    data_pb2.LOAD_MODE_BACKFILL: LoadMode.BACKFILL,
    data_pb2.LOAD_MODE_FULL: LoadMode.FULL,
}
_ACTIONS = {
    Action.REJECTED: data_pb2.QUALITY_ACTION_REJECTED,
    Action.REPAIRED: data_pb2.QUALITY_ACTION_REPAIRED,
    Action.FLAGGED: data_pb2.QUALITY_ACTION_FLAGGED,
}
_INSTRUMENT_TYPES = {
    InstrumentType.FX: common_pb2.INSTRUMENT_TYPE_FX,
    InstrumentType.STK: common_pb2.INSTRUMENT_TYPE_STOCK,
    InstrumentType.FUT: common_pb2.INSTRUMENT_TYPE_FUTURE,
    InstrumentType.IDX: common_pb2.INSTRUMENT_TYPE_INDEX,
    InstrumentType.CRYPTO: common_pb2.INSTRUMENT_TYPE_CRYPTO,
}
_DATE_ORDERS: dict[int, DateOrder] = {
    data_pb2.DATE_ORDER_DAY_FIRST: DateOrder.DAY_FIRST,
    data_pb2.DATE_ORDER_MONTH_FIRST: DateOrder.MONTH_FIRST,
}
_GAP_KINDS = {
    "weekend": data_pb2.GAP_KIND_WEEKEND,
    "outside_trading_hours": data_pb2.GAP_KIND_OUTSIDE_TRADING_HOURS,
    "holiday": data_pb2.GAP_KIND_HOLIDAY,
    "unexpected": data_pb2.GAP_KIND_UNEXPECTED,
}


def load_mode(mode: int) -> LoadMode:
    return _LOAD_MODES.get(mode, LoadMode.LOCAL)


def date_order(order: int) -> DateOrder | None:
    return _DATE_ORDERS.get(order)


def timestamp(ts: pd.Timestamp | None) -> Timestamp | None:
    """A protobuf timestamp; None for None, NaT or a time outside the years 1 to 9999."""
    if ts is None or pd.isna(ts):
        return None
    us = int(pd.Timestamp(ts).as_unit("us").asm8.astype(np.int64))
    if not _PROTO_MIN_US <= us < _PROTO_MAX_US:
        return None
    return Timestamp(seconds=us // 1_000_000, nanos=(us % 1_000_000) * 1000)


def import_source(
    request: data_pb2.ImportBarsRequest | data_pb2.ReplaceSeriesRequest,
) -> pd.DataFrame | None:
    """The ``bars`` columns of an import as a raw frame; None when the CSV is given.

    Raises
    ------
    ValidationError
        ``DATA-010`` for columns of different lengths, ``DATA-015`` when neither is given.
    """
    source = request.WhichOneof("source")
    if source == "csv_content":
        return None
    if source == "bars":
        try:
            return frame_from_arrays(columns_to_arrays(request.bars))
        except ValueError as exc:
            raise ValidationError("DATA-010", f"'bars': {exc}.", field="bars") from None
    raise ValidationError(
        codes.NO_IMPORT_SOURCE,
        "Give the bars to import as 'csv_content' or as 'bars' columns.",
        field="csv_content",
    )


def import_size(
    request: data_pb2.ImportBarsRequest | data_pb2.ReplaceSeriesRequest,
) -> tuple[str, int]:
    """The field carrying an import's bars and how many rows it holds (CSV: lines after the
    header), counted before anything is parsed."""
    if request.WhichOneof("source") == "bars":
        return "bars", len(request.bars.timestamps_us)
    text = request.csv_content
    return "csv_content", text.count("\n") + (not text.endswith("\n")) - 1


def instrument_fields(
    msg: common_pb2.Instrument, symbol: str, *, field: str = "instrument"
) -> dict[str, object]:
    """The declared fields of an instrument message (keyword arguments of ``declare``).

    Raises
    ------
    ValidationError
        ``DATA-024`` when ``symbol`` differs from the request's or ``trading_hours`` is set.
    """
    if msg.symbol and msg.symbol != symbol:
        raise ValidationError(
            codes.INVALID_INSTRUMENT,
            f"'{field}.symbol' {msg.symbol[:40]!r} differs from 'symbol' {symbol!r}; "
            "leave it empty.",
            field=f"{field}.symbol",
        )
    if msg.trading_hours:
        raise ValidationError(
            codes.INVALID_INSTRUMENT,
            f"'{field}.trading_hours' follows the calendar; leave it empty and set "
            f"'{field}.calendar'.",
            field=f"{field}.trading_hours",
        )
    kinds = {v: k for k, v in _INSTRUMENT_TYPES.items()}
    if msg.instrument_type and msg.instrument_type not in kinds:
        raise ValidationError(
            codes.INVALID_INSTRUMENT,
            f"'{field}.instrument_type' {msg.instrument_type} is not an instrument type.",
            field=f"{field}.instrument_type",
        )
    return {
        "instrument_type": kinds.get(msg.instrument_type),
        "exchange": msg.exchange or None,
        "currency": msg.currency or None,
        "calendar": msg.calendar or None,
        "timezone": msg.time_zone or None,
    }


def frame_to_bars(bars: pd.DataFrame) -> list[common_pb2.Bar]:
    cols = Bars.from_frame(bars)
    return arrays_to_bars(
        cols.timestamps_us,
        {
            "open": cols.open,
            "high": cols.high,
            "low": cols.low,
            "close": cols.close,
            "volume": cols.volume,
        },
    )


def quality_report(report: QualityReport) -> data_pb2.QualityReport:
    counts = report.counts_by_action
    return data_pb2.QualityReport(
        bars_in=report.input_bars,
        bars_out=report.output_bars,
        rejected=report.rejected_bars,
        repaired=counts.get(Action.REPAIRED, 0),
        flagged=counts.get(Action.FLAGGED, 0),
        issues=[
            data_pb2.QualityIssue(
                kind=issue.kind,
                action=_ACTIONS[issue.action],
                count=issue.count,
                reason=issue.reason,
                timestamps=[
                    stamp
                    for stamp in map(timestamp, issue.timestamps[:MAX_ISSUE_TIMESTAMPS])
                    if stamp is not None
                ],
                rows=issue.rows[:MAX_ISSUE_TIMESTAMPS],
            )
            for issue in report.issues
        ],
    )


def provenance(p: Provenance) -> data_pb2.LoadProvenance:
    return data_pb2.LoadProvenance(
        local_bars=p.local_bars,
        fetched_bars=p.fetched_bars,
        complete=p.complete,
        missing_ranges=[
            common_pb2.TimeRange(start=timestamp(r.start), end=timestamp(r.end))
            for r in p.missing_ranges
        ],
        source_status=p.source_status,
        resampled_from=p.resampled_from,
    )


def series_info(info: SeriesInfo) -> data_pb2.SeriesInfo:
    return data_pb2.SeriesInfo(
        timeframe=info.timeframe,
        first=timestamp(info.first),
        last=timestamp(info.last),
        bar_count=info.bars,
        corrupt=info.corrupt,
        error=info.error or "",
    )


def instrument(inst: Instrument) -> common_pb2.Instrument:
    return common_pb2.Instrument(
        symbol=inst.symbol,
        exchange=inst.exchange,
        instrument_type=_INSTRUMENT_TYPES.get(inst.type, common_pb2.INSTRUMENT_TYPE_UNSPECIFIED),
        currency=inst.currency,
        time_zone=inst.timezone,
        calendar=inst.calendar,
        trading_hours=inst.trading_hours,
    )


def gap_response(
    report: GapReport, gaps: pd.DataFrame, *, next_page_token: str
) -> data_pb2.AnalyzeGapsResponse:
    """The response listing ``gaps`` (one page of ``report.gaps``) with the whole summary."""
    starts = gaps["start"].to_numpy()
    ends = gaps["end"].to_numpy()
    kinds = gaps["kind"].to_numpy()
    missing = gaps["missing_bars"].to_numpy(np.int64)
    expected_total = report.bars + report.unexpected_missing_bars
    coverage = 100.0 * report.bars / expected_total if expected_total else 100.0
    return data_pb2.AnalyzeGapsResponse(
        gaps=[
            data_pb2.Gap(
                start=timestamp(pd.Timestamp(s)),
                end=timestamp(pd.Timestamp(e)),
                kind=_GAP_KINDS[k],
                missing_bars=int(m),
            )
            for s, e, k, m in zip(starts, ends, kinds, missing, strict=True)
        ],
        summary=data_pb2.GapSummary(
            bar_count=report.bars,
            gap_count=len(report.gaps),
            by_kind=[
                data_pb2.GapCount(kind=_GAP_KINDS[k], count=c) for k, c in report.counts.items()
            ],
            coverage_pct=coverage,
        ),
        next_page_token=next_page_token,
    )
