"""Server and client interceptors: request id, access log, metrics, error mapping, deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc
import structlog
from grpc import aio
from prometheus_client import Counter, Gauge, Histogram

from ktrdr_core import errors
from ktrdr_runtime.context import REQUEST_ID_HEADER, new_request_id, request_id
from ktrdr_runtime.grpc_errors import grpc_code, to_grpc_status

log = structlog.get_logger("ktrdr.rpc")

RPC_REQUESTS = Counter(
    "ktrdr_rpc_requests_total",
    "RPCs handled, by method and status code.",
    ["service", "method", "code"],
)
RPC_LATENCY = Histogram(
    "ktrdr_rpc_duration_seconds",
    "RPC handling time, by method and status code.",
    ["service", "method", "code"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OPEN_STREAMS = Gauge("ktrdr_rpc_open_streams", "Streaming RPCs in progress.", ["service", "method"])

# Health checks and reflection are polled; their access lines go to DEBUG.
_QUIET_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


def _metadata_value(metadata: Iterable[Any] | None, key: str) -> str | None:
    for item in metadata or ():
        k, v = (item.key, item.value) if hasattr(item, "key") else item
        if k == key:
            return v if isinstance(v, str) else v.decode()
    return None


class ServerInterceptor(aio.ServerInterceptor):
    """Wraps every handler once: request id, access log, metrics, domain-error mapping."""

    def __init__(self, service: str) -> None:
        self._service = service

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        method: str = details.method
        rid = _metadata_value(details.invocation_metadata, REQUEST_ID_HEADER) or new_request_id()
        call = _Call(self._service, method, rid)
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(
                call.wrap_stream(handler.stream_stream),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                call.wrap_stream(handler.unary_stream),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(
                call.wrap_unary(handler.stream_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.unary_unary_rpc_method_handler(
            call.wrap_unary(handler.unary_unary),
            handler.request_deserializer,
            handler.response_serializer,
        )


class _Call:
    def __init__(self, service: str, method: str, rid: str) -> None:
        self.service = service
        self.method = method
        self.rid = rid

    def wrap_unary(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def handle(request: Any, context: aio.ServicerContext) -> Any:
            request_id.set(self.rid)
            await context.send_initial_metadata(((REQUEST_ID_HEADER, self.rid),))
            start = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                return await behavior(request, context)
            except BaseException as exc:
                code, status = self._map(exc, context)
                if status is not None:
                    await context.abort(status.code, status.details, status.trailing_metadata)
                raise
            finally:
                self._record(code, start, context)

        return handle

    def wrap_stream(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def handle(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            request_id.set(self.rid)
            await context.send_initial_metadata(((REQUEST_ID_HEADER, self.rid),))
            start = time.perf_counter()
            code = grpc.StatusCode.OK
            gauge = OPEN_STREAMS.labels(self.service, self.method)
            gauge.inc()
            try:
                result = behavior(request, context)
                if hasattr(result, "__aiter__"):
                    async for item in result:
                        yield item
                else:
                    await result
            except BaseException as exc:
                code, status = self._map(exc, context)
                if status is not None:
                    await context.abort(status.code, status.details, status.trailing_metadata)
                raise
            finally:
                gauge.dec()
                self._record(code, start, context)

        return handle

    def _map(
        self, exc: BaseException, context: aio.ServicerContext
    ) -> tuple[grpc.StatusCode, grpc.Status | None]:
        """The code for the access log, and the status to abort with (None: already set)."""
        if isinstance(exc, errors.KtrdrError):
            log.info("rpc_error", method=self.method, error=exc.code, message=exc.full_message)
            return grpc_code(exc), to_grpc_status(exc)
        if isinstance(exc, aio.AbortError):
            return context.code() or grpc.StatusCode.UNKNOWN, None
        if isinstance(exc, asyncio.CancelledError):
            return grpc.StatusCode.CANCELLED, None
        if isinstance(exc, Exception):
            log.exception("rpc_unhandled_exception", method=self.method)
            internal = errors.InternalError(
                "RUNTIME-001",
                f"Internal error while handling {self.method}; quote request id {self.rid}.",
            )
            return grpc.StatusCode.INTERNAL, to_grpc_status(internal)
        return grpc.StatusCode.UNKNOWN, None

    def _record(self, code: grpc.StatusCode, start: float, context: aio.ServicerContext) -> None:
        if code == grpc.StatusCode.OK:
            set_code = context.code()
            if isinstance(set_code, grpc.StatusCode):
                code = set_code
        elapsed = time.perf_counter() - start
        RPC_REQUESTS.labels(self.service, self.method, code.name).inc()
        RPC_LATENCY.labels(self.service, self.method, code.name).observe(elapsed)
        level = log.debug if self.method.startswith(_QUIET_PREFIXES) else log.info
        level("rpc", method=self.method, code=code.name, duration_ms=round(elapsed * 1e3, 3))


class _ClientDetails(aio.ClientCallDetails):
    pass


def _with_defaults(details: aio.ClientCallDetails, timeout: float) -> aio.ClientCallDetails:
    metadata = aio.Metadata(*(tuple(details.metadata or ())))
    if REQUEST_ID_HEADER not in metadata:
        rid = request_id.get() or new_request_id()
        metadata.add(REQUEST_ID_HEADER, rid)
    return _ClientDetails(
        details.method,
        details.timeout if details.timeout is not None else timeout,
        metadata,
        details.credentials,
        details.wait_for_ready,
    )


class ClientInterceptor(
    aio.UnaryUnaryClientInterceptor,
    aio.UnaryStreamClientInterceptor,
    aio.StreamUnaryClientInterceptor,
    aio.StreamStreamClientInterceptor,
):
    """Propagates the request id and applies a default deadline to every outbound call."""

    def __init__(self, default_timeout: float, stream_timeout: float | None = None) -> None:
        self._timeout = default_timeout
        self._stream_timeout = stream_timeout if stream_timeout is not None else default_timeout

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(_with_defaults(client_call_details, self._timeout), request)

    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(
            _with_defaults(client_call_details, self._stream_timeout), request
        )

    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(
            _with_defaults(client_call_details, self._stream_timeout), request_iterator
        )

    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(
            _with_defaults(client_call_details, self._stream_timeout), request_iterator
        )
