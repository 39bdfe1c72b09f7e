"""The API contracts as the gateway sees them: the descriptor set built from ``protos/``.

Everything the edge serves (Envoy routes, transcoder, roles, OpenAPI) is derived from the
``google.api.http`` annotations read here, so a new RPC needs no gateway change.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import tempfile
from functools import cache
from pathlib import Path

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from ktrdr_runtime import services

REPO_ROOT = Path(__file__).resolve().parents[3]
PROTOS = REPO_ROOT / "protos"
GEN_PROTOS = REPO_ROOT / "scripts" / "gen_protos.py"

# gRPC package -> mesh service name, from the one service list.
SERVICE_OF_PACKAGE = services.by_proto_package()


@dataclasses.dataclass(frozen=True)
class HttpRoute:
    """One REST route bound to one RPC by a ``google.api.http`` annotation."""

    service: str  # mesh service name, e.g. "data"
    grpc_service: str  # e.g. "ktrdr.data.v1.DataService"
    rpc: str  # e.g. "LoadData"
    verb: str  # "GET", "POST", ...
    path: str  # template, e.g. "/api/v1/data/{symbol}/{timeframe}/info"
    body: str  # "" (no body), "*" or a field name
    input_type: str  # fully-qualified message name, no leading dot
    output_type: str
    server_streaming: bool
    comment: str

    @property
    def grpc_path(self) -> str:
        return f"/{self.grpc_service}/{self.rpc}"

    @property
    def path_params(self) -> list[str]:
        return [p.split("=")[0] for p in re.findall(r"{([^}]+)}", self.path)]

    def path_regex(self) -> str:
        """An anchored regex (RE2 and Lua-pattern friendly) matching concrete paths."""
        out, pos = "", 0
        for m in re.finditer(r"{[^}]+}", self.path):
            out += re.escape(self.path[pos : m.start()]) + "[^/]+"
            pos = m.end()
        return "^" + out + re.escape(self.path[pos:]) + "$"

    def lua_pattern(self) -> str:
        """The path as an anchored Lua pattern."""
        out, pos = "", 0
        for m in re.finditer(r"{[^}]+}", self.path):
            out += _lua_escape(self.path[pos : m.start()]) + "[^/]+"
            pos = m.end()
        return "^" + out + _lua_escape(self.path[pos:]) + "$"


def _lua_escape(text: str) -> str:
    return re.sub(r"([%^$().\[\]*+\-?])", r"%\1", text)


def build_descriptor_set(out: Path) -> Path:
    """Run protoc (via scripts/gen_protos.py) to write the descriptor set with imports."""
    spec = importlib.util.spec_from_file_location("ktrdr_gen_protos", GEN_PROTOS)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"{GEN_PROTOS} not found: the gateway needs the repository")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.descriptor_set(out)
    return out


@cache
def descriptor_bytes() -> bytes:
    """The serialized FileDescriptorSet of every proto (built once per process)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = build_descriptor_set(Path(tmp) / "ktrdr.pb")
        return path.read_bytes()


def load_descriptor_set(data: bytes | None = None) -> descriptor_pb2.FileDescriptorSet:
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(descriptor_bytes() if data is None else data)
    return fds


def _comments(fdp: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    out = {}
    for loc in fdp.source_code_info.location:
        text = (loc.leading_comments or loc.trailing_comments).strip()
        if text:
            out[tuple(loc.path)] = " ".join(line.strip() for line in text.splitlines())
    return out


def comments(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, str]:
    """Comment text per fully-qualified element: messages, fields (``Msg.field``), enums."""
    out: dict[str, str] = {}
    for fdp in fds.file:
        texts = _comments(fdp)
        pkg = fdp.package

        def walk(
            msgs: object,
            prefix: str,
            path: tuple[int, ...],
            texts: dict[tuple[int, ...], str] = texts,
        ) -> None:
            for i, msg in enumerate(msgs):  # type: ignore[arg-type]
                name = f"{prefix}.{msg.name}"
                mpath = (*path, i)
                if mpath in texts:
                    out[name] = texts[mpath]
                for j, field in enumerate(msg.field):
                    if (*mpath, 2, j) in texts:
                        out[f"{name}.{field.name}"] = texts[(*mpath, 2, j)]
                walk(msg.nested_type, name, (*mpath, 3), texts)

        walk(fdp.message_type, pkg, (4,))
        for i, enum in enumerate(fdp.enum_type):
            if (5, i) in texts:
                out[f"{pkg}.{enum.name}"] = texts[(5, i)]
        for si, svc in enumerate(fdp.service):
            if (6, si) in texts:
                out[f"{pkg}.{svc.name}"] = texts[(6, si)]
            for mi, method in enumerate(svc.method):
                if (6, si, 2, mi) in texts:
                    out[f"{pkg}.{svc.name}.{method.name}"] = texts[(6, si, 2, mi)]
    return out


def grpc_services(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, str]:
    """Fully-qualified gRPC service name -> mesh service name, for every KTRDR service."""
    out = {}
    for fdp in fds.file:
        service = SERVICE_OF_PACKAGE.get(fdp.package)
        if service:
            for svc in fdp.service:
                out[f"{fdp.package}.{svc.name}"] = service
    return out


def streaming_methods(fds: descriptor_pb2.FileDescriptorSet) -> list[str]:
    """gRPC paths of every method with a streamed request or response."""
    out = []
    for fdp in fds.file:
        for svc in fdp.service:
            for m in svc.method:
                if m.client_streaming or m.server_streaming:
                    out.append(f"/{fdp.package}.{svc.name}/{m.name}")
    return out


def http_routes(fds: descriptor_pb2.FileDescriptorSet) -> list[HttpRoute]:
    """Every REST route declared by ``google.api.http`` annotations (incl. additional ones)."""
    routes = []
    notes = comments(fds)
    for fdp in fds.file:
        service = SERVICE_OF_PACKAGE.get(fdp.package)
        if service is None:
            continue
        for svc in fdp.service:
            for m in svc.method:
                if not m.options.HasExtension(annotations_pb2.http):
                    continue
                rule = m.options.Extensions[annotations_pb2.http]
                for r in [rule, *rule.additional_bindings]:
                    verb, path = _verb_path(r)
                    routes.append(
                        HttpRoute(
                            service=service,
                            grpc_service=f"{fdp.package}.{svc.name}",
                            rpc=m.name,
                            verb=verb,
                            path=path,
                            body=r.body,
                            input_type=m.input_type.lstrip("."),
                            output_type=m.output_type.lstrip("."),
                            server_streaming=m.server_streaming,
                            comment=notes.get(f"{fdp.package}.{svc.name}.{m.name}", ""),
                        )
                    )
    return routes


def _verb_path(rule: http_pb2.HttpRule) -> tuple[str, str]:
    kind = rule.WhichOneof("pattern")
    if kind == "custom":
        return rule.custom.kind.upper(), rule.custom.path
    return str(kind).upper(), getattr(rule, str(kind))


def messages(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, descriptor_pb2.DescriptorProto]:
    out: dict[str, descriptor_pb2.DescriptorProto] = {}

    def walk(msgs: object, prefix: str) -> None:
        for msg in msgs:  # type: ignore[attr-defined]
            name = f"{prefix}.{msg.name}"
            out[name] = msg
            walk(msg.nested_type, name)

    for fdp in fds.file:
        walk(fdp.message_type, fdp.package)
    return out


def enums(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, descriptor_pb2.EnumDescriptorProto]:
    out: dict[str, descriptor_pb2.EnumDescriptorProto] = {}

    def walk(msgs: object, prefix: str) -> None:
        for msg in msgs:  # type: ignore[attr-defined]
            for e in msg.enum_type:
                out[f"{prefix}.{msg.name}.{e.name}"] = e
            walk(msg.nested_type, f"{prefix}.{msg.name}")

    for fdp in fds.file:
        for e in fdp.enum_type:
            out[f"{fdp.package}.{e.name}"] = e
        walk(fdp.message_type, fdp.package)
    return out
