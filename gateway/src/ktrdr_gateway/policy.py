"""Who may call what: the role each RPC needs (``read`` < ``trade`` < ``admin``), from the contract.

Every RPC of every KTRDR service names its role with the ``(ktrdr.common.v1.role)`` method
option in its ``.proto``; the edge's policy (the auth filter's tables in the generated Envoy
config, the roles in the OpenAPI document) is read from the descriptor set here. An RPC without
a role is refused: generation fails with :class:`MissingRoleError` naming it, so a new RPC is
never open to every key by accident.
"""

from __future__ import annotations

from functools import cache

from google.protobuf import descriptor_pb2

from ktrdr.common.v1 import common_pb2
from ktrdr_gateway import contracts

ROLE_NAMES: dict[int, str] = {
    common_pb2.ROLE_READ: "read",
    common_pb2.ROLE_TRADE: "trade",
    common_pb2.ROLE_ADMIN: "admin",
}

# Paths that need no key (GET/HEAD only).
PUBLIC_PATHS: tuple[str, ...] = ("/healthz", "/api/v1/health", "/api/v1/openapi.json")


class MissingRoleError(ValueError):
    """An RPC of the contract names no role (or an unknown one)."""


def roles(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, str]:
    """gRPC path (``/pkg.Service/Method``) -> role, for every RPC of every KTRDR service.

    Raises
    ------
    MissingRoleError
        Naming every RPC without a ``(ktrdr.common.v1.role)`` option.
    """
    services = contracts.grpc_services(fds)
    out: dict[str, str] = {}
    missing: list[str] = []
    for fdp in fds.file:
        for svc in fdp.service:
            name = f"{fdp.package}.{svc.name}"
            if name not in services:
                continue
            for method in svc.method:
                path = f"/{name}/{method.name}"
                role = ROLE_NAMES.get(method.options.Extensions[common_pb2.role])
                if role is None:
                    missing.append(path)
                else:
                    out[path] = role
    if missing:
        raise MissingRoleError(
            "RPCs without a role: "
            + ", ".join(missing)
            + ". Add `option (ktrdr.common.v1.role) = ROLE_READ;` (or ROLE_TRADE, ROLE_ADMIN) "
            "to each in its .proto."
        )
    return out


@cache
def contract_roles() -> dict[str, str]:
    """:func:`roles` of the repository's protos (built once per process)."""
    return roles(contracts.load_descriptor_set())


def role_for(grpc_path: str) -> str:
    """The role a gRPC path (``/pkg.Service/Method``) needs.

    Raises
    ------
    MissingRoleError
        For a path that is no RPC of the contract.
    """
    try:
        return contract_roles()["/" + grpc_path.lstrip("/")]
    except KeyError:
        raise MissingRoleError(f"{grpc_path} is no RPC of the KTRDR contract") from None
