"""Reads answer 4xx for bad input, page, resample, say what they return, and survive corrupt
files (issue 9: items 1, 3, 6, 9, 10, 14, 15)."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import pytest
from backtesting.test import EURUSD
from data_testutil import make_bars, rpc_error, stream_error

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_data.app import SPEC
from ktrdr_data.domain.bundled import bundled_frame
from ktrdr_data.domain.csv_io import write_csv
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_fuzzy.app import SPEC as FUZZY
from ktrdr_gateway.policy import role_for
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_runtime.bars import columns_to_arrays
from ktrdr_runtime.grpc_errors import error_detail_of, error_message_of
from ktrdr_runtime.testing import serve_in_process

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
EUR = EURUSD.copy()
EUR.index = EUR.index.tz_localize("UTC")


def _rpc(stub, name: str, **fields):
    """Call one of the date-taking reads with ``fields``."""
    base = {"symbol": "EURUSD", "timeframe": "1h", **fields}
    if name == "load":
        return rpc_error(stub.LoadData(data_pb2.LoadDataRequest(**base)))
    if name == "gaps":
        return rpc_error(stub.AnalyzeGaps(data_pb2.AnalyzeGapsRequest(**base)))
    if name == "export":
        return rpc_error(stub.ExportBars(data_pb2.ExportBarsRequest(**base)))
    return stream_error(stub.StreamBars(data_pb2.StreamBarsRequest(**base)))


# ------------------------------------------------------------------ item 3: date range


@pytest.mark.parametrize("rpc", ["load", "stream", "gaps", "export"])
@pytest.mark.parametrize(
    ("fields", "field"),
    [({"end_date": "9999-12-31"}, "end_date"), ({"start_date": "0001-01-01"}, "start_date")],
)
async def test_dates_outside_the_supported_range_are_400_naming_field_and_range(
    data, rpc, fields, field
):
    stub, _ = data
    err = await _rpc(stub, rpc, **fields)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("DATA-002", field)
    assert "1900-01-01" in error_message_of(err) and "2200-01-01" in error_message_of(err)


async def test_indicator_source_and_fuzzy_calculate_refuse_out_of_range_dates(tmp_path):
    async with (
        serve_in_process(SPEC, home=tmp_path) as (data, _),
        serve_in_process(INDICATORS, home=tmp_path, data_address=data.address) as (ind, ich),
        serve_in_process(
            FUZZY, home=tmp_path, strategies_dir=STRATEGIES, indicators_address=ind.address
        ) as (_, fch),
    ):
        ind_err = await rpc_error(
            indicators_pb2_grpc.IndicatorServiceStub(ich).CalculateIndicator(
                indicators_pb2.CalculateIndicatorRequest(
                    indicator="rsi",
                    source=indicators_pb2.DataSelection(
                        symbol="EURUSD", timeframe="1h", end_date="9999-12-31"
                    ),
                )
            )
        )
        fuzzy_err = await rpc_error(
            fuzzy_pb2_grpc.FuzzyServiceStub(fch).CalculateFuzzy(
                fuzzy_pb2.CalculateFuzzyRequest(
                    symbol="EURUSD",
                    timeframe="1h",
                    strategy="rsi_trend_eurusd_1h",
                    start_date="0001-01-01",
                )
            )
        )
    for err, field in ((ind_err, "source.end_date"), (fuzzy_err, "start_date")):
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        detail = error_detail_of(err)
        assert detail.field == field and "1900-01-01" in error_message_of(err)


# ------------------------------------------------------------------ item 1: bounds


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"batch_size": 10_001}, "DATA-016", "batch_size"),
        ({"batch_size": -1}, "DATA-016", "batch_size"),
        ({"replay_speed": 1e-300}, "DATA-017", "replay_speed"),
        ({"replay_speed": -1.0}, "DATA-017", "replay_speed"),
        ({"replay_speed": float("inf")}, "DATA-017", "replay_speed"),
        ({"replay_speed": 1e7}, "DATA-017", "replay_speed"),
    ],
)
async def test_stream_sizes_and_speeds_outside_their_bounds_are_refused(data, fields, code, field):
    stub, _ = data
    request = data_pb2.StreamBarsRequest(symbol="EURUSD", timeframe="1h", **fields)
    err = await stream_error(stub.StreamBars(request))
    detail = error_detail_of(err)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (detail.code, detail.field) == (code, field)


@pytest.mark.parametrize("rpc", ["load", "gaps", "export"])
@pytest.mark.parametrize("size", [-1, 100_001])
async def test_page_sizes_outside_their_bounds_are_refused(data, rpc, size):
    stub, _ = data
    err = await _rpc(stub, rpc, page_size=size)
    assert (error_detail_of(err).code, error_detail_of(err).field) == ("DATA-022", "page_size")


# ------------------------------------------------------------------ item 6: paging


@pytest.fixture
async def big(tmp_path):
    """120 000 one-minute bars of BIG, less one in every thousand, and a service over them."""
    bars = make_bars("2020-01-01", 120_000, freq="1min", seed=4)
    bars = bars.drop(bars.index[500::1000])
    ParquetBarStore(tmp_path / "data").write("BIG", "1m", bars)
    async with serve_in_process(SPEC, home=tmp_path, import_bundled=False) as (_, channel):
        yield data_pb2_grpc.DataServiceStub(channel), bars


async def test_an_unpaged_load_too_large_for_one_response_points_to_paging(big):
    stub, _ = big
    err = await rpc_error(stub.LoadData(data_pb2.LoadDataRequest(symbol="BIG", timeframe="1m")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT  # 400, never 429
    detail = error_detail_of(err)
    assert (detail.code, detail.field) == ("DATA-022", "page_size")
    message = error_message_of(err)
    assert "119880" in message and "next_page_token" in message and "StreamBars" in message


async def test_paged_load_returns_every_bar_once_in_order(big):
    stub, bars = big
    request = data_pb2.LoadDataRequest(
        symbol="BIG", timeframe="1m", start_date="2020-01-01T00:30", page_size=50_000
    )
    stamps, sizes = [], []
    while True:
        reply = await stub.LoadData(request)
        sizes.append(len(reply.bars))
        stamps += [b.timestamp.ToMicroseconds() for b in reply.bars]
        if not reply.next_page_token:
            break
        request.page_token = reply.next_page_token
    expected = bars.index[30:].as_unit("us").asi8
    assert sizes == [50_000, 50_000, 19_850]
    np.testing.assert_array_equal(stamps, expected)


async def test_a_page_token_is_valid_only_for_the_request_that_returned_it(big):
    stub, _ = big
    first = await stub.LoadData(
        data_pb2.LoadDataRequest(symbol="BIG", timeframe="1m", page_size=10)
    )
    for request in (
        data_pb2.LoadDataRequest(
            symbol="BIG", timeframe="1m", end_date="2021-01-01", page_token=first.next_page_token
        ),
        data_pb2.LoadDataRequest(symbol="BIG", timeframe="1m", page_token="not-a-token"),
    ):
        err = await rpc_error(stub.LoadData(request))
        detail = error_detail_of(err)
        assert (detail.code, detail.field) == ("DATA-023", "page_token")


async def test_export_and_gaps_page_too(big):
    stub, bars = big
    err = await rpc_error(stub.ExportBars(data_pb2.ExportBarsRequest(symbol="BIG", timeframe="1m")))
    assert error_detail_of(err).code == "DATA-022"
    rows, token = [], ""
    while True:
        reply = await stub.ExportBars(
            data_pb2.ExportBarsRequest(
                symbol="BIG", timeframe="1m", page_size=70_000, page_token=token
            )
        )
        rows += reply.csv_content.splitlines()[1:]
        token = reply.next_page_token
        if not token:
            break
    assert len(rows) == 119_880 and rows[-1].startswith(
        bars.index[-1].strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    gaps = await stub.AnalyzeGaps(
        data_pb2.AnalyzeGapsRequest(
            symbol="BIG", timeframe="1m", include_expected=True, page_size=1
        )
    )
    assert len(gaps.gaps) == 1 and gaps.next_page_token
    rest = await stub.AnalyzeGaps(
        data_pb2.AnalyzeGapsRequest(
            symbol="BIG", timeframe="1m", include_expected=True, page_token=gaps.next_page_token
        )
    )
    assert gaps.summary.gap_count == 1 + len(rest.gaps) == 120
    assert rest.gaps[0].start.ToMicroseconds() > gaps.gaps[0].start.ToMicroseconds()


# ------------------------------------------------------------------ items 9, 10: provenance


@pytest.mark.parametrize(
    ("start", "end", "missing"),
    [
        ("2024-01-01", "2024-12-31", [("2024-01-01T00:00:00Z", "2024-12-31T00:00:00Z")]),
        (
            "2017-01-01",
            "2019-01-01",
            [
                ("2017-01-01T00:00:00Z", "2017-04-19T09:00:00Z"),
                ("2018-02-07T16:00:00Z", "2019-01-01T00:00:00Z"),
            ],
        ),
    ],
)
async def test_local_load_of_a_range_not_stored_is_incomplete(data, start, end, missing):
    stub, _ = data
    reply = await stub.LoadData(
        data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="1h", start_date=start, end_date=end)
    )
    p = reply.provenance
    assert not p.complete and p.source_status == "not_needed"
    assert [(r.start.ToJsonString(), r.end.ToJsonString()) for r in p.missing_ranges] == missing
    stored = EUR.loc[start:end]
    assert len(reply.bars) == len(stored) == p.local_bars


async def test_local_load_ending_in_a_weekend_is_complete(data):
    stub, _ = data
    reply = await stub.LoadData(  # the last stored hour of a Friday, then the weekend
        data_pb2.LoadDataRequest(
            symbol="EURUSD", timeframe="1h", start_date="2017-06-01", end_date="2017-06-04"
        )
    )
    assert reply.provenance.complete and not reply.provenance.missing_ranges


async def test_a_plain_local_load_reports_its_real_counts(data):
    stub, _ = data
    reply = await stub.LoadData(data_pb2.LoadDataRequest(symbol="GOOG", timeframe="1d"))
    q = reply.quality
    assert len(reply.bars) == 2148
    assert (q.bars_in, q.bars_out, q.rejected) == (2148, 2148, 0)


# ------------------------------------------------------------------ item 14: resampling


def _fx_daily(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily FX bars by hand: sessions run 17:00-17:00 New York, labelled by the next date."""
    day = (frame.index.tz_convert("America/New_York") + pd.Timedelta(hours=7)).date
    return frame.groupby(day).agg(
        {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
    )


async def test_4h_and_1d_are_resampled_from_stored_1h_and_provenance_says_so(data):
    stub, _ = data
    four = await stub.LoadData(data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="4h"))
    assert four.provenance.resampled_from == "1h"
    expected = EUR.resample("4h").agg(
        {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
    )
    expected = expected.dropna()
    got = pd.DataFrame(
        {
            "Open": [b.open for b in four.bars],
            "Close": [b.close for b in four.bars],
            "Volume": [b.volume for b in four.bars],
        },
        index=pd.DatetimeIndex([b.timestamp.ToDatetime() for b in four.bars]).tz_localize("UTC"),
    )
    pd.testing.assert_frame_equal(
        got, expected.loc[got.index, ["Open", "Close", "Volume"]], check_dtype=False
    )
    assert len(got) == len(expected)  # the last 4h bin (12:00-16:00) closed with the 15:00 bar
    day = await stub.LoadData(
        data_pb2.LoadDataRequest(
            symbol="EURUSD", timeframe="1d", start_date="2017-06-01", end_date="2017-07-01"
        )
    )
    reference = _fx_daily(EUR.loc["2017-05-30":"2017-07-02"])
    closes = {(b.timestamp.ToDatetime() + pd.Timedelta(hours=7)).date(): b.close for b in day.bars}
    assert len(closes) == 21  # 1 June's session opened on 31 May, before start_date
    for date, close in closes.items():
        assert close == reference.loc[date, "Close"]


async def test_only_closed_bars_are_resampled(data):
    stub, _ = data
    partial = EUR.loc[:"2017-06-01 13:00"].rename(columns=str.lower)  # inside 12:00-16:00
    await stub.ImportBars(
        data_pb2.ImportBarsRequest(symbol="PART", timeframe="1h", csv_content=write_csv(partial))
    )
    reply = await stub.LoadData(data_pb2.LoadDataRequest(symbol="PART", timeframe="4h"))
    assert reply.bars[-1].timestamp.ToJsonString() == "2017-06-01T08:00:00Z"


async def test_stream_bars_resamples_too(data):
    stub, _ = data
    got, origin = [], set()
    async for reply in stub.StreamBars(
        data_pb2.StreamBarsRequest(symbol="EURUSD", timeframe="4h", batch_size=100)
    ):
        got.append(columns_to_arrays(reply.bars)["close"])
        origin.add(reply.resampled_from)
    loaded = await stub.LoadData(data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="4h"))
    np.testing.assert_array_equal(np.concatenate(got), [b.close for b in loaded.bars])
    assert origin == {"1h"}


async def test_a_timeframe_that_cannot_be_built_is_still_not_found(data):
    stub, _ = data
    err = await rpc_error(stub.LoadData(data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="1m")))
    assert err.code() == grpc.StatusCode.NOT_FOUND


# ------------------------------------------------------------------ item 15: corrupt files


async def test_corrupt_series_is_flagged_refused_with_relative_paths_and_replaceable(data):
    stub, home = data
    victim = home / "data" / "GOOG" / "d1.parquet"
    victim.write_bytes(b"PAR1 this is not parquet")
    listed = await stub.ListSymbols(data_pb2.ListSymbolsRequest())
    goog = next(s for s in listed.symbols if s.instrument.symbol == "GOOG").series[0]
    assert goog.corrupt and goog.bar_count == 0
    assert "GOOG/d1.parquet" in goog.error and str(home) not in goog.error
    csv = "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10,1\n"
    errors = [
        await rpc_error(stub.LoadData(data_pb2.LoadDataRequest(symbol="GOOG", timeframe="1d"))),
        await rpc_error(
            stub.GetDataInfo(data_pb2.GetDataInfoRequest(symbol="GOOG", timeframe="1d"))
        ),
        await stream_error(
            stub.StreamBars(data_pb2.StreamBarsRequest(symbol="GOOG", timeframe="1d"))
        ),
        await rpc_error(
            stub.ImportBars(
                data_pb2.ImportBarsRequest(symbol="GOOG", timeframe="1d", csv_content=csv)
            )
        ),
    ]
    for err in errors:
        assert err.code() == grpc.StatusCode.DATA_LOSS
        assert error_detail_of(err).metadata["path"] == "GOOG/d1.parquet"
        assert str(home) not in err.details() and "ReplaceSeries" in err.details()
    reply = await stub.ReplaceSeries(
        data_pb2.ReplaceSeriesRequest(
            symbol="GOOG", timeframe="1d", csv_content=write_csv(bundled_frame("GOOG")[0])
        )
    )
    assert (reply.replaced_bars, reply.imported, reply.series.bar_count) == (0, 2148, 2148)
    loaded = await stub.LoadData(data_pb2.LoadDataRequest(symbol="GOOG", timeframe="1d"))
    assert len(loaded.bars) == 2148


async def test_replace_and_delete_series(data):
    stub, _ = data
    week = make_bars("2024-01-01", 24 * 7)
    reply = await stub.ReplaceSeries(
        data_pb2.ReplaceSeriesRequest(symbol="EURUSD", timeframe="1h", csv_content=write_csv(week))
    )
    assert (reply.replaced_bars, reply.imported) == (5000, 168)
    loaded = await stub.LoadData(data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="1h"))
    assert loaded.bars[0].timestamp.ToJsonString() == "2024-01-01T00:00:00Z"
    err = await rpc_error(
        stub.ReplaceSeries(
            data_pb2.ReplaceSeriesRequest(
                symbol="EURUSD",
                timeframe="1h",
                csv_content="Date,Open,High,Low,Close,Volume\n9999-01-01,1,2,1,2,1\n",
            )
        )
    )
    assert error_detail_of(err).code == "DATA-021"  # nothing valid: the series stays
    deleted = await stub.DeleteSeries(data_pb2.DeleteSeriesRequest(symbol="EURUSD", timeframe="1h"))
    again = await stub.DeleteSeries(data_pb2.DeleteSeriesRequest(symbol="EURUSD", timeframe="1h"))
    assert deleted.deleted and not again.deleted
    err = await rpc_error(stub.LoadData(data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="1h")))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_destroying_a_series_needs_the_admin_role_and_metadata_the_trade_role():
    assert role_for("/ktrdr.data.v1.DataService/ReplaceSeries") == "admin"
    assert role_for("/ktrdr.data.v1.DataService/DeleteSeries") == "admin"
    assert role_for("/ktrdr.data.v1.DataService/UpdateSymbolMetadata") == "trade"
    assert role_for("/ktrdr.data.v1.DataService/GetSymbolMetadata") == "read"
