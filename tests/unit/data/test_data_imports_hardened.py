"""Imports refuse or name every bad row and never corrupt a series (issue 9: 4, 8, 10, 12, 13)."""

from __future__ import annotations

import grpc
import pandas as pd
import pytest
from data_testutil import make_bars, rpc_error

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_core.calendars import CALENDARS
from ktrdr_data.app import SPEC
from ktrdr_data.domain.csv_io import write_csv
from ktrdr_data.domain.synthetic import SyntheticConfig, generate
from ktrdr_runtime.grpc_errors import error_detail_of, error_message_of
from ktrdr_runtime.testing import serve_in_process

HEADER = "Date,Open,High,Low,Close,Volume\n"


@pytest.fixture
async def data(tmp_path):
    async with serve_in_process(SPEC, home=tmp_path, import_bundled=False) as (_, channel):
        yield data_pb2_grpc.DataServiceStub(channel)


def _import(symbol: str, csv: str, timeframe: str = "1h", **fields) -> data_pb2.ImportBarsRequest:
    return data_pb2.ImportBarsRequest(symbol=symbol, timeframe=timeframe, csv_content=csv, **fields)


def _issues(quality: data_pb2.QualityReport) -> dict[str, data_pb2.QualityIssue]:
    return {i.kind: i for i in quality.issues}


# ------------------------------------------------------------------ item 4: absurd rows


async def test_rows_dated_9999_or_1500_and_a_huge_volume_are_rejected_by_row(data):
    good = make_bars("2024-01-01", 6)
    await data.ImportBars(_import("TEST", write_csv(good)))
    before = await data.GetDataInfo(data_pb2.GetDataInfoRequest(symbol="TEST", timeframe="1h"))
    csv = (
        HEADER + "2024-01-01T06:00:00Z,10,11,9,10.5,100\n"  # row 0: fine
        "9999-01-01T00:00:00Z,10,11,9,10.5,100\n"  # row 1: after the supported range
        "1500-01-01T00:00:00Z,10,11,9,10.5,100\n"  # row 2: before it
        "2024-01-01T07:00:00Z,10,11,9,10.5,1e30\n"  # row 3: volume not storable
    )
    reply = await data.ImportBars(_import("TEST", csv))
    issues = _issues(reply.quality)
    assert list(issues["timestamp_out_of_range"].rows) == [1, 2]
    assert [t.ToJsonString() for t in issues["timestamp_out_of_range"].timestamps] == [
        "9999-01-01T00:00:00Z",
        "1500-01-01T00:00:00Z",
    ]
    assert list(issues["volume_out_of_range"].rows) == [3]
    q = reply.quality
    assert (q.bars_in, q.bars_out, q.rejected) == (4, 1, 3)
    assert reply.imported == 1 and reply.series.bar_count == before.series.bar_count + 1
    # The series stays readable: info, load and gaps agree.
    info = await data.GetDataInfo(data_pb2.GetDataInfoRequest(symbol="TEST", timeframe="1h"))
    assert info.series.first == before.series.first and info.series.bar_count == 7
    loaded = await data.LoadData(data_pb2.LoadDataRequest(symbol="TEST", timeframe="1h"))
    assert len(loaded.bars) == 7 and all(b.volume < 1e15 for b in loaded.bars)
    gaps = await data.AnalyzeGaps(data_pb2.AnalyzeGapsRequest(symbol="TEST", timeframe="1h"))
    assert gaps.summary.bar_count == 7


async def test_a_file_of_only_bad_rows_is_refused_and_changes_nothing(data):
    await data.ImportBars(_import("TEST", write_csv(make_bars("2024-01-01", 6))))
    csv = HEADER + "9999-01-01,10,11,9,10.5,100\n1500-01-01,10,11,9,10.5,100\n"
    err = await rpc_error(data.ImportBars(_import("TEST", csv)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("DATA-021", "csv_content")
    message = error_message_of(err)
    assert "timestamp_out_of_range" in message and "rows [0, 1]" in message
    info = await data.GetDataInfo(data_pb2.GetDataInfoRequest(symbol="TEST", timeframe="1h"))
    assert info.series.bar_count == 6
    err = await rpc_error(data.ImportBars(_import("NEWSYM", csv)))  # no empty series is created
    assert error_detail_of(err).code == "DATA-021"
    symbols = await data.ListSymbols(data_pb2.ListSymbolsRequest())
    assert [s.instrument.symbol for s in symbols.symbols] == ["TEST"]


async def test_column_imports_are_held_to_the_same_rules(data):
    ts = [1_704_067_200_000_000 + i * 3_600_000_000 for i in range(3)]
    bars = common_pb2.BarColumns(
        timestamps_us=[ts[0], 0, ts[2]],
        open=[10, 10, 10],
        high=[11, 11, 11],
        low=[9, 9, 9],
        close=[10, 10, 10],
        volume=[5, 5, -7],
    )
    reply = await data.ImportBars(data_pb2.ImportBarsRequest(symbol="T", timeframe="1h", bars=bars))
    issues = _issues(reply.quality)
    assert list(issues["missing_timestamp"].rows) == [1]
    assert list(issues["negative_volume"].rows) == [2]
    assert reply.imported == 1


# ------------------------------------------------------------------ item 8: 400, never 500


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"csv_content": "", "time_zone": ""}, "DATA-015", "csv_content"),  # oneof unset
        ({"csv_content": "\n\n"}, "DATA-018", "csv_content"),
        ({"csv_content": HEADER}, "DATA-018", "csv_content"),
        (
            {"csv_content": HEADER + "2024-01-01,1,2,1,2,5\n", "time_zone": "Mars/Olympus"},
            "DATA-019",
            "time_zone",
        ),
        (
            {"csv_content": HEADER + "2024-01-01,1,2,1,2,5\n", "time_zone": "../../etc/passwd"},
            "DATA-019",
            "time_zone",
        ),
        (  # longer than a file name may be: still the unknown zone, not an OSError
            {"csv_content": HEADER + "2024-01-01,1,2,1,2,5\n", "time_zone": "x" * 10_000},
            "DATA-019",
            "time_zone",
        ),
        ({"csv_content": "a,b\n1,2\n1,2,3,4\n"}, "DATA-008", "csv_content"),
    ],
)
async def test_unusable_imports_are_invalid_argument_naming_the_field(data, fields, code, field):
    request = data_pb2.ImportBarsRequest(symbol="TEST", timeframe="1d", **fields)
    if fields.get("csv_content") == "":
        request.ClearField("csv_content")
    err = await rpc_error(data.ImportBars(request))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == (code, field)


async def test_an_unknown_time_zone_suggests_close_names(data):
    csv = HEADER + "2024-01-01,1,2,1,2,5\n"
    err = await rpc_error(data.ImportBars(_import("TEST", csv, "1d", time_zone="Europe/Londn")))
    assert "Europe/London" in error_detail_of(err).suggestions


# ------------------------------------------------------------------ item 10: counts add up


async def test_dropped_duplicates_count_as_rejected_so_the_counts_add_up(data):
    csv = HEADER + (
        "2024-01-02,10,11,9,10.5,100\n"
        "2024-01-02,10,11,9,10.7,100\n"  # duplicate: the later row wins
        "2024-01-03,10,9,11,10,100\n"  # high < low
        "2024-01-04,10,11,9,10.2,100\n"
    )
    reply = await data.ImportBars(_import("TEST", csv, "1d"))
    q = reply.quality
    assert (q.bars_in, q.bars_out, q.rejected) == (4, 2, 2)
    assert q.rejected == q.bars_in - q.bars_out
    dup = _issues(q)["duplicate"]
    assert dup.action == data_pb2.QUALITY_ACTION_REJECTED and list(dup.rows) == [0]
    loaded = await data.LoadData(data_pb2.LoadDataRequest(symbol="TEST", timeframe="1d"))
    assert [b.close for b in loaded.bars] == [10.7, 10.2]


# ------------------------------------------------------------------ item 12: CSV rules


async def test_off_grid_rows_are_flagged_by_row_and_kept(data):
    csv = HEADER + "2024-01-02 00:00,10,11,9,10,1\n2024-01-02 00:17,10,11,9,10,1\n"
    reply = await data.ImportBars(_import("TEST", csv))
    off = _issues(reply.quality)["off_grid"]
    assert off.action == data_pb2.QUALITY_ACTION_FLAGGED and list(off.rows) == [1]
    assert off.timestamps[0].ToJsonString() == "2024-01-02T00:17:00Z"
    assert reply.imported == 2


async def test_a_file_mixing_day_first_and_month_first_dates_is_refused(data):
    csv = HEADER + "13/01/2020,10,11,9,10,1\n01/13/2020,10,11,9,10,1\n"
    err = await rpc_error(data.ImportBars(_import("TEST", csv, "1d")))
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("DATA-020", "date_order")
    assert "row 0" in error_message_of(err) and "row 1" in error_message_of(err)


async def test_one_order_per_file_detected_from_a_deciding_row(data):
    csv = HEADER + "13/01/2020,10,11,9,10,1\n01/02/2020,10,11,9,10,1\n"  # 13 decides: day first
    await data.ImportBars(_import("TEST", csv, "1d"))
    loaded = await data.LoadData(data_pb2.LoadDataRequest(symbol="TEST", timeframe="1d"))
    assert [b.timestamp.ToJsonString()[:10] for b in loaded.bars] == ["2020-01-13", "2020-02-01"]


async def test_undecidable_dates_ask_for_the_order_and_a_declared_order_is_used(data):
    csv = HEADER + "01/02/2020,10,11,9,10,1\n03/04/2020,10,11,9,10,1\n"
    err = await rpc_error(data.ImportBars(_import("TEST", csv, "1d")))
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("DATA-020", "date_order")
    assert "DATE_ORDER_DAY_FIRST" in error_message_of(err)
    await data.ImportBars(_import("TEST", csv, "1d", date_order=data_pb2.DATE_ORDER_MONTH_FIRST))
    loaded = await data.LoadData(data_pb2.LoadDataRequest(symbol="TEST", timeframe="1d"))
    assert [b.timestamp.ToJsonString()[:10] for b in loaded.bars] == ["2020-01-02", "2020-03-04"]
    bad = HEADER + "01/13/2020,10,11,9,10,1\n"
    err = await rpc_error(
        data.ImportBars(_import("TEST", bad, "1d", date_order=data_pb2.DATE_ORDER_DAY_FIRST))
    )
    detail = error_detail_of(err)
    assert (detail.code, dict(detail.metadata)) == ("DATA-008", {"row": "0"})


async def test_daylight_saving_rule_names_the_nonexistent_row_and_orders_repeated_hours(data):
    csv = HEADER + (
        "2024-03-10 01:30,10,11,9,10,1\n"
        "2024-03-10 02:30,10,11,9,10,1\n"  # row 1: clocks jump 02:00 -> 03:00 in New York
        "2024-03-10 03:30,10,11,9,10,1\n"
        "2024-11-03 01:30,10,11,9,10,1\n"  # row 3: first 01:30, daylight time (05:30Z)
        "2024-11-03 01:30,10,11,9,10,1\n"  # row 4: second 01:30, standard time (06:30Z)
    )
    reply = await data.ImportBars(_import("TEST", csv, "30m", time_zone="America/New_York"))
    gone = _issues(reply.quality)["nonexistent_local_time"]
    assert list(gone.rows) == [1] and "America/New_York" in gone.reason
    loaded = await data.LoadData(data_pb2.LoadDataRequest(symbol="TEST", timeframe="30m"))
    assert [b.timestamp.ToJsonString() for b in loaded.bars] == [
        "2024-03-10T06:30:00Z",
        "2024-03-10T07:30:00Z",
        "2024-11-03T05:30:00Z",
        "2024-11-03T06:30:00Z",
    ]


# ------------------------------------------------------------------ item 13: instruments


def _fx_week_with_a_night_hole() -> pd.DataFrame:
    """FX-calendar hourly bars over two weeks, missing Tuesday 01:00-04:00 UTC."""
    bars = generate(SyntheticConfig(bars=24 * 10, timeframe="1h", calendar="fx_24_5", seed=3))
    tuesday = bars.index[(bars.index.day_of_week == 1) & (bars.index.hour.isin([1, 2, 3]))]
    return bars.drop(tuesday[:3])


async def test_import_declares_the_instrument_and_gap_analysis_uses_its_calendar(data):
    bars = _fx_week_with_a_night_hole()
    assert CALENDARS["fx_24_5"].is_open(bars.index.asi8 // 1000).all()
    await data.ImportBars(_import("MYPAIR", write_csv(bars)))  # unknown: US stock assumed
    gaps = await data.AnalyzeGaps(data_pb2.AnalyzeGapsRequest(symbol="MYPAIR", timeframe="1h"))
    assert len(gaps.gaps) == 0  # a night without bars is normal for a stock: nothing unexpected
    fx = common_pb2.Instrument(
        instrument_type=common_pb2.INSTRUMENT_TYPE_FX, currency="CHF", exchange="IDEALPRO"
    )
    reply = await data.ImportBars(_import("MYPAIR", write_csv(bars), instrument=fx))
    assert reply.instrument.calendar == "fx_24_5" and reply.instrument.currency == "CHF"
    gaps = await data.AnalyzeGaps(data_pb2.AnalyzeGapsRequest(symbol="MYPAIR", timeframe="1h"))
    assert [(g.kind, g.missing_bars) for g in gaps.gaps] == [(data_pb2.GAP_KIND_UNEXPECTED, 3)]
    meta = await data.GetSymbolMetadata(data_pb2.GetSymbolMetadataRequest(symbol="MYPAIR"))
    assert meta.instrument.instrument_type == common_pb2.INSTRUMENT_TYPE_FX
    assert meta.instrument.time_zone == "America/New_York"
    listed = await data.ListSymbols(data_pb2.ListSymbolsRequest())
    assert listed.symbols[0].instrument.calendar == "fx_24_5"


async def test_symbol_metadata_route_declares_a_future_and_keeps_other_fields(data):
    update = data_pb2.UpdateSymbolMetadataRequest(
        symbol="MYFUT",
        instrument=common_pb2.Instrument(instrument_type=common_pb2.INSTRUMENT_TYPE_FUTURE),
    )
    reply = await data.UpdateSymbolMetadata(update)
    inst = reply.instrument
    assert (inst.calendar, inst.exchange, inst.currency) == ("cme_globex", "CME", "USD")
    assert "17:00" in inst.trading_hours
    reply = await data.UpdateSymbolMetadata(
        data_pb2.UpdateSymbolMetadataRequest(
            symbol="MYFUT", instrument=common_pb2.Instrument(exchange="CBOT")
        )
    )
    assert (reply.instrument.exchange, reply.instrument.calendar) == ("CBOT", "cme_globex")


@pytest.mark.parametrize(
    ("instrument", "code", "field", "suggestion"),
    [
        (common_pb2.Instrument(currency="usd"), "DATA-024", "instrument.currency", "USD"),
        (common_pb2.Instrument(calendar="fx_24_7"), "DATA-011", "instrument.calendar", "fx_24_5"),
        (
            common_pb2.Instrument(time_zone="Europe/Pariss"),
            "DATA-019",
            "instrument.time_zone",
            "Europe/Paris",
        ),
        (common_pb2.Instrument(time_zone="x" * 10_000), "DATA-019", "instrument.time_zone", None),
        (common_pb2.Instrument(symbol="OTHER"), "DATA-024", "instrument.symbol", None),
        (common_pb2.Instrument(trading_hours="24/7"), "DATA-024", "instrument.trading_hours", None),
        # An undefined enum number is refused by the runtime for every request (one rule).
        (
            common_pb2.Instrument(instrument_type=99),
            "RUNTIME-006",
            "instrument.instrument_type",
            None,
        ),
    ],
)
async def test_invalid_instrument_metadata_is_refused_and_nothing_is_written(
    data, instrument, code, field, suggestion
):
    csv = HEADER + "2024-01-02,10,11,9,10,1\n"
    err = await rpc_error(data.ImportBars(_import("MYSYM", csv, "1d", instrument=instrument)))
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == (code, field)
    if suggestion:
        assert suggestion in detail.suggestions
    symbols = await data.ListSymbols(data_pb2.ListSymbolsRequest())
    assert len(symbols.symbols) == 0
    meta = await data.GetSymbolMetadata(data_pb2.GetSymbolMetadataRequest(symbol="MYSYM"))
    assert meta.instrument.calendar == "us_equity"  # still the inferred default


def test_synthetic_fx_fixture_really_has_the_night_hole():
    bars = _fx_week_with_a_night_hole()
    hours = (bars.index[1:] - bars.index[:-1]) / pd.Timedelta(hours=1)
    assert (hours == 4).sum() == 1  # three bars missing once


async def test_an_import_of_more_rows_than_allowed_is_refused_before_parsing(data):
    csv = HEADER + "2024-01-01,1,2,1,2,5\n" * 1_000_001
    err = await rpc_error(data.ImportBars(_import("TEST", csv, "1d")))
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("DATA-026", "csv_content")
    assert "1000001" in error_message_of(err) and "1000000" in error_message_of(err)
