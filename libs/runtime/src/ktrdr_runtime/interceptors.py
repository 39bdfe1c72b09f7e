"""Server and client interceptors: request id, access log, metrics, error mapping, deadlines.

Every handler is wrapped once (:class:`ServerInterceptor`):

- the request id comes from ``x-request-id`` (kept when it is a short token, else replaced)
  and is echoed in the initial metadata, or in the trailers of a call that failed first;
- requests are checked before the handler runs (:mod:`ktrdr_runtime.validation`);
- unary answers too large for one message are refused with ``RUNTIME-007`` before gRPC refuses
  to send them (``RESOURCE_EXHAUSTED``, which the REST edge would turn into a 429); the answer is
  serialized once, by the interceptor, to measure it (stream messages are bounded by their
  batch sizes and are not measured);
- a server stream sends its headers with its first message, so a stream that fails before any
  message is a trailers-only response (the REST edge then answers with the mapped HTTP status);
  a stream the edge transcoded that fails later carries its error as JSON in the trailer
  ``x-ktrdr-error-json``, which the edge appends as the last NDJSON line.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc
import structlog
from google.api import annotations_pb2
from google.protobuf import descriptor_pool, json_format
from google.protobuf.message import Message
from google.rpc import status_pb2
from grpc import aio
from grpc_status import rpc_status
from prometheus_client import Counter, Gauge, Histogram

from ktrdr_core import errors
from ktrdr_runtime import codes
from ktrdr_runtime.context import REQUEST_ID_HEADER, new_request_id, request_id
from ktrdr_runtime.grpc_errors import grpc_code, shorten, status_proto
from ktrdr_runtime.limits import MAX_MESSAGE_BYTES, REST_MAX_RESPONSE_BYTES
from ktrdr_runtime.validation import check_enums

log = structlog.get_logger("ktrdr.rpc")

# Set by the REST edge on the requests it transcoded from JSON.
REST_HEADER = "x-ktrdr-rest"
# Trailer of a transcoded stream that failed after its first message: the error as JSON.
ERROR_JSON_TRAILER = "x-ktrdr-error-json"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

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


def valid_request_id(value: str | None) -> str:
    """The caller's request id when it is a short token (``[A-Za-z0-9._:-]``, <= 128), else new."""
    if value is not None and _REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


@functools.cache
def _alternatives(method: str) -> str:
    """Where to go instead of an answer too large for one message (paging, streaming)."""
    service_name, _, name = method.strip("/").rpartition("/")
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return "ask for a shorter range"
    hints = ["ask for a shorter range"]
    own = service.methods_by_name.get(name)
    if own is not None and "page_token" in own.input_type.fields_by_name:
        hints.append("page with 'page_size' and 'page_token'")
    streams = [m for m in service.methods if m.server_streaming and m.name != name]
    if streams:
        hints.append("stream it with " + " or ".join(_route(m) for m in streams))
    return ", ".join(hints[:-1]) + " or " + hints[-1] if len(hints) > 1 else hints[0]


def _route(method: Any) -> str:
    options = method.GetOptions()
    if options.HasExtension(annotations_pb2.http):
        rule = options.Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        if verb and verb != "custom":
            return f"{method.name} ({verb.upper()} {getattr(rule, verb)})"
    return method.name


def _refuse_if_over(size: int, limit: int, *, method: str, rest: bool) -> None:
    if size > limit:
        raise errors.FailedPreconditionError(
            codes.RESPONSE_TOO_LARGE,
            f"The answer would be {size / 2**20:.1f} MiB, over the {limit // 2**20} MiB "
            f"one message may carry{' through the REST edge' if rest else ''}; "
            f"{_alternatives(method)}.",
            details={"size_bytes": size, "limit_bytes": limit},
        )


# The RPC being handled: (method, came through the REST edge).
_current_call: contextvars.ContextVar[tuple[str, bool] | None] = contextvars.ContextVar(
    "ktrdr_current_call", default=None
)


def check_answer_size(estimated_bytes: int) -> None:
    """Refuse up front an answer the handler can tell will be too large for one message.

    A servicer that knows the size of its answer before building it (bars x bytes per bar)
    calls this first, so the caller gets ``RUNTIME-007`` at once instead of after the work.

    Raises
    ------
    FailedPreconditionError
        ``RUNTIME-007`` pointing to a shorter range, paging or the streaming route.
    """
    call = _current_call.get()
    if call is None:
        return
    method, rest = call
    limit = REST_MAX_RESPONSE_BYTES if rest else MAX_MESSAGE_BYTES - 1024
    _refuse_if_over(estimated_bytes, limit, method=method, rest=rest)


class ServerInterceptor(aio.ServerInterceptor):
    """Wraps every handler once: request id, checks, access log, metrics, error mapping."""

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
        metadata = details.invocation_metadata  # type: ignore[attr-defined]
        call = _Call(
            self._service,
            details.method,  # type: ignore[attr-defined]
            valid_request_id(_metadata_value(metadata, REQUEST_ID_HEADER)),
            rest=_metadata_value(metadata, REST_HEADER) is not None,
            streaming_request=handler.request_streaming,
        )
        serialize = _passthrough(handler.response_serializer)
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
                call.wrap_unary(handler.stream_unary), handler.request_deserializer, serialize
            )
        return grpc.unary_unary_rpc_method_handler(
            call.wrap_unary(handler.unary_unary), handler.request_deserializer, serialize
        )


def _passthrough(serializer: Callable[[Any], bytes] | None) -> Callable[[Any], bytes]:
    """The handler's serializer, letting through answers the interceptor already serialized."""

    def serialize(response: Any) -> bytes:
        if isinstance(response, bytes):
            return response
        return serializer(response) if serializer is not None else response

    return serialize


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for message in requests:
        check_enums(message)
        yield message


class _Call:
    def __init__(
        self, service: str, method: str, rid: str, *, rest: bool, streaming_request: bool
    ) -> None:
        self.service = service
        self.method = method
        self.rid = rid
        self.rest = rest
        self.streaming_request = streaming_request

    def _request(self, request: Any) -> Any:
        if self.streaming_request:
            return _checked(request)
        check_enums(request)
        return request

    def _serialized(self, response: Any, limit: int) -> Any:
        """The answer serialized once, here, so its size is checked without a second pass."""
        if not isinstance(response, Message):
            return response
        data = response.SerializeToString()
        _refuse_if_over(len(data), limit, method=self.method, rest=self.rest)
        return data

    def wrap_unary(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        limit = REST_MAX_RESPONSE_BYTES if self.rest else MAX_MESSAGE_BYTES - 1024

        async def handle(request: Any, context: aio.ServicerContext) -> Any:
            request_id.set(self.rid)
            _current_call.set((self.method, self.rest))
            await context.send_initial_metadata(((REQUEST_ID_HEADER, self.rid),))
            start = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                response = await behavior(self._request(request), context)
                return self._serialized(response, limit)
            except BaseException as exc:
                code, status = self._map(exc, context)
                if status is not None:
                    grpc_status = rpc_status.to_status(status)
                    await context.abort(
                        grpc_status.code, grpc_status.details, grpc_status.trailing_metadata
                    )
                raise
            finally:
                self._record(code, start, context)

        return handle

    def wrap_stream(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def handle(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            request_id.set(self.rid)
            _current_call.set((self.method, self.rest))
            start = time.perf_counter()
            code = grpc.StatusCode.OK
            gauge = OPEN_STREAMS.labels(self.service, self.method)
            gauge.inc()
            sent = 0
            try:
                result = behavior(self._request(request), context)
                if hasattr(result, "__aiter__"):
                    async for item in result:
                        if not sent:  # headers go with the first message, not before
                            await context.send_initial_metadata(((REQUEST_ID_HEADER, self.rid),))
                        sent += 1
                        yield item
                else:
                    await result
                if not sent:
                    context.set_trailing_metadata(((REQUEST_ID_HEADER, self.rid),))
            except BaseException as exc:
                code, status = self._map(exc, context)
                if status is not None:
                    grpc_status = rpc_status.to_status(status)
                    await context.abort(
                        grpc_status.code,
                        grpc_status.details,
                        (*grpc_status.trailing_metadata, *self._stream_trailers(status, sent)),
                    )
                raise
            finally:
                gauge.dec()
                self._record(code, start, context)

        return handle

    def _stream_trailers(self, status: status_pb2.Status, sent: int) -> list[tuple[str, str]]:
        """The request id; for a transcoded stream past its first message, the error as JSON."""
        trailers = [(REQUEST_ID_HEADER, self.rid)]
        if sent and self.rest:
            body = json_format.MessageToDict(status, always_print_fields_with_no_presence=True)
            trailers.append((ERROR_JSON_TRAILER, json.dumps(body, separators=(",", ":"))))
        return trailers

    def _map(
        self, exc: BaseException, context: aio.ServicerContext
    ) -> tuple[grpc.StatusCode, status_pb2.Status | None]:
        """The code for the access log, and the status to abort with (None: already set)."""
        if isinstance(exc, errors.KtrdrError):
            log.info(
                "rpc_error", method=self.method, error=exc.code, message=shorten(exc.full_message)
            )
            return grpc_code(exc), status_proto(exc)
        if isinstance(exc, aio.AbortError):
            return context.code() or grpc.StatusCode.UNKNOWN, None
        if isinstance(exc, asyncio.CancelledError):
            return grpc.StatusCode.CANCELLED, None
        if isinstance(exc, Exception):
            log.exception("rpc_unhandled_exception", method=self.method)
            internal = errors.InternalError(
                codes.INTERNAL,
                f"Internal error while handling {self.method}; quote request id {self.rid}.",
            )
            return grpc.StatusCode.INTERNAL, status_proto(internal)
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


def _with_defaults(details: aio.ClientCallDetails, timeout: float | None) -> aio.ClientCallDetails:
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


# grpc.aio files an interceptor under the first call kind it implements only, so each kind
# needs its own object: one class implementing all four would see unary-unary calls only.


class _UnaryUnary(aio.UnaryUnaryClientInterceptor):
    def __init__(self, timeout: float | None) -> None:
        self._timeout = timeout

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(_with_defaults(client_call_details, self._timeout), request)


class _UnaryStream(aio.UnaryStreamClientInterceptor):
    def __init__(self, timeout: float | None) -> None:
        self._timeout = timeout

    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(_with_defaults(client_call_details, self._timeout), request)


class _StreamUnary(aio.StreamUnaryClientInterceptor):
    def __init__(self, timeout: float | None) -> None:
        self._timeout = timeout

    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(
            _with_defaults(client_call_details, self._timeout), request_iterator
        )


class _StreamStream(aio.StreamStreamClientInterceptor):
    def __init__(self, timeout: float | None) -> None:
        self._timeout = timeout

    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(
            _with_defaults(client_call_details, self._timeout), request_iterator
        )


def client_interceptors(
    default_timeout: float, stream_timeout: float | None = None
) -> list[aio.ClientInterceptor]:
    """Request-id propagation on every call; a deadline on unary calls that set none, and on
    streams when ``stream_timeout`` is given (a replay or a long history may take longer)."""
    return [
        _UnaryUnary(default_timeout),
        _UnaryStream(stream_timeout),
        _StreamUnary(stream_timeout),
        _StreamStream(stream_timeout),
    ]
