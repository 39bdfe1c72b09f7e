"""The REST/JSON edge: the real Envoy in front of the real services.

The mesh's own gateway (started by `ktrdr mesh up` through the entry point) is checked for the
dev key and the client; the rest runs against Envoys these tests start with their own settings
(rate limit, body limit) and key store, pointed at the same mesh services.
"""

from __future__ import annotations

import json
import stat
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_cli import mesh
from ktrdr_gateway import keys
from ktrdr_gateway.runner import running_envoy

from .test_gateway_common import HTTP_FOR_GRPC, Edge, assert_error, edge_config, running_edge

pytestmark = pytest.mark.integration
SECURITY = (
    "strict-transport-security",
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
)


@pytest.fixture(scope="module")
def edge(mesh_layout: mesh.Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    with running_edge(
        mesh_layout,
        tmp_path_factory.mktemp("edge"),
        max_request_bytes=64 * 1024,
    ) as edge:
        yield edge


# --- the mesh's own gateway ------------------------------------------------------------------


def test_mesh_starts_gateway_with_dev_key(mesh_layout: mesh.Layout) -> None:
    from ktrdr_client import KtrdrClient

    status = mesh.status(mesh_layout)
    assert status.get("gateway") == "SERVING"
    dev = keys.dev_key_path(mesh_layout.home)
    store = keys.store_path(mesh_layout.home)
    assert stat.S_IMODE(dev.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    key = dev.read_text().strip()
    assert key not in store.read_text()
    # The key never reaches a log.
    for log in mesh_layout.log_dir.glob("*.log"):
        assert key not in log.read_text(errors="replace"), log
    url = f"http://127.0.0.1:{mesh_layout.extra_port(0, 8080)}"
    with KtrdrClient(url, home=mesh_layout.home) as client:  # picks up the dev key file
        assert client.health()["status"] == "SERVING"
        assert "1h" in {t.code for t in client.timeframes()}


# --- routes ----------------------------------------------------------------------------------


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (verb.upper(), path, op) for path, ops in doc["paths"].items() for verb, op in ops.items()
    ]


def _concrete(path: str, op: dict[str, Any]) -> str:
    for p in op.get("parameters", []):
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", "zz_does_not_exist")
    return path


def test_every_openapi_route_answers_json(edge: Edge) -> None:
    with edge.client() as http:
        doc = http.get("/api/v1/openapi.json").json()
        ops = _operations(doc)
        assert len(ops) >= 39
        for verb, path, op in ops:
            url = _concrete(path, op)
            body = {} if "requestBody" in op else None
            resp = http.request(verb, url, json=body)
            declared = set(op["responses"])
            assert str(resp.status_code) in declared, (verb, path, resp.status_code, resp.text)
            assert resp.headers["content-type"].startswith("application/json"), (verb, path)
            for h in SECURITY:
                assert h in resp.headers, (verb, path, h)
            if resp.status_code == 200:
                lines = [json.loads(x) for x in resp.text.splitlines() if x.strip()]
                assert lines and all(isinstance(x, dict) for x in lines), (verb, path)
                continue
            err = assert_error(resp, resp.status_code)
            assert HTTP_FOR_GRPC[err["code"]] == resp.status_code, (verb, path, err)
            if resp.status_code == 501:
                assert err["details"][0]["code"] == "RUNTIME-005", (verb, path, err)


def test_grpc_error_mapping_keeps_stable_code(edge: Edge) -> None:
    with edge.client() as http:
        resp = http.get("/api/v1/data/NOPE_SYMBOL/1h/info")
    assert resp.status_code in (400, 404, 501), resp.text
    body = assert_error(resp, resp.status_code)
    assert body["message"].startswith("[" + body["details"][0]["code"] + "]")


def test_server_stream_is_ndjson(edge: Edge) -> None:
    with edge.client() as http:
        resp = http.post(
            "/api/v1/data/stream",
            json={
                "symbol": "EURUSD",
                "timeframe": "1h",
                "batchSize": 50,
                "startDate": "2017-04-19",
                "endDate": "2017-04-25",
            },
        )
    if resp.status_code != 200:  # no bundled data in this KTRDR_HOME: a proper JSON error
        assert_error(resp, resp.status_code)
        return
    lines = [json.loads(x) for x in resp.text.splitlines() if x.strip()]
    assert len(lines) >= 2
    assert all("bars" in x for x in lines)


def test_native_grpc_and_grpc_web_through_edge(edge: Edge) -> None:
    target = edge.url.removeprefix("http://")
    with grpc.insecure_channel(target) as channel:
        stub = data_pb2_grpc.DataServiceStub(channel)
        reply = stub.ListTimeframes(
            data_pb2.ListTimeframesRequest(),
            timeout=10,
            metadata=[("x-api-key", edge.keys["read"])],
        )
        assert any(t.code == "1h" for t in reply.timeframes)
        with pytest.raises(grpc.RpcError):
            stub.ListTimeframes(data_pb2.ListTimeframesRequest(), timeout=10)
    frame = b"\x00" + struct.pack(">I", 0)
    with edge.client("read", origin="http://localhost:5173") as http:
        resp = http.post(
            "/ktrdr.data.v1.DataService/ListTimeframes",
            content=frame,
            headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"},
        )
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/grpc-web")
    assert b"grpc-status:0" in resp.content
    assert resp.headers["access-control-allow-origin"] == "http://localhost:5173"


# --- security ------------------------------------------------------------------------------


def test_public_endpoints_need_no_key(edge: Edge) -> None:
    with edge.client(None) as http:
        assert http.get("/healthz").json()["status"] == "SERVING"
        assert http.get("/api/v1/health").status_code == 200
        doc = http.get("/api/v1/openapi.json")
        assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.")


def test_401_without_or_with_bad_key(edge: Edge) -> None:
    with edge.client(None) as http:
        assert_error(http.get("/api/v1/data/timeframes"), 401, "AUTH-001")
        assert_error(
            http.get("/api/v1/data/timeframes", headers={"x-api-key": "ktrdr_bad"}), 401, "AUTH-002"
        )
        assert_error(
            http.get("/api/v1/data/timeframes", headers={"authorization": "Bearer nope"}),
            401,
            "AUTH-002",
        )
        ok = http.get(
            "/api/v1/data/timeframes", headers={"authorization": f"Bearer {edge.keys['read']}"}
        )
        assert ok.status_code == 200


def test_roles(edge: Edge) -> None:
    with edge.client("read") as http:
        assert_error(http.post("/api/v1/models/train", json={"strategy": "x"}), 403, "AUTH-003")
        assert_error(http.delete("/api/v1/models/some_model"), 403, "AUTH-003")
        assert_error(http.post("/api/v1/data/load", json={"symbol": "EURUSD"}), 403, "AUTH-003")
        # Path tricks do not dodge the role check.
        assert http.post("//api/v1/models/train", json={}).status_code in (400, 403, 404)
        assert http.post("/api/v1/models/./train", json={}).status_code in (400, 403, 404)
        assert http.get("/api/v1/models/list").status_code not in (401, 403)
    with edge.client("read") as http:
        assert_error(http.post("/api/v1/strategies/x/backtest", json={}), 403, "AUTH-003")
    with edge.client("trade") as http:
        assert_error(http.post("/api/v1/strategies/x/walk-forward", json={}), 403, "AUTH-003")
        assert http.post("/api/v1/strategies/x:validate", json={}).status_code not in (401, 403)
        assert_error(http.post("/api/v1/models/train", json={}), 403, "AUTH-003")
        assert_error(http.post("/api/v1/trainings/zz:cancel", json={}), 403, "AUTH-003")
        assert http.post("/api/v1/data/load", json={}).status_code not in (401, 403)
    with edge.client("admin") as http:
        assert http.delete("/api/v1/models/zz_does_not_exist").status_code not in (401, 403)


def test_key_created_and_revoked_at_runtime(edge: Edge) -> None:
    key, record = edge.store.create("read", "runtime")
    time.sleep(1.5)  # the edge re-reads the store every second in this test config
    with edge.client(None, **{"x-api-key": key}) as http:
        assert http.get("/api/v1/data/timeframes").status_code == 200
        edge.store.revoke(record.key_id)
        time.sleep(1.5)
        assert_error(http.get("/api/v1/data/timeframes"), 401, "AUTH-002")


def test_rate_limit_per_key(mesh_layout: mesh.Layout, tmp_path: Path) -> None:
    store = keys.KeyStore(tmp_path / "api-keys")
    k1, _ = store.create("read")
    k2, _ = store.create("read")
    cfg = edge_config(mesh_layout, store.path, rate_limit_per_minute=5, rate_limit_burst=5)
    with running_envoy(cfg, tmp_path) as url, httpx.Client(base_url=url) as http:
        codes = [
            http.get("/api/v1/data/timeframes", headers={"x-api-key": k1}).status_code
            for _ in range(7)
        ]
        assert codes[:5] == [200] * 5 and codes[5:] == [429, 429], codes
        body = assert_error(
            http.get("/api/v1/data/timeframes", headers={"x-api-key": k1}), 429, "AUTH-004"
        )
        assert body["code"] == 8
        assert http.get("/api/v1/data/timeframes", headers={"x-api-key": k2}).status_code == 200
        assert http.get("/healthz").status_code == 200  # public: not limited


def test_cors(edge: Edge) -> None:
    pre = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-api-key",
    }
    with edge.client(None) as http:
        ok = http.options("/api/v1/data/load", headers={"origin": "http://localhost:5173", **pre})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "x-api-key" in ok.headers["access-control-allow-headers"]
        bad = http.options("/api/v1/data/load", headers={"origin": "https://evil.example", **pre})
        assert "access-control-allow-origin" not in bad.headers


def test_security_headers_on_every_kind_of_reply(edge: Edge) -> None:
    with edge.client(None) as http:
        replies = [
            http.get("/healthz"),
            http.get("/api/v1/data/timeframes"),
            http.get("/nope", headers={"x-api-key": edge.keys["read"]}),
            http.get("/api/v1/data/timeframes", headers={"x-api-key": edge.keys["read"]}),
        ]
    for resp in replies:
        for h in SECURITY:
            assert h in resp.headers, (resp.request.url, h)
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["x-content-type-options"] == "nosniff"


def test_413_on_oversized_body(edge: Edge) -> None:
    big = {"symbol": "EURUSD", "timeframe": "1h", "csvContent": "x" * (100 * 1024)}
    with edge.client("admin") as http:
        assert_error(http.post("/api/v1/data/import", json=big), 413, "GATEWAY-003")


@pytest.mark.parametrize(
    ("path", "payload", "needle"),
    [
        ("/api/v1/data/load", b'{"symbol": ', ""),
        ("/api/v1/data/load", b'{"symbol": "EURUSD", "timeframe": 7}', "timeframe"),
        ("/api/v1/data/load", b'{"symbol": "EURUSD", "bogus": 1}', "bogus"),
        ("/api/v1/data/load", b'{"mode": "LOAD_MODE_NOPE"}', "LOAD_MODE_NOPE"),
        (
            "/api/v1/indicators/calculate",
            b'{"indicator": "rsi", "data": [{"open": 1, "zz": 2}]}',
            "zz",
        ),
        ("/api/v1/fuzzy/membership", b'{"values": ["a"]}', ""),
        ("/api/v1/data/load", b"[1, 2]", ""),
    ],
)
def test_400_names_the_problem(edge: Edge, path: str, payload: bytes, needle: str) -> None:
    with edge.client("admin") as http:
        resp = http.post(path, content=payload, headers={"content-type": "application/json"})
    body = assert_error(resp, 400)
    assert needle in body["message"], body


def test_400_unknown_query_parameter_and_404_unknown_route(edge: Edge) -> None:
    with edge.client("read") as http:
        body = assert_error(http.get("/api/v1/indicators?bogus=1"), 400, "GATEWAY-001")
        assert "bogus" in body["message"]
        assert_error(http.get("/api/v1/no/such/route"), 404, "GATEWAY-002")
        assert_error(http.put("/api/v1/data/timeframes"), 404, "GATEWAY-002")
