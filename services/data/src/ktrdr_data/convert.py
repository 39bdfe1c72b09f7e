"""The only module of the data service that knows both protobuf and domain types."""

from __future__ import annotations

import numpy as np
import pandas as pd
from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2
from ktrdr_core.bars import Bars
from ktrdr_data.domain.gaps import GapReport
from ktrdr_data.domain.instruments import Instrument, InstrumentType
from ktrdr_data.domain.loader import LoadMode, Provenance
from ktrdr_data.domain.quality import Action, QualityReport
from ktrdr_data.domain.storage import SeriesInfo
from ktrdr_runtime.bars import arrays_to_bars

MAX_ISSUE_TIMESTAMPS = 100

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
_GAP_KINDS = {
    "weekend": data_pb2.GAP_KIND_WEEKEND,
    "outside_trading_hours": data_pb2.GAP_KIND_OUTSIDE_TRADING_HOURS,
    "holiday": data_pb2.GAP_KIND_HOLIDAY,
    "unexpected": data_pb2.GAP_KIND_UNEXPECTED,
}


def load_mode(mode: int) -> LoadMode:
    return _LOAD_MODES.get(mode, LoadMode.LOCAL)


def timestamp(ts: pd.Timestamp | None) -> Timestamp | None:
    if ts is None:
        return None
    us = int(pd.Timestamp(ts).value) // 1000  # .value is nanoseconds whatever the unit
    return Timestamp(seconds=us // 1_000_000, nanos=(us % 1_000_000) * 1000)


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
                timestamps=[timestamp(t) for t in issue.timestamps[:MAX_ISSUE_TIMESTAMPS]],
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
    )


def series_info(info: SeriesInfo) -> data_pb2.SeriesInfo:
    return data_pb2.SeriesInfo(
        timeframe=info.timeframe,
        first=timestamp(info.first),
        last=timestamp(info.last),
        bar_count=info.bars,
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


def gap_response(report: GapReport, *, include_expected: bool) -> data_pb2.AnalyzeGapsResponse:
    gaps = report.gaps
    if not include_expected:
        gaps = gaps[gaps["kind"] == "unexpected"]
    starts = gaps["start"].to_numpy()
    ends = gaps["end"].to_numpy()
    kinds = gaps["kind"].to_numpy()
    missing = gaps["missing_bars"].to_numpy(np.int64)
    expected_total = report.bars + sum(
        int(m) for m in report.gaps.loc[report.gaps["kind"] == "unexpected", "missing_bars"]
    )
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
    )
