"""Through the Envoy edge, every built route answers exactly what the service answers over gRPC.

Each case sends one request both ways: REST/JSON through the real Envoy (with the dev key) and
gRPC straight to the service, and compares the REST body with the gRPC response in proto3 JSON.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from google.protobuf import json_format

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_runtime.channels import open_channel

pytestmark = pytest.mark.integration

SELECTION = {
    "symbol": "EURUSD",
    "timeframe": "1h",
    "start_date": "2017-09-01",
    "end_date": "2017-09-05",
}
MEMBERSHIPS = [
    {"name": "low", "type": "triangular", "parameters": [0, 30, 50], "shoulder": "left"},
    {"name": "high", "type": "gaussian", "parameters": [70, 10]},
]
RULES = {
    "inputs": [{"name": "rsi", "minimum": 0, "maximum": 100, "terms": MEMBERSHIPS}],
    "output": {
        "name": "signal",
        "minimum": -1,
        "maximum": 1,
        "terms": [
            {"name": "sell", "type": "triangular", "parameters": [-1, -1, 0]},
            {"name": "buy", "type": "triangular", "parameters": [0, 1, 1]},
        ],
    },
    "rules": ["IF rsi IS low THEN signal IS buy", "IF rsi IS high THEN signal IS sell"],
    "method": "INFERENCE_METHOD_MAMDANI",
}

# (service, stub class, rpc, HTTP method, path, JSON body or query, request message class)
CASES: list[tuple[str, Any, str, str, str, dict[str, Any], Any]] = [
    (
        "data",
        data_pb2_grpc.DataServiceStub,
        "ListSymbols",
        "GET",
        "/api/v1/data/symbols",
        {},
        data_pb2.ListSymbolsRequest,
    ),
    (
        "data",
        data_pb2_grpc.DataServiceStub,
        "ListTimeframes",
        "GET",
        "/api/v1/data/timeframes",
        {},
        data_pb2.ListTimeframesRequest,
    ),
    (
        "data",
        data_pb2_grpc.DataServiceStub,
        "LoadData",
        "POST",
        "/api/v1/data/load",
        SELECTION,
        data_pb2.LoadDataRequest,
    ),
    (
        "data",
        data_pb2_grpc.DataServiceStub,
        "GetDataInfo",
        "GET",
        "/api/v1/data/GOOG/1d/info",
        {"symbol": "GOOG", "timeframe": "1d"},
        data_pb2.GetDataInfoRequest,
    ),
    (
        "data",
        data_pb2_grpc.DataServiceStub,
        "AnalyzeGaps",
        "GET",
        "/api/v1/data/EURUSD/1h/gaps",
        {"symbol": "EURUSD", "timeframe": "1h", "include_expected": True},
        data_pb2.AnalyzeGapsRequest,
    ),
    (
        "data",
        data_pb2_grpc.DataServiceStub,
        "ExportBars",
        "GET",
        "/api/v1/data/EURUSD/1h/export",
        SELECTION,
        data_pb2.ExportBarsRequest,
    ),
    (
        "indicators",
        indicators_pb2_grpc.IndicatorServiceStub,
        "ListIndicators",
        "GET",
        "/api/v1/indicators",
        {"category": "momentum"},
        indicators_pb2.ListIndicatorsRequest,
    ),
    (
        "indicators",
        indicators_pb2_grpc.IndicatorServiceStub,
        "GetIndicatorInfo",
        "GET",
        "/api/v1/indicators/macd/info",
        {"name": "macd"},
        indicators_pb2.GetIndicatorInfoRequest,
    ),
    (
        "indicators",
        indicators_pb2_grpc.IndicatorServiceStub,
        "ValidateIndicator",
        "POST",
        "/api/v1/indicators/validate",
        {"indicator": "macd", "parameters": {"fast": 8}},
        indicators_pb2.ValidateIndicatorRequest,
    ),
    (
        "indicators",
        indicators_pb2_grpc.IndicatorServiceStub,
        "CalculateIndicator",
        "POST",
        "/api/v1/indicators/calculate",
        {
            "indicator": "bbands",
            "parameters": {"period": 10},
            "source": SELECTION,
            "compute_timeframe": "4h",
        },
        indicators_pb2.CalculateIndicatorRequest,
    ),
    (
        "fuzzy",
        fuzzy_pb2_grpc.FuzzyServiceStub,
        "EvaluateMembership",
        "POST",
        "/api/v1/fuzzy/membership",
        {"memberships": MEMBERSHIPS, "values": [0, 25, 50, 70, 100]},
        fuzzy_pb2.EvaluateMembershipRequest,
    ),
    (
        "fuzzy",
        fuzzy_pb2_grpc.FuzzyServiceStub,
        "CalculateFuzzy",
        "POST",
        "/api/v1/fuzzy/calculate",
        {**SELECTION, "strategy": "rsi_trend_eurusd_1h"},
        fuzzy_pb2.CalculateFuzzyRequest,
    ),
    (
        "fuzzy",
        fuzzy_pb2_grpc.FuzzyServiceStub,
        "GetFuzzySets",
        "GET",
        "/api/v1/fuzzy/EURUSD",
        {"symbol": "EURUSD"},
        fuzzy_pb2.GetFuzzySetsRequest,
    ),
    (
        "fuzzy",
        fuzzy_pb2_grpc.FuzzyServiceStub,
        "ListFuzzySets",
        "GET",
        "/api/v1/fuzzy/sets",
        {"strategy": "rsi_trend_eurusd_1h"},
        fuzzy_pb2.ListFuzzySetsRequest,
    ),
    (
        "fuzzy",
        fuzzy_pb2_grpc.FuzzyServiceStub,
        "Infer",
        "POST",
        "/api/v1/fuzzy/infer",
        {"system": RULES, "inputs": {"rsi": 20}},
        fuzzy_pb2.InferRequest,
    ),
]


def _query(path: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fields not bound in the path go to the query string (lowerCamelCase, as JSON)."""
    out = {}
    for name, value in fields.items():
        if "{" + name + "}" in path or str(value) in path.split("/"):
            continue
        camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
        out[camel] = str(value).lower() if isinstance(value, bool) else value
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[2] for c in CASES])
async def test_rest_through_envoy_equals_grpc_to_the_service(mesh_layout, case):
    service, stub_cls, rpc, method, path, fields, request_cls = case
    key = (mesh_layout.home / "gateway" / "dev-admin.key").read_text().strip()
    base = f"http://127.0.0.1:{mesh_layout.extra_port(0, 8080)}"
    async with httpx.AsyncClient(base_url=base, headers={"x-api-key": key}, timeout=60) as http:
        if method == "GET":
            reply = await http.get(path, params=_query(path, fields))
        else:
            reply = await http.post(path, json=fields)
    assert reply.status_code == 200, reply.text[:500]
    request = json_format.ParseDict(fields, request_cls())
    async with open_channel(mesh_layout.address(service), timeout_seconds=60) as channel:
        direct = await getattr(stub_cls(channel), rpc)(request)
    # The edge prints fields with default values too (always_print_primitive_fields).
    expected = json.loads(
        json_format.MessageToJson(direct, always_print_fields_with_no_presence=True)
    )
    assert reply.json() == expected


async def test_rest_stream_equals_grpc_stream(mesh_layout):
    key = (mesh_layout.home / "gateway" / "dev-admin.key").read_text().strip()
    body = {**SELECTION, "batch_size": 25}
    url = f"http://127.0.0.1:{mesh_layout.extra_port(0, 8080)}/api/v1/data/stream"
    reply = httpx.post(url, json=body, headers={"x-api-key": key}, timeout=60)
    assert reply.status_code == 200
    rest = [json.loads(line) for line in reply.text.splitlines() if line.strip()]
    async with open_channel(mesh_layout.address("data"), timeout_seconds=60) as channel:
        stub = data_pb2_grpc.DataServiceStub(channel)
        direct = [
            json.loads(json_format.MessageToJson(m, always_print_fields_with_no_presence=True))
            async for m in stub.StreamBars(
                json_format.ParseDict(body, data_pb2.StreamBarsRequest())
            )
        ]
    assert len(rest) == len(direct) > 1
    assert rest == direct
