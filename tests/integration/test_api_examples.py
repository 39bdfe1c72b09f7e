"""Every example of docs/api, sent as documented through the real edge, works.

An example may meet an operation that is not built yet (501 RUNTIME-005, said so in the
contract) or one that needs a connected TWS (503 from the IB gateway, said so in the docs); an
example that uses what such an operation would have answered (``$BACKTEST_ID`` from RunBacktest)
waits for it and is not sent. Anything else (a 4xx, another 5xx, an error line in a stream) is
a broken example.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ktrdr_cli import mesh
from ktrdr_gateway import contracts, examples

pytestmark = pytest.mark.integration


def _answer(resp: httpx.Response, streaming: bool) -> Any:
    if not streaming:
        return resp.json()
    lines = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
    errors = [line for line in lines if isinstance(line, dict) and "error" in line]
    assert not errors, f"the stream ended with an error: {errors[0]}"
    assert lines, "the stream sent nothing"
    return lines[-1]


def _code(resp: httpx.Response) -> str:
    try:
        details = resp.json().get("details") or [{}]
    except ValueError:
        return ""
    return str(details[0].get("code", ""))


def _start(client: httpx.Client, started: examples.Started) -> dict[str, str]:
    """Start an example's stream, take its variable from the first line, leave the work on."""
    with client.stream("POST", started.path, json=dict(started.body)) as resp:
        assert resp.status_code == 200, f"POST {started.path}: HTTP {resp.status_code}"
        first = json.loads(next(resp.iter_lines()))
    found = examples.captured(first, {started.variable: started.field})
    assert started.variable in found, f"POST {started.path}: no {started.field} in {first}"
    return found


def test_every_documented_example_works_through_the_edge(mesh_layout):
    key = (mesh_layout.home / "gateway" / "dev-admin.key").read_text().strip()
    routes = contracts.http_routes(contracts.load_descriptor_set())
    by_path = {examples.grpc_path(r): r for r in routes}
    variables: dict[str, str] = {}
    unbuilt: dict[str, str] = {}  # variable -> the unbuilt operation that would define it
    outcome: dict[str, str] = {}
    with httpx.Client(
        base_url=mesh.edge_url(mesh_layout), headers={"x-api-key": key}, timeout=120
    ) as client:
        for grpc_path, example in examples.EXAMPLES.items():
            route = by_path[grpc_path]
            waits_for = {unbuilt[v[1:]] for v in example.path.values() if v[1:] in unbuilt}
            if waits_for:
                outcome[grpc_path] = f"needs {', '.join(sorted(waits_for))} (not built yet)"
                continue
            if example.starts is not None:
                variables |= _start(client, example.starts)
            url = examples.url_path(route, example, variables)
            resp = client.request(
                route.verb, url, json=dict(example.body) if example.body is not None else None
            )
            label = f"{route.verb} {url}"
            if resp.status_code == 501 and _code(resp) == "RUNTIME-005":
                outcome[grpc_path] = "not built yet"
                unbuilt |= dict.fromkeys(example.captures, grpc_path)
                continue
            if resp.status_code == 503 and example.needs and route.service == "ib_gateway":
                outcome[grpc_path] = f"needs {example.needs}"
                continue
            assert resp.status_code == 200, f"{label}: HTTP {resp.status_code} {resp.text[:500]}"
            answer = _answer(resp, route.server_streaming)
            variables |= examples.captured(answer, example.captures)
            outcome[grpc_path] = "ok"
    # The data, indicator, fuzzy and neural services are built: every one of their examples ran.
    built = {
        p: outcome[p]
        for p, r in by_path.items()
        if r.service in ("data", "indicators", "fuzzy", "neural")
    }
    assert set(built.values()) == {"ok"}, built
    assert len(built) == 12 + 4 + 5 + 7  # data, indicators, fuzzy, neural operations
    # The backtest service is built too: strategies, runs, walk-forward, stored results.
    ran = {p: outcome[p] for p, r in by_path.items() if r.service == "backtest"}
    assert set(ran.values()) == {"ok"} and len(ran) == 10, ran


def test_the_imported_example_series_is_readable(mesh_layout):
    """The import example stores EXAMPLE 1d; the export of the same bars gives them back."""
    key = (mesh_layout.home / "gateway" / "dev-admin.key").read_text().strip()
    body = dict(examples.EXAMPLES["/ktrdr.data.v1.DataService/ImportBars"].body or {})
    with httpx.Client(
        base_url=mesh.edge_url(mesh_layout), headers={"x-api-key": key}, timeout=60
    ) as client:
        imported = client.post("/api/v1/data/import", json=body)
        assert imported.status_code == 200, imported.text
        exported = client.get("/api/v1/data/EXAMPLE/1d/export").json()
    assert exported["barCount"] == "3"
    closes = [row.split(",")[4] for row in exported["csvContent"].strip().splitlines()[1:]]
    assert [float(c) for c in closes] == [101.0, 100.8, 102.9]
