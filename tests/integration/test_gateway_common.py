"""Shared helpers of the gateway integration tests (no tests here)."""

from __future__ import annotations

import contextlib
import copy
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ktrdr_cli import mesh
from ktrdr_gateway import envoy_config, keys
from ktrdr_gateway.runner import running_envoy

CODE_RE = re.compile(r"^[A-Z][A-Z_]*-\d{3}$")
HTTP_FOR_GRPC = {
    3: 400,
    9: 400,
    11: 400,
    16: 401,
    7: 403,
    5: 404,
    6: 409,
    10: 409,
    8: 429,
    13: 500,
    2: 500,
    15: 500,
    12: 501,
    14: 503,
    4: 504,
}


@contextlib.contextmanager
def series_added_removed(layout: mesh.Layout) -> Iterator[None]:
    """Remove afterwards every stored symbol a test module added to the shared mesh."""
    root = layout.home / "data"
    before = {p.name for p in root.iterdir()} if root.is_dir() else set()
    try:
        yield
    finally:
        for path in root.iterdir() if root.is_dir() else ():
            if path.name not in before:
                shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def edge_config(layout: mesh.Layout, key_file: Path, **kw: Any) -> envoy_config.GatewayConfig:
    upstreams = {}
    for service in mesh.SERVICES:
        host, _, port = layout.address(service).rpartition(":")
        upstreams[service] = envoy_config.Upstream(host, int(port))
    return envoy_config.GatewayConfig(
        upstreams=upstreams,
        listen_port=free_port(),
        admin_port=free_port(),
        key_file=str(key_file),
        key_reload_seconds=1,
        **{"access_log": False, **kw},
    )


class Edge:
    """An Envoy of a test's own in front of a mesh, with one key per role."""

    def __init__(
        self, url: str, store: keys.KeyStore, keyset: dict[str, str], log: Path | None = None
    ) -> None:
        self.url = url
        self.store = store
        self.keys = keyset
        self.log = log

    def client(self, role: str | None = "admin", **headers: str) -> httpx.Client:
        h = dict(headers)
        if role:
            h["x-api-key"] = self.keys[role]
        return httpx.Client(base_url=self.url, headers=h, timeout=60)


@contextlib.contextmanager
def running_edge(layout: mesh.Layout, work: Path, **settings: Any) -> Iterator[Edge]:
    """Start an Envoy (``settings`` as in :class:`GatewayConfig`) with a key store in ``work``.

    The per-key rate limit is lifted unless ``settings`` set it (tests call a lot).
    """
    store = keys.KeyStore(work / "api-keys")
    keyset = {role: store.create(role)[0] for role in keys.ROLES}
    unlimited = {"rate_limit_per_minute": 10**7, "rate_limit_burst": 10**7}
    cfg = edge_config(layout, store.path, **{**unlimited, **settings})
    with running_envoy(cfg, work) as url:
        yield Edge(url, store, keyset, work / "envoy.log")


@contextlib.contextmanager
def mesh_with_series(home: Path, symbol: str, bars: int, *, seed: int) -> Iterator[mesh.Layout]:
    """A mesh of a test's own whose store holds a synthetic 1m series of ``bars`` bars."""
    from ktrdr_data.domain.storage import ParquetBarStore
    from ktrdr_data.domain.synthetic import SyntheticConfig, generate

    frame = generate(SyntheticConfig(bars=bars, timeframe="1m", seed=seed))
    ParquetBarStore(home / "data").write(symbol, "1m", frame)
    layout = mesh.Layout(home=home, base_port=mesh.find_free_base_port())
    mesh.up(layout, timeout=120)
    try:
        yield layout
    finally:
        mesh.down(layout, grace=15)


def infer_body(**changes: Any) -> dict[str, Any]:
    """A valid InferRequest JSON (a generalized bell among its terms); ``output`` updates the
    output variable, other keys the request."""
    from .test_rest_equivalence import RULES

    system = copy.deepcopy(RULES)
    system["inputs"][0]["terms"][1] = {"name": "high", "type": "gbell", "parameters": [20, 2, 100]}
    system["output"].update(changes.pop("output", {}))
    return {"system": system, "inputs": {"rsi": 20}, **changes}


def assert_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the JSON google.rpc.Status error the API promises."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert isinstance(body["code"], int) and body["message"]
    detail = body["details"][0]
    assert detail["@type"] == "type.googleapis.com/ktrdr.common.v1.ErrorDetail"
    assert CODE_RE.match(detail["code"]), detail
    if code:
        assert detail["code"] == code, body
    return body
