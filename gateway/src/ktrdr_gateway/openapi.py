"""OpenAPI 3 document generated from the descriptor set (the same one Envoy transcodes with).

Field names are the proto3 JSON names (lowerCamelCase), enums are strings, int64 travels as a
decimal string (proto3 JSON), server streams are newline-delimited JSON.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import descriptor_pb2

from ktrdr_gateway import contracts, examples, policy
from ktrdr_runtime import services

F = descriptor_pb2.FieldDescriptorProto
SCALARS: dict[int, dict[str, Any]] = {
    F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    F.TYPE_FLOAT: {"type": "number", "format": "float"},
    F.TYPE_INT64: {"type": "string", "format": "int64", "pattern": r"^-?[0-9]{1,18}$"},
    F.TYPE_UINT64: {"type": "string", "format": "uint64", "pattern": r"^[0-9]{1,19}$"},
    F.TYPE_SINT64: {"type": "string", "format": "int64", "pattern": r"^-?[0-9]{1,18}$"},
    F.TYPE_FIXED64: {"type": "string", "format": "uint64", "pattern": r"^[0-9]{1,19}$"},
    F.TYPE_SFIXED64: {"type": "string", "format": "int64", "pattern": r"^-?[0-9]{1,18}$"},
    F.TYPE_INT32: {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1},
    F.TYPE_SINT32: {
        "type": "integer",
        "format": "int32",
        "minimum": -(2**31),
        "maximum": 2**31 - 1,
    },
    F.TYPE_SFIXED32: {
        "type": "integer",
        "format": "int32",
        "minimum": -(2**31),
        "maximum": 2**31 - 1,
    },
    F.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1},
    F.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1},
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "format": "byte"},
}
WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {
        "type": "string",
        "format": "date-time",
        "example": "2017-06-01T00:00:00Z",
    },
    "google.protobuf.Duration": {"type": "string", "example": "1.5s"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {"description": "Any JSON value."},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {"type": "object", "additionalProperties": True},
}
EXAMPLES: dict[str, Any] = {
    "symbol": "EURUSD",
    "timeframe": "1h",
    "startDate": "2017-06-01",
    "endDate": "2017-06-02",
    "strategy": examples.STRATEGY,
    "strategyId": examples.STRATEGY,
    "name": "rsi",
    "indicator": "rsi",
    "exchange": "IDEALPRO",
    "currency": "USD",
}
ERROR_RESPONSES = {
    "400": (
        "BadRequest",
        "Invalid request: malformed JSON, wrong types, unknown fields or "
        "query parameters, or a value the service rejects (INVALID_ARGUMENT, "
        "FAILED_PRECONDITION, OUT_OF_RANGE).",
    ),
    "401": ("Unauthenticated", "No API key, or an unknown/revoked one (AUTH-001, AUTH-002)."),
    "403": ("PermissionDenied", "The key's role may not call this operation (AUTH-003)."),
    "404": ("NotFound", "The named resource does not exist."),
    "409": ("Conflict", "ALREADY_EXISTS or ABORTED."),
    "413": ("PayloadTooLarge", "The request body exceeds the gateway limit (GATEWAY-003)."),
    "429": ("RateLimited", "Too many requests for this API key (AUTH-004)."),
    "500": ("ServerError", "INTERNAL, UNKNOWN or DATA_LOSS."),
    "501": ("NotImplemented", "The operation is in the contract but not built yet (RUNTIME-005)."),
    "503": ("Unavailable", "A service or its dependency is unavailable."),
    "504": ("Timeout", "A service did not answer in time."),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _field_schema(
    field: F,
    nested_maps: dict[str, descriptor_pb2.DescriptorProto],
    notes: dict[str, str],
    owner: str,
) -> dict[str, Any]:
    type_name = field.type_name.lstrip(".")
    if field.type == F.TYPE_MESSAGE and type_name in nested_maps:  # map<k, v>
        entry = nested_maps[type_name]
        value = _field_schema(entry.field[1], nested_maps, notes, owner)
        schema: dict[str, Any] = {"type": "object", "additionalProperties": value}
    else:
        if field.type == F.TYPE_MESSAGE:
            item = dict(WELL_KNOWN.get(type_name) or _ref(type_name))
        elif field.type == F.TYPE_ENUM:
            item = _ref(type_name)
        else:
            item = dict(SCALARS[field.type])
        schema = {"type": "array", "items": item} if field.label == F.LABEL_REPEATED else item
    note = notes.get(f"{owner}.{field.name}")
    if note:
        if "$ref" in schema:
            schema = {"allOf": [schema], "description": note}
        else:
            schema = {**schema, "description": note}
    return schema


def _message_schema(
    name: str,
    msg: descriptor_pb2.DescriptorProto,
    nested_maps: dict[str, descriptor_pb2.DescriptorProto],
    notes: dict[str, str],
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    props = {}
    for field in msg.field:
        if field.name in exclude:
            continue
        props[field.json_name] = _field_schema(field, nested_maps, notes, name)
        if (
            field.json_name in EXAMPLES
            and field.type == F.TYPE_STRING
            and field.label != F.LABEL_REPEATED
        ):  # a value, not a whole request: whole requests are the operations' examples
            props[field.json_name]["example"] = EXAMPLES[field.json_name]
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if notes.get(name):
        schema["description"] = notes[name]
    return schema


def _error_schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "description": "google.rpc.Status as JSON: every error the API returns.",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "integer", "description": "The gRPC status code."},
                "message": {"type": "string", "example": "[DATA-001] Unknown symbol 'EURUSDX'."},
                "details": {"type": "array", "items": _ref("ErrorDetailAny")},
            },
        },
        "ErrorDetailAny": {
            "type": "object",
            "description": "A ktrdr.common.v1.ErrorDetail packed as Any.",
            "properties": {
                "@type": {
                    "type": "string",
                    "example": "type.googleapis.com/ktrdr.common.v1.ErrorDetail",
                },
                "code": {
                    "type": "string",
                    "description": "Stable error code.",
                    "example": "DATA-001",
                },
                "message": {"type": "string"},
                "field": {"type": "string"},
                "suggestions": {"type": "array", "items": {"type": "string"}},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    }


def build(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    """The OpenAPI 3.0 document for every annotated RPC plus the public edge endpoints."""
    notes = contracts.comments(fds)
    msgs = contracts.messages(fds)
    nested_maps = {n: m for n, m in msgs.items() if m.options.map_entry}
    schemas: dict[str, Any] = _error_schemas()
    needed: set[str] = set()
    enums = contracts.enums(fds)

    def need(type_name: str) -> None:
        if type_name in needed or type_name in WELL_KNOWN or type_name in nested_maps:
            if type_name in nested_maps:
                for f in nested_maps[type_name].field:
                    if f.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
                        need(f.type_name.lstrip("."))
            return
        needed.add(type_name)
        if type_name in msgs:
            for f in msgs[type_name].field:
                if f.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
                    need(f.type_name.lstrip("."))

    paths: dict[str, dict[str, Any]] = {}
    role = policy.roles(fds)
    for route in contracts.http_routes(fds):
        need(route.output_type)
        req = msgs[route.input_type]
        path_fields = set(route.path_params)
        op: dict[str, Any] = {
            "operationId": f"{route.grpc_service.split('.')[-1]}_{route.rpc}",
            "tags": [route.service],
            "summary": route.rpc,
            "description": (route.comment + "\n\n" if route.comment else "")
            + f"gRPC: `{route.grpc_path}`. Requires the `{role[route.grpc_path]}` "
            "role or higher.",
            "parameters": [],
        }
        fields = {f.name: f for f in req.field}
        example = examples.example_for(route)
        op["x-ktrdr-example"] = {"curl": examples.curl(route, example)}
        if example.needs:
            op["x-ktrdr-example"]["needs"] = example.needs
        for p in route.path_params:
            schema = (
                _field_schema(fields[p], nested_maps, notes, route.input_type)
                if p in fields
                else {"type": "string"}
            )
            schema = {k: v for k, v in schema.items() if k != "description"}
            if schema.get("type") == "string":
                schema["pattern"] = r"^[A-Za-z0-9_.\-]+$"
            path_param: dict[str, Any] = {"name": p, "in": "path", "required": True}
            path_param["schema"] = schema
            if not example.path[p].startswith("$"):  # $VARIABLE: from an earlier answer
                path_param["example"] = example.path[p]
            op["parameters"].append(path_param)
        if route.body == "*":
            name = route.input_type
            if path_fields:
                name = f"{route.input_type}.Body"
                schemas[name] = _message_schema(
                    route.input_type, req, nested_maps, notes, frozenset(path_fields)
                )
                for f in req.field:  # the body's own types (an enum only it uses, too)
                    if f.name not in path_fields and f.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
                        need(f.type_name.lstrip("."))
            else:
                need(route.input_type)
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref(name), "example": example.body or {}}
                },
            }
        elif not route.body:
            for f in req.field:
                if f.name in path_fields or f.type == F.TYPE_MESSAGE:
                    continue
                schema = _field_schema(f, nested_maps, notes, route.input_type)
                param: dict[str, Any] = {
                    "name": f.json_name,
                    "in": "query",
                    "required": False,
                    "schema": schema,
                }
                if f.type == F.TYPE_ENUM:
                    need(f.type_name.lstrip("."))
                if f.label == F.LABEL_REPEATED:
                    param["explode"] = True
                if f.json_name in example.query:
                    param["example"] = example.query[f.json_name]
                op["parameters"].append(param)
        ok_desc = (
            "Success."
            if not route.server_streaming
            else (
                "A stream: one JSON object per line (newline-delimited JSON), each a "
                f"`{route.output_type}`. An error after the first message ends the stream."
            )
        )
        op["responses"] = {
            "200": {
                "description": ok_desc,
                "content": {"application/json": {"schema": _ref(route.output_type)}},
            }
        }
        for status in ("400", "401", "403", "404", "409", "413", "429", "500", "501", "503", "504"):
            op["responses"][status] = {
                "$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"
            }
        paths.setdefault(route.path, {})[route.verb.lower()] = op

    for name in sorted(needed):
        if name in msgs:
            schemas[name] = _message_schema(name, msgs[name], nested_maps, notes)
        elif name in enums:
            schema = {"type": "string", "enum": [v.name for v in enums[name].value]}
            if notes.get(name):
                schema["description"] = notes[name]
            schemas[name] = schema

    health = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "example": "SERVING"},
            "service": {"type": "string"},
        },
    }
    schemas["Health"] = health
    for path, summary in (("/healthz", "Edge liveness"), ("/api/v1/health", "Edge health")):
        paths[path] = {
            "get": {
                "operationId": "Gateway_" + ("Healthz" if path == "/healthz" else "Health"),
                "tags": ["gateway"],
                "summary": summary,
                "security": [],
                "responses": {
                    "200": {
                        "description": "The edge is serving.",
                        "content": {"application/json": {"schema": _ref("Health")}},
                    }
                },
            }
        }
    paths["/api/v1/openapi.json"] = {
        "get": {
            "operationId": "Gateway_OpenApi",
            "tags": ["gateway"],
            "security": [],
            "summary": "This OpenAPI document",
            "responses": {
                "200": {
                    "description": "The OpenAPI 3 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "KTRDR API",
            "version": "v1",
            "description": (
                "REST/JSON API of the KTRDR neuro-fuzzy trading system, served by the Envoy "
                "edge, which transcodes to the gRPC services. Generated from protos/ by "
                "ktrdr_gateway.openapi; do not edit. Authenticate with `x-api-key: <key>` "
                "or `Authorization: Bearer <key>`. Errors are google.rpc.Status JSON whose "
                "details carry a ktrdr.common.v1.ErrorDetail with a stable code. Rate limit: "
                "per key (default 100 requests/minute)."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "local mesh"}],
        "security": [{"ApiKey": []}, {"Bearer": []}],
        "tags": [{"name": s} for s in (*services.NAMES, "gateway")],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": dict(sorted(schemas.items())),
            "responses": {
                name: {
                    "description": desc,
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for name, desc in ERROR_RESPONSES.values()
            },
        },
    }


def _example_lines(example: dict[str, str] | None) -> list[str]:
    if not example:
        return []
    needs = f" (needs {example['needs']})" if example.get("needs") else ""
    return [f"Example{needs}:", "", "```sh", example["curl"], "```", ""]


def to_markdown(doc: dict[str, Any]) -> str:
    """A readable page for people: every operation, its parameters, body and roles."""
    lines = [
        f"# {doc['info']['title']} ({doc['info']['version']})",
        "",
        "Generated from `protos/` by `python -m ktrdr_gateway openapi` — do not edit; the "
        "machine-readable document is [openapi.json](openapi.json) (also served at "
        "`GET /api/v1/openapi.json`).",
        "",
        doc["info"]["description"],
        "",
        "## Errors",
        "",
        "| HTTP | Meaning |",
        "|---|---|",
    ]
    for status, (_, desc) in ERROR_RESPONSES.items():
        lines.append(f"| {status} | {desc} |")
    lines += [
        "",
        "Example error body:",
        "",
        "```json",
        json.dumps(
            {
                "code": 16,
                "message": "[AUTH-001] An API key is required ...",
                "details": [
                    {
                        "@type": "type.googleapis.com/ktrdr.common.v1.ErrorDetail",
                        "code": "AUTH-001",
                        "message": "An API key is required ...",
                        "field": "x-api-key",
                        "suggestions": [],
                        "metadata": {},
                    }
                ],
            },
            indent=2,
        ),
        "```",
        "",
        "## Examples",
        "",
        "Every operation below has an example that works as written against a local mesh "
        "(`ktrdr mesh up`) on the bundled data: EURUSD 1h from 2017-04-19 to 2018-02-07, GOOG "
        "1d from 2004-08-19 to 2013-03-01, and the strategies in `strategies/`. They come from "
        "`gateway/src/ktrdr_gateway/examples.py` and a test runs each one through the edge. "
        "Set the key first:",
        "",
        "```sh",
        "KEY=$(cat ~/.ktrdr/gateway/dev-admin.key)",
        "```",
        "",
        "## Operations",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, ops in doc["paths"].items():
        for verb, op in ops.items():
            by_tag.setdefault(op["tags"][0], []).append((verb.upper(), path, op))
    for tag in [t["name"] for t in doc["tags"]]:
        if tag not in by_tag:
            continue
        lines += [f"### {tag}", ""]
        for verb, path, op in by_tag[tag]:
            lines += [f"#### `{verb} {path}`", "", op.get("description") or op["summary"], ""]
            if op.get("security") == []:
                lines += ["No API key needed.", ""]
            params = op.get("parameters") or []
            if params:
                lines += ["| Parameter | In | Type | Description |", "|---|---|---|---|"]
                for p in params:
                    s = p["schema"]
                    typ = s.get("type") or s.get("$ref", "").rsplit("/", 1)[-1]
                    if typ == "array":
                        typ = f"array of {s['items'].get('type', 'value')}"
                    desc = str(s.get("description", "")).replace("|", "\\|")
                    lines.append(f"| `{p['name']}` | {p['in']} | {typ} | {desc} |")
                lines.append("")
            body = op.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                lines += [f"Body: `{ref}` (JSON).", ""]
            lines += _example_lines(op.get("x-ktrdr-example"))
            ok = op["responses"]["200"]
            ref = ok["content"]["application/json"]["schema"].get("$ref", "")
            lines += [f"Response: `{ref.rsplit('/', 1)[-1] or 'object'}`. {ok['description']}", ""]
    return "\n".join(lines) + "\n"
