"""The shared runtime in-process: error mapping, request ids, deadlines, health, reflection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import grpc
import pytest
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client import REGISTRY

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_core import errors
from ktrdr_runtime.channels import idempotent_methods, open_channel
from ktrdr_runtime.context import REQUEST_ID_HEADER, request_id
from ktrdr_runtime.grpc_errors import error_detail_of, from_rpc_error
from ktrdr_runtime.logging import configure_logging
from ktrdr_runtime.server import RunningServer, ServiceSpec, StartupError, create_server
from ktrdr_runtime.settings import ServiceSettings

DATA = data_pb2.DESCRIPTOR.services_by_name["DataService"]


class _Settings(ServiceSettings):
    SERVICE = "test"


class FakeData(data_pb2_grpc.DataServiceServicer):
    """A servicer whose methods exercise the runtime (behaviour of the real one is elsewhere)."""

    def __init__(
        self, downstream: str | None = None, delay: float = 0.0, timeout: float = 0.3
    ) -> None:
        self.downstream = downstream
        self.delay = delay
        self.timeout = timeout
        self.seen_request_ids: list[str | None] = []

    async def ListTimeframes(self, request, context):
        self.seen_request_ids.append(request_id.get())
        await asyncio.sleep(self.delay)
        if self.downstream:
            async with open_channel(
                self.downstream, services=[DATA], timeout_seconds=self.timeout
            ) as channel:
                try:
                    await data_pb2_grpc.DataServiceStub(channel).ListTimeframes(
                        data_pb2.ListTimeframesRequest()
                    )
                except grpc.aio.AioRpcError as exc:
                    raise from_rpc_error(exc, dependency="downstream") from exc
        return data_pb2.ListTimeframesResponse(
            timeframes=[common_pb2.TimeframeInfo(code="1h", seconds=3600)]
        )

    async def GetDataInfo(self, request, context):
        raise errors.NotFoundError(
            "DATA-002",
            f"No stored data for '{request.symbol}'.",
            field="symbol",
            suggestions=errors.suggest(request.symbol, ["EURUSD", "GOOG"]),
        )

    async def ListSymbols(self, request, context):
        raise RuntimeError("boom: secret internals")

    async def StreamBars(self, request, context) -> AsyncIterator[data_pb2.StreamBarsResponse]:
        for i in range(3):
            yield data_pb2.StreamBarsResponse(
                bars=common_pb2.BarColumns(
                    timestamps_us=[i], open=[1.0], high=[1.0], low=[1.0], close=[1.0], volume=[1]
                )
            )
        raise errors.ValidationError("DATA-009", "stopped after three", field="batch_size")


async def _start(servicer: FakeData) -> RunningServer:
    async def setup(server, settings):
        data_pb2_grpc.add_DataServiceServicer_to_server(servicer, server)

    spec = ServiceSpec("test", _Settings, [DATA], setup)
    return await create_server(spec, _Settings.from_env({}), address="127.0.0.1:0")


@pytest.fixture
async def served() -> AsyncIterator[tuple[RunningServer, FakeData]]:
    servicer = FakeData()
    running = await _start(servicer)
    yield running, servicer
    await running.stop()


async def test_domain_error_maps_to_status_with_stable_code_and_suggestions(served):
    running, _ = served
    async with open_channel(running.address, services=[DATA]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await data_pb2_grpc.DataServiceStub(channel).GetDataInfo(
                data_pb2.GetDataInfoRequest(symbol="EURUDS", timeframe="1h")
            )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    detail = error_detail_of(info.value)
    assert detail is not None
    assert detail.code == "DATA-002"
    assert detail.field == "symbol"
    assert list(detail.suggestions) == ["EURUSD"]
    assert "Did you mean 'EURUSD'?" in info.value.details()


async def test_unhandled_exception_is_internal_without_leaking_internals(served):
    running, _ = served
    async with open_channel(running.address, services=[DATA]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await data_pb2_grpc.DataServiceStub(channel).ListSymbols(data_pb2.ListSymbolsRequest())
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert "boom" not in info.value.details()
    assert error_detail_of(info.value).code == "RUNTIME-001"


async def test_error_after_stream_messages_keeps_messages_and_status(served):
    running, _ = served
    got = []
    async with open_channel(running.address, services=[DATA]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for reply in data_pb2_grpc.DataServiceStub(channel).StreamBars(
                data_pb2.StreamBarsRequest()
            ):
                got.append(reply.bars.timestamps_us[0])
    assert got == [0, 1, 2]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(info.value).field == "batch_size"


async def test_request_id_follows_a_call_across_two_services():
    downstream = FakeData()
    back = await _start(downstream)
    front_servicer = FakeData(downstream=back.address)
    front = await _start(front_servicer)
    try:
        async with open_channel(front.address, services=[DATA]) as channel:
            call = data_pb2_grpc.DataServiceStub(channel).ListTimeframes(
                data_pb2.ListTimeframesRequest(), metadata=((REQUEST_ID_HEADER, "req-42"),)
            )
            await call
            initial = dict(await call.initial_metadata())
    finally:
        await front.stop()
        await back.stop()
    assert front_servicer.seen_request_ids == ["req-42"]
    assert downstream.seen_request_ids == ["req-42"]
    assert initial[REQUEST_ID_HEADER] == "req-42"


async def test_slow_dependency_gives_deadline_exceeded_naming_it():
    slow = await _start(FakeData(delay=2.0))
    front = await _start(FakeData(downstream=slow.address))
    try:
        async with open_channel(front.address, services=[DATA]) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await data_pb2_grpc.DataServiceStub(channel).ListTimeframes(
                    data_pb2.ListTimeframesRequest()
                )
    finally:
        await front.stop()
        await slow.stop()
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_detail_of(info.value).code == "RUNTIME-003"
    assert "downstream" in info.value.details()


async def test_dependency_down_gives_unavailable_naming_it():
    # Reads are retried with backoff first; the deadline leaves room for all attempts.
    front = await _start(FakeData(downstream="127.0.0.1:1", timeout=10.0))
    try:
        async with open_channel(front.address, services=[DATA]) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await data_pb2_grpc.DataServiceStub(channel).ListTimeframes(
                    data_pb2.ListTimeframesRequest()
                )
    finally:
        await front.stop()
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_detail_of(info.value).code == "RUNTIME-002"
    assert "downstream service is unavailable" in info.value.details()


async def test_stop_reports_not_serving_to_watchers_before_the_server_goes():
    # RunningServer.stop itself must announce NOT_SERVING (so balancers drain) while the
    # server still runs its grace period: a health watcher opened before sees the change.
    running = await _start(FakeData())
    stopping: asyncio.Future[None] | None = None
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for name in ("", DATA.full_name):
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            watch = stub.Watch(health_pb2.HealthCheckRequest(service=DATA.full_name))
            assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
            stopping = asyncio.ensure_future(running.stop())
            update = await watch.read()  # without NOT_SERVING: cancelled after the grace period
            watch.cancel()
    finally:
        await (stopping if stopping is not None else running.stop())
    assert update is not grpc.aio.EOF
    assert update.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_reflection_lists_the_service_and_health(served):
    running, _ = served
    async with grpc.aio.insecure_channel(running.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests():
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        async for reply in stub.ServerReflectionInfo(requests()):
            names = {s.name for s in reply.list_services_response.service}
            break
    assert {DATA.full_name, "grpc.health.v1.Health"} <= names


async def test_metrics_count_rpcs_by_method_and_code(served):
    running, _ = served
    labels = {
        "service": "test",
        "method": "/ktrdr.data.v1.DataService/GetDataInfo",
        "code": "NOT_FOUND",
    }
    before = REGISTRY.get_sample_value("ktrdr_rpc_requests_total", labels) or 0.0
    async with open_channel(running.address, services=[DATA]) as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await data_pb2_grpc.DataServiceStub(channel).GetDataInfo(
                data_pb2.GetDataInfoRequest(symbol="X")
            )
    assert REGISTRY.get_sample_value("ktrdr_rpc_requests_total", labels) == before + 1
    assert REGISTRY.get_sample_value("ktrdr_rpc_duration_seconds_count", labels) >= 1


async def test_second_server_on_a_taken_port_fails_with_a_clear_error(served):
    running, _ = served

    async def setup(server, settings):
        data_pb2_grpc.add_DataServiceServicer_to_server(FakeData(), server)

    spec = ServiceSpec("dup", _Settings, [DATA], setup)
    with pytest.raises(StartupError, match=r"cannot listen on 127\.0\.0\.1"):
        await create_server(spec, _Settings.from_env({}), address=running.address)


def test_only_http_get_methods_are_retried():
    names = {m["method"] for m in idempotent_methods([DATA])}
    assert {"ListSymbols", "ListTimeframes", "GetDataInfo", "AnalyzeGaps"} <= names
    assert "LoadData" not in names and "ImportBars" not in names


def test_access_log_is_json_with_request_id_and_never_secrets(capsys):
    configure_logging("test")
    log = structlog.get_logger("t")
    token = request_id.set("rid-7")
    try:
        log.info("login", api_key="sk-123", password="hunter2", symbol="EURUSD")
    finally:
        request_id.reset(token)
    structlog.reset_defaults()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    event = json.loads(line)
    assert event["request_id"] == "rid-7"
    assert event["service"] == "test"
    assert event["symbol"] == "EURUSD"
    assert "sk-123" not in line and "hunter2" not in line
