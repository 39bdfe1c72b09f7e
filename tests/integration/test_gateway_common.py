"""Shared helpers of the gateway integration tests (no tests here)."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ktrdr_cli import mesh
from ktrdr_gateway import envoy_config

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
