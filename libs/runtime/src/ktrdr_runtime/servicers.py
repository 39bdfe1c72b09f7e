"""Helpers for servicers: RPCs whose behaviour is not built yet answer UNIMPLEMENTED clearly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.descriptor import ServiceDescriptor

from ktrdr_runtime.errors import NotImplementedYetError

C = TypeVar("C", bound=type)


def _unimplemented(service: str, method: str, reason: str) -> Callable[..., Any]:
    async def handler(self: Any, request: Any, context: Any) -> Any:
        raise NotImplementedYetError(
            "RUNTIME-005", f"{service}.{method} is not available yet: {reason}"
        )

    handler.__name__ = method
    return handler


def fill_unimplemented(descriptor: ServiceDescriptor, reason: str) -> Callable[[C], C]:
    """Class decorator: every RPC the class does not define raises UNIMPLEMENTED with ``reason``.

    The generated base servicer's methods are synchronous and say only "Method not implemented!";
    this replaces them with async handlers whose message says what is missing and why.
    """

    def decorate(cls: C) -> C:
        for method in descriptor.methods:
            own = any(method.name in vars(k) for k in cls.__mro__ if not _is_generated(k))
            if not own:
                setattr(cls, method.name, _unimplemented(descriptor.name, method.name, reason))
        return cls

    return decorate


def _is_generated(klass: type) -> bool:
    return klass.__module__.endswith("_pb2_grpc") or klass is object
