"""Issue 9 through the real edge: streams that fail, oversized inputs and answers, logs, ambiguity.

The real Envoy in front of the real services (the session mesh); where a failure cannot be
produced on demand by a real service (a stream failing after its first message, a service
answering RESOURCE_EXHAUSTED), a small servicer on the shared runtime stands at the wire.
"""

from __future__ import annotations

import asyncio
import json
import stat
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_cli import mesh
from ktrdr_client import KtrdrClient
from ktrdr_client.errors import (
    NotFoundError,
    NotImplementedError,
    ServerError,
    ValidationError,
)
from ktrdr_core import errors
from ktrdr_gateway import envoy_config, keys
from ktrdr_gateway.runner import running_envoy
from ktrdr_runtime.server import ServiceSpec, create_server
from ktrdr_runtime.settings import ServiceSettings

from .test_gateway import SECURITY
from .test_gateway_common import (
    Edge,
    assert_error,
    edge_config,
    free_port,
    infer_body,
    running_edge,
    series_added_removed,
)

pytestmark = pytest.mark.integration
DATA = data_pb2.DESCRIPTOR.services_by_name["DataService"]


@pytest.fixture(scope="module")
def edge(mesh_layout: mesh.Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    with (
        series_added_removed(mesh_layout),
        running_edge(
            mesh_layout,
            tmp_path_factory.mktemp("edge-hardening"),
            auth_fail_per_minute=100_000,
            auth_fail_burst=100_000,
            access_log=True,
        ) as edge,
    ):
        yield edge


def _client(edge: Edge) -> KtrdrClient:
    return KtrdrClient(edge.url, edge.keys["admin"], retries=0)


def _corrupt_series(layout: mesh.Layout) -> str:
    """A stored 1h series whose file is garbage (the data service answers DATA_LOSS)."""
    symbol = "ZZCORRUPT"
    folder = layout.home / "data" / symbol
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "h1.parquet").write_bytes(b"not a parquet file" * 100)
    return symbol


# --- item 2: a failed stream is never a success ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "cls", "code"),
    [
        ({"symbol": "NOPE", "timeframe": "1h"}, 404, NotFoundError, None),
        ({"symbol": "EURUSD", "timeframe": "7h"}, 400, ValidationError, "COMMON-002"),
    ],
)
def test_stream_failing_before_its_first_message_answers_the_mapped_status(
    edge: Edge, body: dict, status: int, cls: type, code: str | None
) -> None:
    with edge.client() as http:
        assert_error(http.post("/api/v1/data/stream", json=body), status, code)
    with _client(edge) as client, pytest.raises(cls):
        list(client.stream_bars(body["symbol"], body["timeframe"]))


def test_stream_of_a_corrupt_file_is_data_loss_not_an_empty_batch(
    edge: Edge, mesh_layout: mesh.Layout
) -> None:  # (the edge fixture removes the series afterwards)
    symbol = _corrupt_series(mesh_layout)
    with edge.client() as http:
        body = assert_error(
            http.post("/api/v1/data/stream", json={"symbol": symbol, "timeframe": "1h"}), 500
        )
    assert body["code"] == 15  # DATA_LOSS
    with _client(edge) as client, pytest.raises(ServerError) as info:
        list(client.stream_bars(symbol, "1h"))
    assert info.value.grpc_code == 15


class _Wire(data_pb2_grpc.DataServiceServicer):
    """Stands in for the data service where a real one cannot fail on demand."""

    async def StreamBars(self, request, context) -> AsyncIterator[data_pb2.StreamBarsResponse]:
        if request.symbol == "UNBUILT":  # what ktrdr_runtime.servicers answers for an unbuilt RPC
            raise errors.NotImplementedYetError(
                "RUNTIME-005", "DataService.StreamBars is not available yet: a test stand-in."
            )
        for i in range(3):
            yield data_pb2.StreamBarsResponse(
                bars=common_pb2.BarColumns(
                    timestamps_us=[i], open=[1.0], high=[1.0], low=[1.0], close=[1.0], volume=[1]
                )
            )
            if i == 1:
                raise errors.DataLossError(
                    "DATA-005", "The stored file is corrupt after two batches.", field="symbol"
                )

    async def LoadData(self, request, context):
        raise errors.ResourceExhaustedError("DATA-099", "Out of memory for this load.")


class _Settings(ServiceSettings):
    SERVICE = "wire"


@pytest.fixture(scope="module")
def wire_edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """An edge whose every upstream is the :class:`_Wire` servicer (on the real runtime)."""

    async def setup(server, settings):
        data_pb2_grpc.add_DataServiceServicer_to_server(_Wire(), server)

    loop = asyncio.new_event_loop()
    spec = ServiceSpec("wire", _Settings, [DATA], setup)
    running = loop.run_until_complete(
        create_server(spec, _Settings.from_env({}), address="127.0.0.1:0")
    )
    serving = asyncio.Event()

    def pump() -> None:
        loop.run_until_complete(serving.wait())

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    work = tmp_path_factory.mktemp("wire-edge")
    store = keys.KeyStore(work / "api-keys")
    key = store.create("admin")[0]
    upstream = envoy_config.Upstream("127.0.0.1", running.port)
    cfg = envoy_config.GatewayConfig(
        upstreams={s: upstream for s in mesh.SERVICES},
        listen_port=free_port(),
        admin_port=free_port(),
        key_file=str(store.path),
        access_log=False,
    )
    try:
        with running_envoy(cfg, work) as url:
            yield url, key
    finally:
        loop.call_soon_threadsafe(serving.set)
        thread.join(10)
        loop.run_until_complete(running.stop())
        loop.close()


def test_unbuilt_streaming_rpc_answers_501_and_the_client_raises(wire_edge) -> None:
    url, key = wire_edge
    reply = httpx.post(
        f"{url}/api/v1/data/stream", json={"symbol": "UNBUILT"}, headers={"x-api-key": key}
    )
    assert reply.status_code == 501, reply.text
    assert reply.json()["details"][0]["code"] == "RUNTIME-005"
    with KtrdrClient(url, key, retries=0) as client, pytest.raises(NotImplementedError):
        list(client.stream_bars("UNBUILT", "1h"))


def test_stream_failing_after_its_first_message_ends_with_an_error_line(wire_edge) -> None:
    url, key = wire_edge
    reply = httpx.post(
        f"{url}/api/v1/data/stream", json={"symbol": "X"}, headers={"x-api-key": key}, timeout=30
    )
    assert reply.status_code == 200
    lines = [json.loads(x) for x in reply.text.splitlines()]
    assert [("bars" in x) for x in lines] == [True, True, False]
    error = lines[-1]["error"]
    assert error["code"] == 15
    assert error["message"] == "[DATA-005] The stored file is corrupt after two batches."
    assert error["details"][0]["code"] == "DATA-005"
    assert error["details"][0]["field"] == "symbol"
    with KtrdrClient(url, key, retries=0) as client, pytest.raises(ServerError) as info:
        list(client.stream_bars("X", "1h"))
    assert (info.value.code, info.value.field) == ("DATA-005", "symbol")


def test_a_service_resource_exhausted_is_503_never_429(wire_edge) -> None:
    url, key = wire_edge
    reply = httpx.post(f"{url}/api/v1/data/load", json={}, headers={"x-api-key": key}, timeout=30)
    assert reply.status_code == 503
    assert "retry-after" not in reply.headers
    for header in SECURITY:
        assert header in reply.headers


# --- item 5: echoed input is bounded; a 4xx stays a 4xx -----------------------------------------


@pytest.mark.parametrize(
    ("verb", "path", "body"),
    [
        ("GET", "/api/v1/indicators/{big}/info", None),
        ("GET", "/api/v1/data/EURUSD/{big}/info", None),
        ("POST", "/api/v1/indicators/calculate", {"indicator": "{big}"}),
        (
            "POST",
            "/api/v1/indicators/calculate",
            {
                "indicator": "sma",
                "parameters": {"{big}": 3},
                "source": {"symbol": "EURUSD", "timeframe": "1h"},
            },
        ),
        ("POST", "/api/v1/data/stream", {"symbol": "EURUSD", "timeframe": "{big}"}),
    ],
)
@pytest.mark.parametrize("big", ["A" * 20_000, "é" * 9_000])
def test_huge_echoed_values_stay_a_4xx_with_a_bounded_message_and_security_headers(
    edge: Edge, verb: str, path: str, body: dict | None, big: str
) -> None:
    payload = json.loads(json.dumps(body).replace("{big}", big)) if body else None
    with edge.client() as http:
        resp = http.request(verb, path.replace("{big}", big), json=payload)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
    body_json = assert_error(resp, resp.status_code)
    assert len(resp.text) < 3000
    assert big[:200] not in resp.text
    code = body_json["details"][0]["code"]
    assert body_json["message"].count(f"[{code}]") == 1
    assert body_json["details"][0]["message"] == ""  # the sentence is carried once
    for header in SECURITY:
        assert header in resp.headers


# --- item 6: too large is not "rate limited" -----------------------------------------------------


@pytest.fixture(scope="module")
def big_series(mesh_layout: mesh.Layout, edge: Edge) -> str:
    """A stored 1m series too large for one REST answer (~400k bars)."""
    from ktrdr_data.domain.storage import ParquetBarStore
    from ktrdr_data.domain.synthetic import SyntheticConfig, generate

    symbol = "ZZBIG"
    ParquetBarStore(mesh_layout.home / "data").write(
        symbol, "1m", generate(SyntheticConfig(bars=400_000, timeframe="1m", seed=9))
    )
    return symbol


def test_load_too_large_for_one_answer_points_to_the_stream_and_is_never_429(
    edge: Edge, big_series: str
) -> None:
    with edge.client() as http:
        # Refused up front by the data service's paging: one page holds at most 100,000 bars.
        body = assert_error(
            http.post("/api/v1/data/load", json={"symbol": big_series, "timeframe": "1m"}),
            400,
            "DATA-022",
        )
        assert body["details"][0]["field"] == "page_size"
        assert "next_page_token" in body["message"]
        assert "POST /api/v1/data/stream" in body["message"]
        stream = http.post(
            "/api/v1/data/stream",
            json={"symbol": big_series, "timeframe": "1m", "batchSize": 10_000},
            timeout=120,
        )
    assert stream.status_code == 200
    bars = sum(len(json.loads(x)["bars"]["close"]) for x in stream.text.splitlines())
    assert bars == 400_000


def test_rate_limited_answer_carries_retry_after(mesh_layout: mesh.Layout, tmp_path: Path) -> None:
    store = keys.KeyStore(tmp_path / "api-keys")
    key, _ = store.create("read")
    cfg = edge_config(mesh_layout, store.path, rate_limit_per_minute=2, rate_limit_burst=2)
    with running_envoy(cfg, tmp_path) as url, httpx.Client(base_url=url) as http:
        replies = [
            http.get("/api/v1/data/timeframes", headers={"x-api-key": key}) for _ in range(4)
        ]
    limited = [r for r in replies if r.status_code == 429]
    assert limited, [r.status_code for r in replies]
    for reply in limited:
        assert int(reply.headers["retry-after"]) >= 1
        assert_error(reply, 429, "AUTH-004")


# --- item 7: no key, no huge input in any log; logs owner-only ---------------------------------


def test_logs_hold_no_key_in_any_form_nor_a_30k_input_and_are_owner_only(
    edge: Edge, mesh_layout: mesh.Layout
) -> None:
    dev_key = keys.dev_key_path(mesh_layout.home).read_text().strip()
    mesh_url = f"http://127.0.0.1:{mesh_layout.extra_port(0, 8080)}"
    huge = "Q" * 30_000
    with httpx.Client(base_url=mesh_url, timeout=30) as http:
        http.get(f"/api/v1/data/timeframes?api_key={dev_key}")
        http.get(f"/api/v1/data/{dev_key}/1h/info", headers={"x-api-key": dev_key})
        http.post(
            "/api/v1/fuzzy/membership", json={"strategy": huge}, headers={"x-api-key": dev_key}
        )
    with edge.client() as http:
        http.get(f"/api/v1/data/timeframes?api_key={edge.keys['read']}")
        http.get(f"/api/v1/indicators/{huge}/info")
        http.post("/api/v1/indicators/calculate", json={"indicator": huge})
    time.sleep(1.0)  # let the processes flush their lines
    secret = dev_key.rsplit("_", 1)[1]
    logs = [*mesh_layout.log_dir.glob("*.log"), edge.log]
    for log in logs:
        text = log.read_text(errors="replace")
        assert secret not in text, log
        assert edge.keys["read"].rsplit("_", 1)[1] not in text, log
        assert "Q" * 4_001 not in text, log
    for log in mesh_layout.log_dir.glob("*.log"):
        assert stat.S_IMODE(log.stat().st_mode) == 0o600, log


# --- item 19: ambiguous requests are rejected ---------------------------------------------------


@pytest.mark.parametrize(
    ("verb", "path", "body", "code", "field"),
    [
        (
            "POST",
            "/api/v1/data/load",
            '{"symbol":"EURUSD","timeframe":"1h","startDate":"2017-06-01","start_date":"2017-06-02"}',
            "GATEWAY-001",
            "start_date",
        ),
        (
            "POST",
            "/api/v1/data/load",
            '{"symbol":"EURUSD","symbol":"GOOG","timeframe":"1h"}',
            "GATEWAY-001",
            "symbol",
        ),
        (
            "GET",
            "/api/v1/data/EURUSD/1h/gaps?startDate=2017-06-01&start_date=2017-07-01",
            None,
            "GATEWAY-001",
            "start_date",
        ),
        (
            "GET",
            "/api/v1/indicators?category=trend&category=momentum",
            None,
            "GATEWAY-001",
            "category",
        ),
        ("GET", "/api/v1/data/EURUSD/1h/gaps?symbol=GOOG", None, "GATEWAY-001", "symbol"),
        (
            "POST",
            "/api/v1/data/load",
            '{"symbol":"EURUSD","timeframe":"1h","mode":99}',
            "RUNTIME-006",
            "mode",
        ),
        (
            "POST",
            "/api/v1/data/stream",
            '{"symbol":"EURUSD","timeframe":"1h","replaySpeed":1e-300}',
            "DATA-017",
            "replay_speed",
        ),
        (
            "POST",
            "/api/v1/fuzzy/calculate",
            '{"symbol":"EURUSD","strategy":"rsi_trend_eurusd_1h",'
            '"startDate":"2017-07-01","endDate":"2017-06-01"}',
            None,
            "start_date",
        ),
    ],
)
def test_ambiguous_or_contradictory_requests_are_400_naming_the_field(
    edge: Edge, verb: str, path: str, body: str | None, code: str | None, field: str
) -> None:
    with edge.client() as http:
        resp = http.request(
            verb, path, content=body, headers={"content-type": "application/json"}, timeout=20
        )
    detail = assert_error(resp, 400, code)["details"][0]
    assert detail["field"] == field


def test_infer_takes_gbell_as_the_contract_says(edge: Edge) -> None:
    with edge.client() as http:
        reply = http.post("/api/v1/fuzzy/infer", json=infer_body())
    assert reply.status_code == 200, reply.text
    assert reply.json()["output"] > 0


@pytest.mark.parametrize(
    ("changes", "code", "field", "needle"),
    [
        ({"inputs": {"rsi": 20, "rsj": 1}}, "FUZZY-019", "inputs.rsj", "rsi"),
        (
            {"output": {"resolution": 2_000_000_000}},
            "FUZZY-018",
            "outputs.signal.resolution",
            "10,001",
        ),
    ],
)
def test_infer_rejects_unknown_inputs_and_unbounded_resolutions(
    edge: Edge, changes: dict, code: str, field: str, needle: str
) -> None:
    with edge.client() as http:
        body = assert_error(http.post("/api/v1/fuzzy/infer", json=infer_body(**changes)), 400, code)
    assert body["details"][0]["field"] == field
    assert needle in body["message"]


def test_a_clients_request_id_is_kept_through_the_edge_and_the_services(
    edge: Edge, mesh_layout: mesh.Layout
) -> None:
    rid = f"client-{uuid.uuid4().hex}"
    with edge.client(**{"x-request-id": rid}) as http:
        reply = http.post(
            "/api/v1/indicators/calculate",
            json={
                "indicator": "sma",
                "parameters": {"period": 3},
                "source": {
                    "symbol": "EURUSD",
                    "timeframe": "1h",
                    "startDate": "2017-06-01",
                    "endDate": "2017-06-02",
                },
            },
        )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-request-id"] == rid
    time.sleep(0.5)
    for service in ("indicators", "data"):
        assert rid in (mesh_layout.log_dir / f"{service}.log").read_text(), service
    with edge.client(**{"x-request-id": "not;a;token" * 20}) as http:
        replaced = http.get("/api/v1/data/timeframes").headers["x-request-id"]
    assert ";" not in replaced and len(replaced) <= 128


def test_failed_auth_floods_are_limited_per_address(
    mesh_layout: mesh.Layout, tmp_path: Path
) -> None:
    store = keys.KeyStore(tmp_path / "api-keys")
    good, _ = store.create("read")
    cfg = edge_config(mesh_layout, store.path, auth_fail_per_minute=3, auth_fail_burst=3)
    with running_envoy(cfg, tmp_path, concurrency=1) as url, httpx.Client(base_url=url) as http:
        codes = [
            http.get("/api/v1/data/timeframes", headers={"x-api-key": f"wrong-{i}"}).status_code
            for i in range(5)
        ]
        codes.append(http.get("/api/v1/data/timeframes").status_code)  # no key at all
        limited = http.get("/api/v1/data/timeframes")
        assert http.get("/api/v1/data/timeframes", headers={"x-api-key": good}).status_code == 200
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429, 429], codes
    assert_error(limited, 429, "AUTH-005")
    assert int(limited.headers["retry-after"]) >= 1
