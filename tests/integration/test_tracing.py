"""A request id follows one REST call through Envoy and across three services' logs."""

from __future__ import annotations

import json
import time

import httpx
import pytest

pytestmark = pytest.mark.integration


def _request_ids(log_file) -> set[str]:
    ids = set()
    for line in log_file.read_text().splitlines():
        if line.startswith("{"):
            ids.add(json.loads(line).get("request_id"))
    return ids


def test_request_id_follows_a_rest_call_across_fuzzy_indicators_and_data(mesh_layout):
    key = (mesh_layout.home / "gateway" / "dev-admin.key").read_text().strip()
    url = f"http://127.0.0.1:{mesh_layout.extra_port(0, 8080)}/api/v1/fuzzy/calculate"
    reply = httpx.post(
        url,
        headers={"x-api-key": key},
        timeout=60,
        json={
            "symbol": "EURUSD",
            "timeframe": "1h",
            "strategy": "rsi_trend_eurusd_1h",
            "start_date": "2017-09-01",
            "end_date": "2017-09-08",
        },
    )
    assert reply.status_code == 200, reply.text
    rid = reply.headers["x-request-id"]
    assert rid
    time.sleep(0.5)  # let the services flush their access lines
    for service in ("fuzzy", "indicators", "data"):
        assert rid in _request_ids(mesh_layout.log_dir / f"{service}.log"), service
    assert key not in "".join(p.read_text() for p in mesh_layout.log_dir.glob("*.log"))
