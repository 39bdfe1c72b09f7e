"""The data service over gRPC, in-process, on the bundled real data."""

from __future__ import annotations

import grpc
import numpy as np
import pandas as pd
import pytest
from backtesting.test import EURUSD
from data_testutil import rpc_error

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.ib_gateway.v1 import ib_gateway_pb2, ib_gateway_pb2_grpc
from ktrdr_core.bars import Bars
from ktrdr_data.app import SPEC
from ktrdr_data.domain.replay import batches, paced
from ktrdr_ib_gateway.servicer import DESCRIPTOR as IB_DESCRIPTOR
from ktrdr_ib_gateway.settings import IbGatewaySettings
from ktrdr_runtime.bars import arrays_to_columns, columns_to_arrays
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.server import ServiceSpec
from ktrdr_runtime.testing import serve_in_process


async def test_load_returns_bundled_eurusd_bars_exactly(data):
    stub, _ = data
    reply = await stub.LoadData(
        data_pb2.LoadDataRequest(
            symbol="EURUSD", timeframe="1h", start_date="2017-06-01", end_date="2017-06-02"
        )
    )
    expected = EURUSD.loc["2017-06-01":"2017-06-01 23:59"]
    assert len(reply.bars) == len(expected) == 24
    assert [b.close for b in reply.bars] == pytest.approx(expected["Close"].tolist())
    assert reply.bars[0].timestamp.ToJsonString() == "2017-06-01T00:00:00Z"
    assert reply.provenance.complete and reply.provenance.local_bars == 24
    assert reply.provenance.source_status == "not_needed"
    assert (reply.quality.bars_in, reply.quality.bars_out, reply.quality.rejected) == (24, 24, 0)


async def test_unknown_symbol_is_not_found_with_close_match(data):
    stub, _ = data
    err = await rpc_error(stub.LoadData(data_pb2.LoadDataRequest(symbol="EURUDS", timeframe="1h")))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    detail = error_detail_of(err)
    assert detail.code == "DATA-004" and detail.field == "symbol"
    assert list(detail.suggestions) == ["EURUSD"]


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"start_date": "2018-01-02", "end_date": "2018-01-01"}, "start_date"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2018-13-45"}, "end_date"),
        ({"timeframe": "1hour"}, "timeframe"),
        ({"symbol": "eur/usd"}, "symbol"),
    ],
)
async def test_bad_arguments_are_invalid_argument_naming_the_field(data, request_fields, field):
    stub, _ = data
    fields = {"symbol": "EURUSD", "timeframe": "1h", **request_fields}
    err = await rpc_error(stub.LoadData(data_pb2.LoadDataRequest(**fields)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(err).field == field


async def test_corrupt_file_is_data_loss_naming_it_and_other_symbols_still_load(data):
    stub, home = data
    victim = next((home / "data" / "GOOG").glob("*.parquet"))
    victim.write_bytes(b"PAR1 this is not parquet")
    err = await rpc_error(stub.LoadData(data_pb2.LoadDataRequest(symbol="GOOG", timeframe="1d")))
    assert err.code() == grpc.StatusCode.DATA_LOSS
    assert "GOOG/d1.parquet" in err.details() and str(home) not in err.details()
    assert error_detail_of(err).metadata["path"] == "GOOG/d1.parquet"
    ok = await stub.LoadData(data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="1h"))
    assert len(ok.bars) == 5000


@pytest.mark.parametrize("batch", [1, 100, 1000])
async def test_stream_bars_delivers_every_bar_once_in_order(data, batch):
    stub, _ = data
    sizes, closes, stamps = [], [], []
    async for reply in stub.StreamBars(
        data_pb2.StreamBarsRequest(
            symbol="EURUSD",
            timeframe="1h",
            start_date="2017-05-01",
            end_date="2017-06-01",
            batch_size=batch,
        )
    ):
        arrays = columns_to_arrays(reply.bars)
        sizes.append(len(arrays["close"]))
        closes.append(arrays["close"])
        stamps.append(arrays["timestamps_us"])
    expected = EURUSD.loc["2017-05-01":"2017-05-31 23:59", "Close"].to_numpy()
    np.testing.assert_array_equal(np.concatenate(closes), expected)
    ts = np.concatenate(stamps)
    assert np.all(np.diff(ts) > 0)
    assert max(sizes) == min(batch, len(expected))


async def test_stream_rejects_out_of_range_batch_size(data):
    stub, _ = data
    call = stub.StreamBars(
        data_pb2.StreamBarsRequest(symbol="EURUSD", timeframe="1h", batch_size=50_000)
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(info.value).field == "batch_size"


async def test_csv_import_reports_repairs_and_export_round_trips(data):
    stub, _ = data
    csv = (
        "Date,Open,High,Low,Close,Volume\n"
        "2024-01-03,10,11,9,10.5,100\n"
        "2024-01-02,10,11,9,10.2,-1\n"  # unsorted + IB's "no volume" marker
        "2024-01-04,10,9,11,10,100\n"
    )  # high < low: rejected
    reply = await stub.ImportBars(
        data_pb2.ImportBarsRequest(symbol="TEST", timeframe="1d", csv_content=csv)
    )
    assert reply.imported == 2
    assert reply.quality.rejected == 1
    kinds = {i.kind for i in reply.quality.issues}
    assert any("high" in k and "low" in k for k in kinds)
    assert reply.series.bar_count == 2
    exported = await stub.ExportBars(data_pb2.ExportBarsRequest(symbol="TEST", timeframe="1d"))
    assert exported.bar_count == 2
    lines = exported.csv_content.strip().splitlines()
    assert lines[1].startswith("2024-01-02T00:00:00Z") and lines[2].startswith("2024-01-03")


async def test_import_of_columns_with_different_lengths_is_rejected(data):
    stub, _ = data
    bad = common_pb2.BarColumns(
        timestamps_us=[0, 1], open=[1.0], high=[1.0], low=[1.0], close=[1.0], volume=[1]
    )
    err = await rpc_error(
        stub.ImportBars(data_pb2.ImportBarsRequest(symbol="X", timeframe="1h", bars=bad))
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_gap_analysis_of_eurusd_finds_only_weekends_and_holidays(data):
    stub, _ = data
    reply = await stub.AnalyzeGaps(
        data_pb2.AnalyzeGapsRequest(symbol="EURUSD", timeframe="1h", include_expected=True)
    )
    counts = {data_pb2.GapKind.Name(c.kind): c.count for c in reply.summary.by_kind}
    assert counts["GAP_KIND_WEEKEND"] == 40
    assert counts["GAP_KIND_HOLIDAY"] == 2
    assert counts.get("GAP_KIND_UNEXPECTED", 0) == 0
    assert reply.summary.coverage_pct == pytest.approx(100.0)
    only_unexpected = await stub.AnalyzeGaps(
        data_pb2.AnalyzeGapsRequest(symbol="EURUSD", timeframe="1h")
    )
    assert len(only_unexpected.gaps) == 0


async def test_lists_symbols_timeframes_and_series_info(data):
    stub, _ = data
    symbols = await stub.ListSymbols(data_pb2.ListSymbolsRequest())
    by_symbol = {s.instrument.symbol: s for s in symbols.symbols}
    assert set(by_symbol) == {"EURUSD", "GOOG"}
    assert by_symbol["EURUSD"].instrument.instrument_type == common_pb2.INSTRUMENT_TYPE_FX
    assert by_symbol["GOOG"].series[0].bar_count == 2148
    tfs = await stub.ListTimeframes(data_pb2.ListTimeframesRequest())
    assert [t.code for t in tfs.timeframes] == [
        "1m",
        "5m",
        "15m",
        "30m",
        "1h",
        "2h",
        "4h",
        "1d",
        "1w",
        "1M",
    ]
    info = await stub.GetDataInfo(data_pb2.GetDataInfoRequest(symbol="GOOG", timeframe="1d"))
    assert info.series.first.ToJsonString() == "2004-08-19T00:00:00Z"


async def test_tail_load_without_reachable_ib_returns_local_part_flagged_incomplete(tmp_path):
    async with serve_in_process(
        SPEC, home=tmp_path, ib_gateway_address="127.0.0.1:1", ib_timeout_seconds=2.0
    ) as (_, channel):
        stub = data_pb2_grpc.DataServiceStub(channel)
        reply = await stub.LoadData(
            data_pb2.LoadDataRequest(
                symbol="EURUSD",
                timeframe="1h",
                start_date="2018-02-01",
                end_date="2018-03-01",
                mode=data_pb2.LOAD_MODE_TAIL,
            )
        )
    assert not reply.provenance.complete
    assert reply.provenance.source_status.startswith("unavailable")
    assert len(reply.provenance.missing_ranges) == 1
    stored = EURUSD.loc["2018-02-01":]
    assert len(reply.bars) == len(stored)  # the local part, nothing invented
    assert reply.provenance.fetched_bars == 0


def test_paced_replay_sends_each_batch_when_its_last_bar_has_closed():
    hour = 3_600 * 1_000_000
    opens = np.array([0, 1, 2, 4, 5]) * hour  # a one-hour hole between bars 3 and 4
    ones = np.ones(5)
    bars = Bars(opens, ones, ones, ones, ones, ones)

    def due(chunks, batch, speed):
        return [d for _, d in paced(batches(chunks, batch), bar_us=hour, speed=speed)]

    np.testing.assert_allclose(due([bars], 2, 3600.0), [1.0, 4.0, 5.0])  # batches end at 2, 4, 5
    np.testing.assert_allclose(due([bars], 1, 1.0), [0, 3600, 7200, 14400, 18000])
    split = [bars.take(slice(0, 3)), bars.take(slice(3, None))]  # chunk edges do not matter
    np.testing.assert_allclose(due(split, 2, 3600.0), [1.0, 4.0, 5.0])
    assert due([], 10, 1.0) == []


async def test_paced_stream_still_delivers_every_bar_in_order(data):
    stub, _ = data
    got = []
    async for reply in stub.StreamBars(
        data_pb2.StreamBarsRequest(
            symbol="EURUSD",
            timeframe="1h",
            start_date="2017-05-01T00:00",
            end_date="2017-05-01T06:00",
            batch_size=2,
            replay_speed=360_000.0,
        )
    ):
        got.extend(reply.bars.timestamps_us)
    assert len(got) == 6 and got == sorted(got)


class _FakeIbGateway(ib_gateway_pb2_grpc.IbGatewayServiceServicer):
    """A gRPC IB gateway at the wire: serves hourly bars for any requested range."""

    def __init__(self) -> None:
        self.requests: list[ib_gateway_pb2.StreamHistoricalBarsRequest] = []

    async def StreamHistoricalBars(self, request, context):
        self.requests.append(request)
        start = pd.Timestamp(request.start_date).tz_convert("UTC")
        end = pd.Timestamp(request.end_date).tz_convert("UTC")
        stamps = pd.date_range(start, end, freq="1h", inclusive="left")
        stamps = stamps[stamps.day_of_week < 5]  # no weekend bars, as FX
        us = stamps.as_unit("us").asi8
        price = 1.2 + np.arange(len(us)) * 1e-4
        for lo in range(0, len(us), 50):
            hi = lo + 50
            yield ib_gateway_pb2.StreamHistoricalBarsResponse(
                bars=arrays_to_columns(
                    us[lo:hi],
                    price[lo:hi],
                    price[lo:hi] + 5e-4,
                    price[lo:hi] - 5e-4,
                    price[lo:hi] + 1e-4,
                    np.full(len(us[lo:hi]), 100),
                )
            )


async def test_tail_load_fetches_missing_bars_from_ib_merges_and_stores_them(tmp_path):
    fake = _FakeIbGateway()

    async def setup(server, settings):
        ib_gateway_pb2_grpc.add_IbGatewayServiceServicer_to_server(fake, server)

    ib_spec = ServiceSpec("fake-ib", IbGatewaySettings, [IB_DESCRIPTOR], setup)
    async with (
        serve_in_process(ib_spec) as (ib, _),
        serve_in_process(SPEC, home=tmp_path, ib_gateway_address=ib.address) as (_, channel),
    ):
        stub = data_pb2_grpc.DataServiceStub(channel)
        reply = await stub.LoadData(
            data_pb2.LoadDataRequest(
                symbol="EURUSD",
                timeframe="1h",
                start_date="2018-02-01",
                end_date="2018-02-14",
                mode=data_pb2.LOAD_MODE_TAIL,
            )
        )
        again = await stub.LoadData(
            data_pb2.LoadDataRequest(
                symbol="EURUSD", timeframe="1h", start_date="2018-02-01", end_date="2018-02-14"
            )
        )
    assert len(fake.requests) == 1
    asked = fake.requests[0]
    assert asked.start_date.startswith("2018-02-07T16:00")  # right after the last stored bar
    assert reply.provenance.complete and reply.provenance.source_status == "ok"
    assert reply.provenance.fetched_bars > 0
    stamps = [b.timestamp.ToJsonString() for b in reply.bars]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps[-1] == "2018-02-13T23:00:00Z"
    # Stored: a local load now returns the same bars without asking IB again.
    assert [b.timestamp.ToJsonString() for b in again.bars] == stamps
