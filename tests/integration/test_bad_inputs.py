"""Bad input on every route through the real edge: a 4xx with a stable code, never a 5xx.

Every operation of the OpenAPI document the edge serves is called with one field at a time
set to a boundary value (huge, negative, empty, 10,000 characters, out-of-range dates, unicode,
undefined enum numbers, huge lists), in the path, the query string or the JSON body (and one
level into nested objects), starting from a valid request. An answer may be a success (the value
is acceptable) or a 4xx carrying a stable error code; a 5xx fails, except 501 ``RUNTIME-005``
from the services not built yet.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from ktrdr_cli import mesh

from .test_gateway_common import CODE_RE, infer_body, running_edge, series_added_removed

pytestmark = pytest.mark.integration

LONG = "x" * 10_000
UNICODE = "Ünïcødé ☃ 𝔘 \u202e\u0000 ٣"
STRINGS = [
    ("empty", ""),
    ("10k", LONG),
    ("unicode", UNICODE),
    ("negative", "-1"),
    ("traversal", "../../etc/passwd"),
    ("spaces", "   "),
]
DATES = [
    ("date-0001", "0001-01-01"),
    ("date-9999", "9999-12-31"),
    ("date-9999-time", "9999-12-31T23:59:59Z"),
    ("date-invalid", "2017-02-30"),
    ("date-negative", "-001-01-01"),
]
INTEGERS = [
    ("negative", -1),
    ("zero", 0),
    ("int32-max", 2**31 - 1),
    ("int64-max", 2**63 - 1),
    ("int64-min", -(2**63)),
    ("too-big", 10**30),
]
NUMBERS = [
    ("negative", -1.0),
    ("huge", 1e308),
    ("minus-huge", -1e308),
    ("tiny", 1e-300),
    ("zero", 0.0),
]
# Routes whose RPCs answer UNIMPLEMENTED RUNTIME-005 until their issue is built (the strategy
# RPCs of the backtest service, issue 12's second half).
UNBUILT = ("strategies",)

# Valid starting points (on the bundled data); other operations start from their example.
BASES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/data/load"): {
        "symbol": "EURUSD",
        "timeframe": "1h",
        "startDate": "2017-06-01",
        "endDate": "2017-06-08",
    },
    ("POST", "/api/v1/data/stream"): {
        "symbol": "EURUSD",
        "timeframe": "1h",
        "startDate": "2017-06-01",
        "endDate": "2017-06-03",
    },
    ("POST", "/api/v1/data/import"): {
        "symbol": "ZZBADINPUT",
        "timeframe": "1h",
        "csvContent": "Date,Open,High,Low,Close,Volume\n2017-06-01 00:00,1,2,0.5,1.5,10\n",
    },
    ("POST", "/api/v1/indicators/calculate"): {
        "indicator": "sma",
        "parameters": {"period": 3},
        "source": {
            "symbol": "EURUSD",
            "timeframe": "1h",
            "startDate": "2017-06-01",
            "endDate": "2017-06-08",
        },
    },
    ("POST", "/api/v1/fuzzy/membership"): {
        "values": [10.0, 20.0],
        "memberships": [{"name": "low", "type": "triangular", "parameters": [0, 10, 20]}],
    },
    ("POST", "/api/v1/fuzzy/calculate"): {
        "symbol": "EURUSD",
        "timeframe": "1h",
        "strategy": "rsi_trend_eurusd_1h",
        "startDate": "2017-06-01",
        "endDate": "2017-06-08",
    },
    ("POST", "/api/v1/fuzzy/infer"): infer_body(),
}
PATH_VALUES = {"symbol": "EURUSD", "timeframe": "1h", "name": "rsi"}
# Writes (replace, delete, metadata) go to this module's own symbol, never to the bundled ones.
WRITE_PATH_VALUES = {**PATH_VALUES, "symbol": "ZZBADINPUT"}


@pytest.fixture(scope="module")
def http(mesh_layout: mesh.Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with (
        series_added_removed(mesh_layout),
        running_edge(
            mesh_layout,
            tmp_path_factory.mktemp("bad-inputs"),
        ) as edge,
        edge.client() as client,
    ):
        yield client


def _doc() -> dict[str, Any]:
    from ktrdr_gateway import contracts, openapi

    return openapi.build(contracts.load_descriptor_set())


DOC = _doc()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in schema:
            schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            return schema


def _values(name: str, schema: dict[str, Any], depth: int = 0) -> list[tuple[str, Any]]:
    """Boundary values for one field of the given schema."""
    schema = _resolve(schema)
    kind, fmt = schema.get("type"), schema.get("format", "")
    if "enum" in schema:
        return [("enum-99", 99), ("enum-unknown", "NOT_A_VALUE"), ("enum-negative", -1)]
    if kind == "string" and fmt in ("int64", "uint64"):
        return [(label, str(v)) for label, v in INTEGERS] + [("not-a-number", "12abc")]
    if kind == "string":
        extra = DATES if "date" in name.lower() else []
        return [*STRINGS, *extra]
    if kind == "integer":
        return INTEGERS
    if kind == "number":
        return NUMBERS
    if kind == "boolean":
        return [("string", "yes")]
    if kind == "array":
        items = _resolve(schema.get("items", {}))
        item_kind = items.get("type")
        out: list[tuple[str, Any]] = [("empty-list", [])]
        if item_kind == "number":
            out += [("100k-items", [1.0] * 100_000), ("huge-item", [1e308])]
        elif item_kind == "string":
            out += [("10k-item", [LONG]), ("1k-items", ["a"] * 1000)]
        elif item_kind == "object" or "properties" in items:
            out += [("empty-object-item", [{}]), ("1k-empty-items", [{}] * 1000)]
        return out
    if schema.get("additionalProperties") not in (None, False) and not schema.get("properties"):
        return [("10k-key", {LONG: 1}), ("unicode-key", {UNICODE: 1}), ("empty-key", {"": 1})]
    if kind == "object" or "properties" in schema:
        return [("empty-object", {}), ("not-an-object", "x")]
    return [("null", None)]


def _cases(op: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(where, field, label) -> request pieces: every variant of every field of one operation."""
    cases: list[tuple[str, str, Any]] = []
    for param in op.get("parameters", []):
        for label, value in _values(param["name"], param.get("schema", {})):
            cases.append((param["in"], param["name"], (label, value)))
    body = op.get("requestBody")
    if body:
        schema = _resolve(body["content"]["application/json"]["schema"])
        for field, sub in schema.get("properties", {}).items():
            for label, value in _values(field, sub):
                cases.append(("body", field, (label, value)))
            nested = _resolve(sub)
            for inner, inner_schema in nested.get("properties", {}).items():
                for label, value in _values(inner, inner_schema):
                    cases.append(("body", f"{field}.{inner}", (label, value)))
    return cases


def _base(verb: str, path: str, op: dict[str, Any]) -> dict[str, Any]:
    if (verb, path) in BASES:
        return copy.deepcopy(BASES[(verb, path)])
    body = op.get("requestBody")
    if not body:
        return {}
    example = _resolve(body["content"]["application/json"]["schema"]).get("example", {})
    text = (
        json.dumps(example).replace("2024-01-01", "2017-06-01").replace("2024-02-01", "2017-06-08")
    )
    return json.loads(text)


def _request(verb: str, path: str, op: dict[str, Any], where: str, field: str, value: Any) -> Any:
    values = WRITE_PATH_VALUES if verb in ("PUT", "DELETE") else PATH_VALUES
    params = {p["name"]: values.get(p["name"], "zz_nope") for p in op.get("parameters", [])}
    query: dict[str, Any] = {}
    body = _base(verb, path, op) if op.get("requestBody") else None
    if where == "path":
        params[field] = value
    elif where == "query":
        query[field] = value
    else:
        assert body is not None
        node = body
        parts = field.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    concrete = path
    for p in op.get("parameters", []):
        if p["in"] == "path":
            concrete = concrete.replace(
                "{" + p["name"] + "}", quote(str(params[p["name"]]), safe="")
            )
    query_string = "&".join(
        f"{quote(k, safe='')}={quote(json.dumps(v) if not isinstance(v, str) else v, safe='')}"
        for k, v in query.items()
    )
    return verb, concrete + (f"?{query_string}" if query_string else ""), body


def _problem(resp: httpx.Response, path: str) -> str | None:
    """Why an answer breaks the rule, or None."""
    status = resp.status_code
    if status < 400:
        return None
    try:
        body = resp.json()
        code = body["details"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        return f"{status} without a JSON error body: {resp.text[:200]!r}"
    if not CODE_RE.match(str(code)):
        return f"{status} with an unstable code {code!r}"
    if status < 500:
        return None
    if status == 501 and code == "RUNTIME-005" and path.split("/")[3] in UNBUILT:
        return None
    return f"{status} {code}: {body.get('message', '')[:200]}"


OPERATIONS = [
    (verb.upper(), path, op)
    for path, ops in DOC["paths"].items()
    for verb, op in ops.items()
    if op.get("parameters") or op.get("requestBody")
]


@pytest.mark.parametrize(
    ("verb", "path", "op"), OPERATIONS, ids=[f"{v} {p}" for v, p, _ in OPERATIONS]
)
def test_boundary_values_give_a_4xx_with_a_stable_code_never_a_5xx(http, verb, path, op):
    problems = []
    cases = _cases(op)
    for where, field, (label, value) in cases:
        method, url, body = _request(verb, path, op, where, field, value)
        resp = (
            http.request(method, url, json=body) if body is not None else http.request(method, url)
        )
        problem = _problem(resp, path)
        if problem is None:
            continue
        line = f"{where} {field}={label}: {problem}"
        problems.append(line)
    assert not problems, f"{verb} {path} ({len(cases)} cases):\n  " + "\n  ".join(problems)
