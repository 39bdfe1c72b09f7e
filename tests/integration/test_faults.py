"""Faults: each service killed with SIGKILL mid-stream, over REST and gRPC through the edge.

data and indicators are killed under CalculateIndicator / CalculateFuzzy / StreamIndicators,
fuzzy and neural under a RunBacktest across the mesh (its StreamFuzzy and StreamPredictions),
and the backtest service itself under a REST RunBacktest stream.

For each kill: the caller gets the typed error (never a quiet end, never INTERNAL naming
nothing), the rest of the mesh keeps serving, and the service comes back: the mesh supervisor
restarts it by itself (counted in its state file), and its callers reach it again.

The supervisor restarts a killed service within a second, so what a dead service looks like
could only be seen by a test faster than that. Instead the supervisor is paused (SIGSTOP)
before the kill and resumed (SIGCONT) once the checks of the dead service are done: nothing
depends on timing, and the restart is still the supervisor's own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr.common.v1 import common_pb2
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_cli import mesh
from ktrdr_client import KtrdrClient
from ktrdr_client.errors import StreamInterruptedError, UnavailableError
from ktrdr_runtime.grpc_errors import error_detail_of, from_rpc_error

from .test_backtest_mesh import RSI, _train
from .test_gateway import SECURITY
from .test_gateway_common import assert_error, mesh_with_series, running_edge

pytestmark = pytest.mark.integration

BIG = "ZZFAULT"  # a 1m series long enough for its stream to be killed while it runs
BIG_BARS = 2_000_000
SERVING_TIMEOUT = 120.0
# Answers of a whole long series are larger than gRPC's default 4 MiB.
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 * 2**20)]
# Backtests across the mesh (backtest -> data, indicators, fuzzy, neural): one bar per message,
# so a run is still streaming when a service is killed.
BACKTEST = {
    "start_date": "2017-11-01",
    "end_date": "2018-02-08",
    "confidence_threshold": 0.0,
    "batch_size": 1,
}
SERVICES = ("data", "indicators", "fuzzy", "neural", "backtest")


class Faults:
    def __init__(self, layout: mesh.Layout, url: str, key: str) -> None:
        self.layout = layout
        self.url = url
        self.key = key
        self._restarts_before: dict[str, int] = {}

    def record(self, service: str) -> dict[str, object]:
        """The supervisor's record of ``service`` (pid, state, restarts, last exit)."""
        return dict(mesh.read_state(self.layout)["services"][service])

    def supervisor(self) -> int:
        pid = mesh.supervisor_pid(mesh.read_state(self.layout))
        assert pid, "the mesh supervisor is not running"
        return pid

    def resume_supervisor(self) -> None:
        """Let the supervisor run again (it restarts what died meanwhile)."""
        os.kill(self.supervisor(), signal.SIGCONT)

    def kill(self, service: str) -> None:
        """SIGKILL the service, the supervisor paused, and wait until the service is gone.

        The service stays down until :meth:`bring_back` resumes the supervisor.
        """
        record = self.record(service)
        pid = int(record["pid"])  # type: ignore[call-overload]
        self._restarts_before[service] = int(record["restarts"])  # type: ignore[call-overload]
        os.kill(self.supervisor(), signal.SIGSTOP)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + SERVING_TIMEOUT
        while mesh.pid_alive(pid):
            assert time.monotonic() < deadline, f"{service} (pid {pid}) did not die"
            time.sleep(0.05)

    def bring_back(self, service: str) -> None:
        """Resume the supervisor: it restarts the killed service, SERVING and reached again."""
        self.resume_supervisor()
        deadline = time.monotonic() + SERVING_TIMEOUT
        while True:
            record = self.record(service)
            restarted = int(record["restarts"]) > self._restarts_before[service]  # type: ignore[call-overload]
            if restarted and record["state"] == "serving":
                break
            assert time.monotonic() < deadline, f"{service} was not restarted: {record}"
            time.sleep(0.2)
        assert record["last_exit"] == "killed by SIGKILL", record
        deadline = time.monotonic() + SERVING_TIMEOUT
        address = self.layout.address(service)
        while mesh.check_health(address) != "SERVING":
            assert time.monotonic() < deadline, f"{service} did not come back"
            time.sleep(0.2)
        # ... and its callers reach it again (fuzzy -> indicators -> data, through the edge).
        body = {
            "symbol": "EURUSD",
            "strategy": "rsi_trend_eurusd_1h",
            "startDate": "2017-06-01",
            "endDate": "2017-06-08",
        }
        with self.http() as http:
            while http.post("/api/v1/fuzzy/calculate", json=body).status_code != 200:
                assert time.monotonic() < deadline, f"callers of {service} cannot reach it"
                time.sleep(0.2)

    def open_streams(self, service: str, method: str) -> float:
        """The service's own count of streams in progress (its Prometheus gauge)."""
        url = f"http://127.0.0.1:{self.layout.metrics_port(service)}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                text = reply.read().decode()
        except OSError:
            return 0.0
        for line in text.splitlines():
            if line.startswith("ktrdr_rpc_open_streams{") and f'method="{method}"' in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"x-api-key": self.key}, timeout=60)


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    """A mesh of its own (its services are killed), with a long stored series and an edge."""
    home = tmp_path_factory.mktemp("faults-home")
    with (
        mesh_with_series(home, BIG, BIG_BARS, seed=3) as layout,
        running_edge(
            layout,
            tmp_path_factory.mktemp("faults-edge"),
        ) as edge,
    ):
        faults = Faults(layout, edge.url, edge.keys["admin"])
        try:
            yield faults
        finally:  # a failed test may leave it paused; mesh down needs it running
            faults.resume_supervisor()


@pytest.fixture(scope="module")
def model(faults: Faults) -> str:
    """A model of the RSI strategy, trained through the neural service."""
    with grpc.insecure_channel(faults.layout.address("neural")) as channel:
        return _train({"neural": channel}, RSI)


def _still_serving(faults: Faults, *, down: str) -> None:
    """The other services answer while ``down`` is dead; its callers name it, with 503."""
    dependent = {
        "data": (
            "/api/v1/indicators/calculate",
            {"indicator": "sma", "source": {"symbol": "EURUSD", "timeframe": "1h"}},
        ),
        "indicators": (
            "/api/v1/fuzzy/calculate",
            {"symbol": "EURUSD", "strategy": "rsi_trend_eurusd_1h"},
        ),
    }
    own = {
        "data": "/api/v1/data/timeframes",
        "indicators": "/api/v1/indicators",
        "fuzzy": "/api/v1/fuzzy/sets",
        "neural": "/api/v1/models/list",
        "backtest": "/api/v1/strategies",
    }
    with faults.http() as http:
        for service, path in own.items():
            if service == down:
                reply = http.get(path)
                assert_error(reply, 503)
                assert all(h in reply.headers for h in SECURITY), reply.headers
            else:
                assert http.get(path).status_code == 200, path
        if down in dependent:  # (the others' callers are the tests' own backtests)
            path, body = dependent[down]
            detail = assert_error(http.post(path, json=body), 503, "RUNTIME-002")["details"][0]
            assert detail["metadata"]["dependency"] == down


def _backtests_again(faults: Faults, model: str) -> None:
    """A short backtest across the whole mesh completes again (polled: a caller's channel to a
    restarted service reconnects with gRPC's backoff, and the run is not retried for it)."""
    deadline = time.monotonic() + SERVING_TIMEOUT
    short = {"start_date": "2017-11-01", "end_date": "2017-11-15", "confidence_threshold": 0.0}
    with KtrdrClient(faults.url, faults.key, retries=0) as client:
        while True:
            try:
                last = list(client.stream_backtest(RSI, model=model, **short))[-1]
                break
            except UnavailableError as exc:
                assert time.monotonic() < deadline, f"backtests fail after the restart: {exc}"
                time.sleep(0.5)
    assert last.done and last.backtest.state == "BACKTEST_STATE_SUCCEEDED", last


def _assert_names(err: grpc.aio.AioRpcError, dependency: str) -> None:
    """UNAVAILABLE ``RUNTIME-002`` naming the dependency (not INTERNAL naming nothing)."""
    assert err.code() == grpc.StatusCode.UNAVAILABLE, err
    detail = error_detail_of(err)
    assert detail is not None and detail.code == "RUNTIME-002"
    assert detail.metadata["dependency"] == dependency
    assert dependency in err.details()


def _kill_when_streaming(faults: Faults, victim: str, watched: str, method: str) -> None:
    """Kill ``victim`` once ``watched`` reports a ``method`` stream in progress."""
    deadline = time.monotonic() + SERVING_TIMEOUT
    while faults.open_streams(watched, method) < 1:
        assert time.monotonic() < deadline, f"no {method} stream started on {watched}"
        time.sleep(0.01)
    faults.kill(victim)


# --- REST -----------------------------------------------------------------------------------


def test_rest_stream_cut_by_a_killed_data_service_raises_and_the_mesh_recovers(faults):
    with KtrdrClient(faults.url, faults.key, retries=0) as client:
        # Paced: one bar a second of wall time, so the stream is still running when killed.
        stream = client.stream(
            "POST",
            "/api/v1/data/stream",
            json_body={"symbol": "EURUSD", "timeframe": "1h", "batchSize": 1, "replaySpeed": 3600},
        )
        first = next(stream)
        assert first["bars"]["close"]
        faults.kill("data")
        with pytest.raises(StreamInterruptedError) as info:
            for _ in stream:
                pass
        assert info.value.code == "CLIENT-002" and info.value.received >= 1
        _still_serving(faults, down="data")
        with pytest.raises(UnavailableError):
            client.timeframes()
    faults.bring_back("data")
    with KtrdrClient(faults.url, faults.key, retries=0) as client:
        batches = list(client.stream_bars("EURUSD", "1h", start="2017-06-01", end="2017-06-02"))
    assert sum(len(b["close"]) for b in batches) > 0


# --- gRPC ----------------------------------------------------------------------------------


def _metadata(faults: Faults) -> tuple[tuple[str, str], ...]:
    return (("x-api-key", faults.key),)


async def test_grpc_caller_gets_unavailable_naming_data_killed_mid_stream(faults):
    request = indicators_pb2.CalculateIndicatorRequest(
        indicator="sma", source=indicators_pb2.DataSelection(symbol=BIG, timeframe="1m")
    )
    async with grpc.aio.insecure_channel(
        faults.url.removeprefix("http://"), options=CHANNEL_OPTIONS
    ) as channel:
        stub = indicators_pb2_grpc.IndicatorServiceStub(channel)
        call = stub.CalculateIndicator(request, metadata=_metadata(faults), timeout=300)
        await asyncio.to_thread(
            _kill_when_streaming, faults, "data", "data", "/ktrdr.data.v1.DataService/StreamBars"
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
    _assert_names(info.value, "data")
    _still_serving(faults, down="data")
    faults.bring_back("data")
    async with grpc.aio.insecure_channel(
        faults.url.removeprefix("http://"), options=CHANNEL_OPTIONS
    ) as channel:
        stub = indicators_pb2_grpc.IndicatorServiceStub(channel)
        small = indicators_pb2.CalculateIndicatorRequest(
            indicator="sma",
            source=indicators_pb2.DataSelection(
                symbol="EURUSD", timeframe="1h", start_date="2017-06-01", end_date="2017-06-02"
            ),
        )
        reply = await stub.CalculateIndicator(small, metadata=_metadata(faults), timeout=60)
    assert len(reply.timestamps) > 0


async def test_grpc_caller_gets_unavailable_naming_indicators_killed_mid_call(faults):
    request = fuzzy_pb2.CalculateFuzzyRequest(
        symbol=BIG, timeframe="1m", strategy="rsi_trend_eurusd_1h"
    )
    async with grpc.aio.insecure_channel(
        faults.url.removeprefix("http://"), options=CHANNEL_OPTIONS
    ) as channel:
        call = fuzzy_pb2_grpc.FuzzyServiceStub(channel).CalculateFuzzy(
            request, metadata=_metadata(faults), timeout=300
        )
        # Indicators is busy pulling the long series from data: kill indicators then.
        await asyncio.to_thread(
            _kill_when_streaming,
            faults,
            "indicators",
            "data",
            "/ktrdr.data.v1.DataService/StreamBars",
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
    _assert_names(info.value, "indicators")
    _still_serving(faults, down="indicators")
    faults.bring_back("indicators")
    with faults.http() as http:
        assert http.get("/api/v1/indicators/rsi/info").status_code == 200


async def test_grpc_stream_chain_through_the_edge_names_the_killed_service(faults):
    """A client chaining StreamIndicators itself: the runtime's mapping names the service."""

    queue: asyncio.Queue[indicators_pb2.StreamIndicatorsRequest | None] = asyncio.Queue()

    async def requests() -> AsyncIterator[indicators_pb2.StreamIndicatorsRequest]:
        spec = indicators_pb2.IndicatorSpec(indicator="sma")
        yield indicators_pb2.StreamIndicatorsRequest(
            config=indicators_pb2.StreamIndicatorsConfig(indicators=[spec])
        )
        while (item := await queue.get()) is not None:
            yield item

    def bars(i: int) -> indicators_pb2.StreamIndicatorsRequest:
        return indicators_pb2.StreamIndicatorsRequest(
            bars=common_pb2.BarColumns(
                timestamps_us=[i], open=[1.0], high=[1.0], low=[1.0], close=[1.0], volume=[1]
            )
        )

    async with grpc.aio.insecure_channel(
        faults.url.removeprefix("http://"), options=CHANNEL_OPTIONS
    ) as channel:
        call = indicators_pb2_grpc.IndicatorServiceStub(channel).StreamIndicators(
            requests(), metadata=_metadata(faults)
        )
        await queue.put(bars(1))
        assert len((await call.read()).timestamps_us) == 1
        faults.kill("indicators")
        await queue.put(bars(2))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call.read()
        await queue.put(None)
    err = from_rpc_error(info.value, dependency="indicators")
    assert (err.code, err.status.name) == ("RUNTIME-002", "UNAVAILABLE")
    assert "indicators" in err.message
    _still_serving(faults, down="indicators")
    faults.bring_back("indicators")


# --- across the mesh: a backtest's dependencies, and the backtest service itself ------------


async def test_grpc_backtest_through_the_edge_names_fuzzy_killed_mid_stream(faults, model):
    request = backtest_pb2.RunBacktestRequest(strategy_id=RSI, model=model, **BACKTEST)
    killed = False
    async with grpc.aio.insecure_channel(
        faults.url.removeprefix("http://"), options=CHANNEL_OPTIONS
    ) as channel:
        call = backtest_pb2_grpc.BacktestServiceStub(channel).RunBacktest(
            request, metadata=_metadata(faults), timeout=300
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for message in call:
                assert message.progress.stage != "done", "the run ended before the kill"
                if message.progress.stage == "running" and not killed:
                    await asyncio.to_thread(faults.kill, "fuzzy")  # the backtest's StreamFuzzy
                    killed = True
    assert killed
    _assert_names(info.value, "fuzzy")
    _still_serving(faults, down="fuzzy")
    faults.bring_back("fuzzy")
    _backtests_again(faults, model)


def test_rest_backtest_names_neural_killed_mid_predictions(faults, model):
    killed = False
    with KtrdrClient(faults.url, faults.key, retries=0) as client:
        updates = client.stream_backtest(RSI, model=model, **BACKTEST)
        with pytest.raises(UnavailableError) as info:
            for update in updates:
                assert not update.done, "the run ended before the kill"
                if update.progress.stage == "running" and not killed:
                    faults.kill("neural")  # the backtest's StreamPredictions
                    killed = True
    assert killed, info.value
    # The backtest service is alive: its error line, not a cut-off body.
    assert not isinstance(info.value, StreamInterruptedError)
    assert (info.value.status, info.value.code) == (503, "RUNTIME-002")
    assert info.value.metadata["dependency"] == "neural" and "neural" in info.value.message
    _still_serving(faults, down="neural")
    faults.bring_back("neural")
    with faults.http() as http:
        assert http.get(f"/api/v1/models/{model}").status_code == 200
    _backtests_again(faults, model)


def test_rest_backtest_cut_by_a_killed_backtest_service_raises_and_it_comes_back(faults, model):
    with KtrdrClient(faults.url, faults.key, retries=0) as client:
        updates = client.stream_backtest(RSI, model=model, **BACKTEST)
        first = next(updates)
        assert not first.done and first.backtest.backtest_id
        faults.kill("backtest")
        with pytest.raises(StreamInterruptedError) as info:
            for update in updates:
                assert not update.done, "a killed run looked complete"
    assert info.value.code == "CLIENT-002" and info.value.received >= 1
    _still_serving(faults, down="backtest")
    faults.bring_back("backtest")
    with faults.http() as http:
        assert http.get(f"/api/v1/strategies/{RSI}").status_code == 200
    _backtests_again(faults, model)


def test_every_killed_service_is_back_and_serving(faults):
    status = mesh.status(faults.layout)
    assert {s: status[s] for s in SERVICES} == dict.fromkeys(SERVICES, "SERVING")


def test_log_files_of_restarted_services_stay_owner_only(faults):
    for log in Path(faults.layout.log_dir).glob("*.log"):
        assert log.stat().st_mode & 0o077 == 0, log
