"""The OpenAPI document generated from the descriptor set."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from ktrdr_gateway import contracts, openapi


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi.build(contracts.load_descriptor_set())


def test_every_annotated_rpc_has_an_operation(doc: dict[str, Any]) -> None:
    routes = contracts.http_routes(contracts.load_descriptor_set())
    assert len(routes) >= 36
    services = {r.service for r in routes}
    assert services == {"data", "indicators", "fuzzy", "neural", "backtest", "ib_gateway"}
    for r in routes:
        op = doc["paths"][r.path][r.verb.lower()]
        assert op["operationId"].endswith(r.rpc)
        for status in ("200", "400", "401", "403", "404", "413", "429", "501", "503"):
            assert status in op["responses"], (r.path, status)


def test_path_and_query_parameters(doc: dict[str, Any]) -> None:
    info = doc["paths"]["/api/v1/data/{symbol}/{timeframe}/info"]["get"]
    assert [(p["name"], p["in"]) for p in info["parameters"]] == [
        ("symbol", "path"),
        ("timeframe", "path"),
    ]
    gaps = doc["paths"]["/api/v1/data/{symbol}/{timeframe}/gaps"]["get"]
    query = {p["name"] for p in gaps["parameters"] if p["in"] == "query"}
    assert query == {"startDate", "endDate", "includeExpected", "pageSize", "pageToken"}


def test_bodies_schemas_and_enums(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    load = doc["paths"]["/api/v1/data/load"]["post"]
    ref = load["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schemas[ref.rsplit("/", 1)[-1]]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == {
        *("symbol", "timeframe", "startDate", "endDate", "mode", "pageSize", "pageToken")
    }
    assert body["properties"]["symbol"]["example"] == "EURUSD"
    assert load["requestBody"]["content"]["application/json"]["example"]["symbol"] == "EURUSD"
    assert schemas["ktrdr.data.v1.LoadMode"]["enum"][0] == "LOAD_MODE_UNSPECIFIED"
    bar = schemas["ktrdr.common.v1.Bar"]["properties"]
    assert bar["timestamp"]["format"] == "date-time"
    assert bar["volume"]["format"] == "int64" and bar["volume"]["type"] == "string"
    # Path-bound fields are not part of the body.
    val = doc["paths"]["/api/v1/strategies/{strategy_id}:validate"]["post"]
    vref = val["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "strategyId" not in schemas[vref.rsplit("/", 1)[-1]]["properties"]
    for name, schema in schemas.items():
        for prop in schema.get("properties", {}):
            assert prop == "@type" or re.match(r"^[a-z][A-Za-z0-9]*$", prop), (name, prop)


def test_public_endpoints_and_errors(doc: dict[str, Any]) -> None:
    for path in ("/healthz", "/api/v1/health", "/api/v1/openapi.json"):
        assert doc["paths"][path]["get"]["security"] == []
    assert doc["components"]["securitySchemes"]["ApiKey"]["name"] == "x-api-key"
    err = doc["components"]["schemas"]["Error"]
    assert set(err["required"]) == {"code", "message"}
    stream = doc["paths"]["/api/v1/data/stream"]["post"]["responses"]["200"]["description"]
    assert "newline-delimited" in stream


def test_markdown_page(doc: dict[str, Any]) -> None:
    page = openapi.to_markdown(doc)
    assert "#### `POST /api/v1/models/train`" in page
    assert "Requires the `admin` role" in page


def test_committed_openapi_document_and_page_are_fresh(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    docs = Path(__file__).resolve().parents[3] / "docs" / "api"
    done = subprocess.run(
        [sys.executable, "-m", "ktrdr_gateway", "openapi", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for name in ("openapi.json", "README.md"):
        assert (tmp_path / name).read_text() == (docs / name).read_text(), (
            f"docs/api/{name} is stale: run `python -m ktrdr_gateway openapi`"
        )


def test_every_operation_has_an_example_that_fits_its_request_message(doc: dict[str, Any]) -> None:
    import importlib

    from google.protobuf import json_format

    from ktrdr_gateway import examples

    routes = contracts.http_routes(contracts.load_descriptor_set())
    assert {examples.grpc_path(r) for r in routes} == set(examples.EXAMPLES)
    for route in routes:
        example = examples.example_for(route)
        assert set(example.path) == set(route.path_params), route.path
        package, _, name = route.input_type.rpartition(".")
        domain = package.split(".")[1]
        module = importlib.import_module(f"ktrdr.{domain}.v1.{domain}_pb2")
        message = getattr(module, name)()
        # Strict parse: an unknown field or a bad enum name fails here, as the edge would.
        json_format.ParseDict(dict(example.body or {}), message)
        for key, value in example.query.items():
            json_format.ParseDict({key: value}, getattr(module, name)())
        if route.body == "*" and not route.path_params:
            assert example.body, f"{route.path} takes a body; its example needs one"
        if example.starts is not None:  # the stream it starts first: a POST route with a body
            started = next(r for r in routes if r.verb == "POST" and r.path == example.starts.path)
            assert started.server_streaming, started.path
            package, _, name = started.input_type.rpartition(".")
            domain = package.split(".")[1]
            module = importlib.import_module(f"ktrdr.{domain}.v1.{domain}_pb2")
            json_format.ParseDict(dict(example.starts.body), getattr(module, name)())
            assert f"${example.starts.variable}" in example.path.values()
        op = doc["paths"][route.path][route.verb.lower()]
        assert op["x-ktrdr-example"]["curl"] == examples.curl(route, example)


def test_examples_use_only_the_bundled_data_range() -> None:
    from ktrdr_gateway import examples

    text = json.dumps([dataclasses.asdict(e) for e in examples.EXAMPLES.values()])
    assert "neuro_mean_reversion" not in text
    for year in re.findall(r'"(\d{4})-\d\d-\d\d', text):
        assert 2004 <= int(year) <= 2018 or year == "2024", year  # 2024: the import's own bars
