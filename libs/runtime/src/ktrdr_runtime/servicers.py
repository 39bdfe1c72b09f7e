"""Helpers for servicers: RPCs whose behaviour is not built yet answer UNIMPLEMENTED clearly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from google.protobuf.descriptor import ServiceDescriptor

from ktrdr_core.errors import NotImplementedYetError, ValidationError

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


class ConfigFirstStream:
    """The request side of a bidirectional stream whose first message is its config.

    Every KTRDR stream (indicators, fuzzy, predictions) has a ``oneof payload`` with a
    ``config`` case that must come first and only first, then data batches::

        requests = ConfigFirstStream(request_iterator, code="IND-014", payload="bars")
        config = await requests.config()
        async for batch in requests.batches():
            ...
    """

    def __init__(self, requests: AsyncIterator[Any], *, code: str, payload: str) -> None:
        self._requests = requests.__aiter__()
        self._code = code
        self._payload = payload

    async def config(self) -> Any:
        """The config message; INVALID_ARGUMENT naming ``config`` when the stream lacks it."""
        try:
            first = await self._requests.__anext__()
        except StopAsyncIteration:
            raise ValidationError(
                self._code, "The stream ended before its config.", field="config"
            ) from None
        if first.WhichOneof("payload") != "config":
            raise ValidationError(
                self._code, "The first message of a stream must be its config.", field="config"
            )
        return first.config

    async def batches(self) -> AsyncIterator[Any]:
        """The payload of each following message, in order."""
        async for message in self._requests:
            kind = message.WhichOneof("payload")
            if kind == "config":
                raise ValidationError(
                    self._code, "Only the first message may be a config.", field="config"
                )
            if kind != self._payload:
                raise ValidationError(
                    self._code, f"A message carries no '{self._payload}'.", field=self._payload
                )
            yield getattr(message, self._payload)
