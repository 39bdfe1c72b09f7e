"""The IB gateway service over gRPC, with ib_async talking to the fake TWS over a socket."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging

import grpc
import numpy as np
import pytest

from ktrdr.common.v1 import common_pb2
from ktrdr.ib_gateway.v1 import ib_gateway_pb2 as pb
from ktrdr_ib_gateway.ib_adapter import IB_LOGGERS
from ktrdr_runtime.grpc_errors import error_detail_of, error_message_of
from tests.faketws import PACING_TEXT, FakeTws
from tests.faketws.market import intraday_bars
from tests.integration.ib_gateway.support import connected, eventually, ib_gateway, status

pytestmark = pytest.mark.integration

YEAR = {"start_date": "2023-01-01", "end_date": "2024-01-01"}


async def collect(call) -> tuple[np.ndarray, list[pb.StreamHistoricalBarsResponse]]:
    replies = [r async for r in call]
    stamps = [np.asarray(r.bars.timestamps_us, dtype=np.int64) for r in replies]
    return (np.concatenate(stamps) if stamps else np.empty(0, np.int64)), replies


async def rpc_error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        if hasattr(call, "__aiter__"):
            async for _ in call:
                pass
        else:
            await call
    return info.value


def _eurusd(tws: FakeTws):
    return next(c for c in tws.contracts if c.local_symbol == "EUR.USD")


async def test_a_year_of_hourly_fx_bars_arrives_complete_in_order_and_within_pacing(tws):
    async with ib_gateway(tws.port) as stub:
        await connected(stub)
        request = pb.StreamHistoricalBarsRequest(symbol="EURUSD", timeframe="1h", **YEAR)
        stamps, replies = await collect(stub.StreamHistoricalBars(request, timeout=60))
        state = await status(stub)
    start = int(dt.datetime(2023, 1, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp())
    expected = intraday_bars(_eurusd(tws), 3600, start=start, end=end, use_rth=False)
    assert stamps.tolist() == [int(s) * 1_000_000 for s in expected.stamps]
    assert [r.chunk for r in replies] == list(range(1, 15)) and replies[0].chunks == 14
    assert tws.pacing.violations == 0 and state.pacing.violations_total == 0
    assert state.pacing.requests_total == 15  # the head timestamp and 14 chunks
    assert all(r.what_to_show == "MIDPOINT" for r in tws.historical_requests)


async def test_weekly_fx_bars_are_stamped_at_the_week_open_sunday_new_york(tws):
    async with ib_gateway(tws.port) as stub:
        request = pb.StreamHistoricalBarsRequest(
            symbol="EURUSD", timeframe="1w", start_date="2024-01-01", end_date="2024-03-01"
        )
        stamps, _ = await collect(stub.StreamHistoricalBars(request, timeout=30))
    opens = [dt.datetime.fromtimestamp(s / 1e6, dt.UTC) for s in stamps.tolist()]
    assert opens[0] == dt.datetime(2024, 1, 7, 22, tzinfo=dt.UTC)  # Sunday 17:00 EST
    assert opens[-1] == dt.datetime(2024, 2, 25, 22, tzinfo=dt.UTC)
    assert all(b - a == dt.timedelta(weeks=1) for a, b in itertools.pairwise(opens))


async def test_an_unknown_symbol_is_not_found_with_ibs_message(tws):
    async with ib_gateway(tws.port) as stub:
        await connected(stub)
        error = await rpc_error(
            stub.QualifyContract(pb.QualifyContractRequest(symbol="AAPX"), timeout=10)
        )
        stream_error = await rpc_error(
            stub.StreamHistoricalBars(
                pb.StreamHistoricalBarsRequest(symbol="AAPX", timeframe="1d", **YEAR), timeout=10
            )
        )
    for e in (error, stream_error):
        assert e.code() == grpc.StatusCode.NOT_FOUND
        detail = error_detail_of(e)
        message = error_message_of(e)
        assert detail.code == "IB-006" and "AAPX (STK on SMART, USD)" in message
        assert "No security definition has been found for the request" in message


async def test_qualified_contracts_carry_ibs_details(tws):
    async with ib_gateway(tws.port) as stub:
        fx = await stub.QualifyContract(pb.QualifyContractRequest(symbol="EURUSD"), timeout=10)
        future = await stub.QualifyContract(
            pb.QualifyContractRequest(
                symbol="ES", instrument_type=common_pb2.INSTRUMENT_TYPE_FUTURE
            ),
            timeout=10,
        )
    assert (fx.con_id, fx.sec_type, fx.instrument.symbol) == (12087792, "CASH", "EURUSD")
    assert fx.instrument.calendar == "fx_24_5"
    assert future.local_symbol == "ESZ6"  # the front month of two (fake today: before Dec 2026)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"timeframe": "3m", **YEAR}, "IB-007", "timeframe"),
        ({"timeframe": "5s", **YEAR}, "IB-007", "timeframe"),
        ({"timeframe": "1m", "start_date": "2010-01-01", "end_date": "2024-01-01"}, "IB-008",
         "start_date"),
        ({"timeframe": "1h", "start_date": "2024-02-01", "end_date": "2024-01-01"}, "IB-008",
         "start_date"),
        ({"timeframe": "1h", "start_date": "yesterday"}, "IB-008", "start_date"),
        ({"timeframe": "1h", "what_to_show": "TRADES", **YEAR}, "IB-010", "what_to_show"),
    ],
)  # fmt: skip
async def test_unsupported_bar_sizes_and_ranges_are_invalid_arguments(tws, fields, code, field):
    async with ib_gateway(tws.port) as stub:
        error = await rpc_error(
            stub.StreamHistoricalBars(
                pb.StreamHistoricalBarsRequest(symbol="EURUSD", **fields), timeout=10
            )
        )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(error)
    assert (detail.code, detail.field) == (code, field)
    assert not tws.historical_requests  # refused before anything reached IB


async def test_a_pacing_violation_is_retried_counted_and_loses_no_bar(tws):
    tws.fail_next_historical(162, PACING_TEXT)
    async with ib_gateway(tws.port) as stub:
        request = pb.StreamHistoricalBarsRequest(
            symbol="EURUSD", timeframe="1h", start_date="2023-03-01", end_date="2023-04-01"
        )
        stamps, _ = await collect(stub.StreamHistoricalBars(request, timeout=30))
        state = await status(stub)
    start = int(dt.datetime(2023, 3, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(2023, 4, 1, tzinfo=dt.UTC).timestamp())
    assert len(stamps) == len(
        intraday_bars(_eurusd(tws), 3600, start=start, end=end, use_rth=False)
    )
    assert state.pacing.violations_total == 1


async def test_endless_pacing_violations_end_in_resource_exhausted(tws):
    tws.fail_next_historical(162, PACING_TEXT, count=10)
    async with ib_gateway(tws.port, pacing_retries=2) as stub:
        request = pb.StreamHistoricalBarsRequest(symbol="EURUSD", timeframe="1d", **YEAR)
        error = await rpc_error(stub.StreamHistoricalBars(request, timeout=30))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_detail_of(error).code == "IB-004"


async def test_an_unanswered_request_is_deadline_exceeded_not_no_data(tws):
    tws.script.ignore = 1
    async with ib_gateway(tws.port, historical_timeout_seconds=0.5) as stub:
        request = pb.StreamHistoricalBarsRequest(symbol="EURUSD", timeframe="1d", **YEAR)
        error = await rpc_error(stub.StreamHistoricalBars(request, timeout=30))
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_detail_of(error).code == "IB-009"


async def test_tws_down_is_unavailable_in_time_while_status_keeps_answering(tws):
    port = tws.port
    await tws.stop()
    async with ib_gateway(port, breaker_reset_seconds=1.0) as stub:
        request = pb.StreamHistoricalBarsRequest(symbol="EURUSD", timeframe="1h", **YEAR)
        # A deadline on the call: a gateway that hung would fail it with DEADLINE_EXCEEDED.
        error = await rpc_error(stub.StreamHistoricalBars(request, timeout=15))
        down = await status(stub)
        health = await stub.GetHealth(pb.GetHealthRequest(), timeout=5)
        await tws.start(port=port)
        await connected(stub)
        up = await status(stub)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error_detail_of(error).code in ("IB-001", "IB-002")
    assert f"127.0.0.1:{port}" in error_message_of(error)
    assert not down.connected and down.state == pb.CONNECTION_STATE_DISCONNECTED
    assert "refused" in down.last_error.message and down.consecutive_failures >= 1
    assert not health.healthy and "not connected" in health.message
    assert up.connected and up.server_version == 176 and up.farms


async def test_the_breaker_opens_after_five_failures_and_then_fails_fast(tws):
    port = tws.port
    await tws.stop()
    async with ib_gateway(port, reconnect_initial_seconds=0.01, breaker_reset_seconds=60) as stub:

        async def opened() -> bool:
            return (await status(stub)).breaker_state == pb.BREAKER_STATE_OPEN

        await eventually(opened)
        error = await rpc_error(
            stub.QualifyContract(pb.QualifyContractRequest(symbol="AAPL"), timeout=10)
        )
        state = await status(stub)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error_detail_of(error).code == "IB-002" and "circuit open" in error.details()
    assert state.consecutive_failures == 5 and state.HasField("next_attempt_at")


async def test_a_client_id_in_use_is_reported_at_once(tws):
    tws.client_ids_in_use.add(7)
    async with ib_gateway(tws.port, ib_client_id=7, connect_timeout_seconds=30) as stub:

        async def reported() -> bool:
            return (await status(stub)).last_error.code == 326

        await eventually(reported, within=10)  # far less than the 30 s connect timeout
        state = await status(stub)
    assert not state.connected and "client id 7" in state.last_error.message


async def test_farm_messages_show_in_status_and_health(tws):
    async with ib_gateway(tws.port) as stub:
        await connected(stub)
        tws.send_farm_status(2105, "HMDS data farm connection is broken:ushmds")

        async def broken() -> bool:
            farms = {f.name: f for f in (await status(stub)).farms}
            return farms["ushmds"].state == pb.FARM_STATE_BROKEN

        await eventually(broken)
        health = await stub.GetHealth(pb.GetHealthRequest(), timeout=5)
        state = await status(stub)
    assert {f.name for f in state.farms} == {"usfarm", "ushmds", "secdefnj"}
    assert not health.healthy and "historical data farm ushmds broken" in health.message


async def test_account_ids_never_reach_a_log(tws, caplog, capsys):
    caplog.set_level("DEBUG")
    async with ib_gateway(tws.port, log_level="DEBUG") as stub:
        await connected(stub)
        for name in IB_LOGGERS:  # even when someone turns ib_async's wire dump on ...
            logging.getLogger(name).setLevel(logging.DEBUG)
        await tws.drop_connections()  # ... and TWS sends its accounts again on reconnecting

        async def reconnected() -> bool:
            state = await status(stub)
            return state.connected and state.reconnects == 1

        await eventually(reconnected)
        request = pb.StreamHistoricalBarsRequest(
            symbol="EURUSD", timeframe="1d", start_date="2023-01-01", end_date="2023-02-01"
        )
        await collect(stub.StreamHistoricalBars(request, timeout=30))
        tws.send_farm_status(2104, "Market data farm connection is OK:usfarm (DU1234567)")
        await asyncio.sleep(0.1)
    for name in IB_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err
    assert "<<< 15,1,[ACCOUNT]" in logged  # TWS's account message, masked
    assert "DU1234567" not in logged
