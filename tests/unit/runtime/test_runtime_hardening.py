"""The runtime under hostile input: bounded errors, stream status, sizes, enums, request ids."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import ClassVar

import grpc
import pytest
import structlog

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_core import errors
from ktrdr_runtime import interceptors
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.context import REQUEST_ID_HEADER, request_id
from ktrdr_runtime.grpc_errors import error_detail_of, from_rpc_error, sentence, shorten
from ktrdr_runtime.logging import configure_logging
from ktrdr_runtime.server import RunningServer, ServiceSpec, create_server
from ktrdr_runtime.settings import ServiceSettings

DATA = data_pb2.DESCRIPTOR.services_by_name["DataService"]
REST = ((interceptors.REST_HEADER, "1"),)


class _Settings(ServiceSettings):
    SERVICE = "test"


def _batch(i: int) -> data_pb2.StreamBarsResponse:
    return data_pb2.StreamBarsResponse(
        bars=common_pb2.BarColumns(
            timestamps_us=[i], open=[1.0], high=[1.0], low=[1.0], close=[1.0], volume=[1]
        )
    )


class Hostile(data_pb2_grpc.DataServiceServicer):
    """Echoes its input in errors, fails streams before or after their first message."""

    seen_request_ids: ClassVar[list[str | None]] = []

    async def GetDataInfo(self, request, context):
        raise errors.NotFoundError(
            "DATA-002",
            f"No stored data for '{request.symbol}' at {request.timeframe!r}.",
            field=f"symbol.{request.symbol}",
            suggestions=[request.symbol, "EURUSD"],
            details={"symbol": request.symbol},
        )

    async def ListSymbols(self, request, context):
        interceptors.check_answer_size(int(request.ByteSize()) + 20 * 2**20)  # "20 MiB to come"
        return data_pb2.ListSymbolsResponse()

    async def LoadData(self, request, context):
        return data_pb2.LoadDataResponse(
            symbol=request.symbol, bars=[common_pb2.Bar(open=1.0, volume=i) for i in range(200)]
        )

    async def StreamBars(self, request, context) -> AsyncIterator[data_pb2.StreamBarsResponse]:
        self.seen_request_ids.append(request_id.get())
        if request.symbol == "FAIL_FIRST":
            raise errors.NotFoundError("DATA-002", "No stored data for 'FAIL_FIRST'.")
        for i in range(3):
            yield _batch(i)
            if request.symbol == "FAIL_LATER" and i == 1:
                raise errors.DataLossError("DATA-006", "The file is corrupt.", field="symbol")


@pytest.fixture
async def served() -> AsyncIterator[RunningServer]:
    async def setup(server, settings):
        data_pb2_grpc.add_DataServiceServicer_to_server(Hostile(), server)

    spec = ServiceSpec("test", _Settings, [DATA], setup)
    running = await create_server(spec, _Settings.from_env({}), address="127.0.0.1:0")
    yield running
    await running.stop()


async def _stream(running: RunningServer, symbol: str, metadata=()) -> tuple[list, Exception]:
    got = []
    async with open_channel(running.address, services=[DATA]) as channel:
        call = data_pb2_grpc.DataServiceStub(channel).StreamBars(
            data_pb2.StreamBarsRequest(symbol=symbol), metadata=metadata
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for reply in call:
                got.append(reply)
        info.value.initial = await call.initial_metadata()
    return got, info.value


@pytest.mark.parametrize("size", [20_000, 200_000])
async def test_a_huge_echoed_input_stays_the_domain_error_with_a_bounded_message(served, size):
    name = "Ä" * size
    async with open_channel(served.address, services=[DATA]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await data_pb2_grpc.DataServiceStub(channel).GetDataInfo(
                data_pb2.GetDataInfoRequest(symbol=name, timeframe="1h")
            )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    message = info.value.details()
    assert message.startswith("[DATA-002] No stored data for 'ÄÄÄ")
    assert f"[{size + 2} chars]" in message  # the echoed value (quoted) says how long it was
    assert len(message.encode()) <= 768
    detail = error_detail_of(info.value)
    assert detail.code == "DATA-002"
    assert detail.message == ""  # the sentence is carried once: in the status message
    assert len(detail.field.encode()) <= 160
    assert all(len(s.encode()) <= 96 for s in detail.suggestions)
    assert len(detail.metadata["symbol"].encode()) <= 160


def test_shorten_keeps_short_text_and_cuts_long_tokens_and_totals():
    assert shorten("Unknown indicator 'rsi'.") == "Unknown indicator 'rsi'."
    cut = shorten("bad '" + "x" * 500 + "' here")
    assert cut.startswith("bad '" + "x" * 35) and "[502 chars]" in cut and cut.endswith(" here")
    many = shorten(" ".join(["word"] * 1000), max_bytes=100)
    assert len(many.encode()) <= 100 and many.endswith("[truncated]")
    assert sentence("[IND-001] Unknown indicator.") == "Unknown indicator."


async def test_stream_failing_before_its_first_message_sends_no_headers_first(served):
    got, err = await _stream(served, "FAIL_FIRST", metadata=((REQUEST_ID_HEADER, "rid-1"),))
    assert got == []
    assert err.code() == grpc.StatusCode.NOT_FOUND
    # Trailers-only: no initial metadata went out, so a proxy can still choose the HTTP status.
    assert REQUEST_ID_HEADER not in dict(err.initial)
    assert dict(err.trailing_metadata())[REQUEST_ID_HEADER] == "rid-1"


async def test_rest_stream_failing_later_carries_its_error_as_json_in_a_trailer(served):
    got, err = await _stream(served, "FAIL_LATER", metadata=REST)
    assert len(got) == 2
    assert err.code() == grpc.StatusCode.DATA_LOSS
    body = json.loads(dict(err.trailing_metadata())[interceptors.ERROR_JSON_TRAILER])
    assert body["code"] == grpc.StatusCode.DATA_LOSS.value[0]
    assert body["message"] == "[DATA-006] The file is corrupt."
    assert body["details"][0]["code"] == "DATA-006"
    assert body["details"][0]["field"] == "symbol"
    # A plain gRPC caller gets the status only.
    _, plain = await _stream(served, "FAIL_LATER")
    assert interceptors.ERROR_JSON_TRAILER not in dict(plain.trailing_metadata())


async def test_unknown_enum_number_is_rejected_naming_the_field(served):
    async with open_channel(served.address, services=[DATA]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await data_pb2_grpc.DataServiceStub(channel).LoadData(
                data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="1h", mode=99)
            )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(info.value)
    assert (detail.code, detail.field) == ("RUNTIME-006", "mode")
    assert "LOAD_MODE_LOCAL" in info.value.details()


async def test_answer_too_large_for_rest_is_refused_pointing_to_the_stream(served, monkeypatch):
    monkeypatch.setattr(interceptors, "REST_MAX_RESPONSE_BYTES", 1000)
    request = data_pb2.LoadDataRequest(symbol="EURUSD", timeframe="1h")
    async with open_channel(served.address, services=[DATA]) as channel:
        stub = data_pb2_grpc.DataServiceStub(channel)
        assert len((await stub.LoadData(request)).bars) == 200  # gRPC's own limit is far off
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.LoadData(request, metadata=REST)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_detail_of(info.value).code == "RUNTIME-007"
    assert "POST /api/v1/data/stream" in info.value.details()


async def test_request_id_follows_stream_calls_to_a_dependency(served):
    token = request_id.set("rid-of-the-caller")
    try:
        async with open_channel(served.address, services=[DATA]) as channel:
            async for _ in data_pb2_grpc.DataServiceStub(channel).StreamBars(
                data_pb2.StreamBarsRequest(symbol="OK")
            ):
                pass
    finally:
        request_id.reset(token)
    assert Hostile.seen_request_ids[-1] == "rid-of-the-caller"


async def test_a_handler_refuses_a_known_oversized_answer_before_building_it(served):
    async with open_channel(served.address, services=[DATA]) as channel:
        stub = data_pb2_grpc.DataServiceStub(channel)
        await stub.ListSymbols(data_pb2.ListSymbolsRequest())  # 20 MiB fits one gRPC message
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ListSymbols(data_pb2.ListSymbolsRequest(), metadata=REST)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "20.0 MiB" in info.value.details() and "REST edge" in info.value.details()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("client-id_1.2:3", True), ("x" * 129, False), ("bad id", False), ("", False)],
)
async def test_caller_request_id_is_kept_only_when_it_is_a_short_token(served, sent, kept):
    async with open_channel(served.address, services=[DATA]) as channel:
        call = data_pb2_grpc.DataServiceStub(channel).LoadData(
            data_pb2.LoadDataRequest(), metadata=((REQUEST_ID_HEADER, sent),)
        )
        await call
        echoed = dict(await call.initial_metadata())[REQUEST_ID_HEADER]
    assert (echoed == sent) is kept
    assert len(echoed) <= 128


@pytest.mark.parametrize(
    ("code", "details", "expected_status", "expected_code"),
    [
        (grpc.StatusCode.INTERNAL, "Stream removed", errors.Status.UNAVAILABLE, "RUNTIME-002"),
        (grpc.StatusCode.UNKNOWN, "Stream removed", errors.Status.UNAVAILABLE, "RUNTIME-002"),
        (grpc.StatusCode.UNAVAILABLE, "Socket closed", errors.Status.UNAVAILABLE, "RUNTIME-002"),
        (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "Received message larger than max (70000000 vs. 67108864)",
            errors.Status.FAILED_PRECONDITION,
            "RUNTIME-007",
        ),
    ],
)
def test_transport_failures_of_a_dependency_are_named_and_never_a_429(
    code, details, expected_status, expected_code
):
    raw = grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)
    err = from_rpc_error(raw, dependency="indicators")
    assert (err.status, err.code) == (expected_status, expected_code)
    assert err.details["dependency"] == "indicators"
    assert "indicators" in err.message


def test_logs_never_hold_a_key_or_a_30k_value(capsys):
    configure_logging("test")
    key = "ktrdr_0123abcd_" + "S" * 43
    try:
        log = structlog.get_logger("t")
        log.info("bad_request", path=f"/api/v1/x?api_key={key}", v="y" * 30_000)
    finally:
        structlog.reset_defaults()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "S" * 43 not in line and "ktrdr_0123abcd_[REDACTED]" in line
    assert "y" * 4001 not in line and "[30000 chars]" in line
    assert len(line) < 5000
