"""The one mapping between domain errors and gRPC statuses (both directions).

An error travels as a ``google.rpc.Status`` whose message is ``[CODE] sentence`` and whose
details carry a ``ktrdr.common.v1.ErrorDetail`` (code, field, suggestions, metadata). The
sentence is carried once, in the status message; the detail's ``message`` is left empty.
Everything a status carries is bounded (:func:`shorten`): an echoed 20,000-character name
becomes its first characters and its length, so an error always fits in gRPC metadata and a
4xx stays a 4xx whatever the size of the input.
"""

from __future__ import annotations

import re

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from ktrdr.common.v1 import common_pb2
from ktrdr_core import errors
from ktrdr_runtime import codes, secrets

_TO_GRPC: dict[errors.Status, grpc.StatusCode] = {
    s: getattr(grpc.StatusCode, s.value) for s in errors.Status
}
_FROM_GRPC: dict[grpc.StatusCode, errors.Status] = {v: k for k, v in _TO_GRPC.items()}

_CLASS_FOR: dict[errors.Status, type[errors.KtrdrError]] = {
    errors.Status.INVALID_ARGUMENT: errors.ValidationError,
    errors.Status.NOT_FOUND: errors.NotFoundError,
    errors.Status.ALREADY_EXISTS: errors.AlreadyExistsError,
    errors.Status.FAILED_PRECONDITION: errors.FailedPreconditionError,
    errors.Status.OUT_OF_RANGE: errors.OutOfRangeError,
    errors.Status.RESOURCE_EXHAUSTED: errors.ResourceExhaustedError,
    errors.Status.UNAVAILABLE: errors.UnavailableError,
    errors.Status.DEADLINE_EXCEEDED: errors.DeadlineExceededError,
    errors.Status.CANCELLED: errors.CancelledError,
    errors.Status.DATA_LOSS: errors.DataLossError,
    errors.Status.UNIMPLEMENTED: errors.NotImplementedYetError,
}

# Bounds of what an error carries (UTF-8 bytes; non-ASCII is percent-encoded in grpc-message,
# so the worst case stays far below gRPC's 8 KiB metadata limit).
MAX_ERROR_BYTES = 768
MAX_FIELD_BYTES = 160
MAX_SUGGESTIONS = 5
MAX_SUGGESTION_BYTES = 96
MAX_METADATA_ENTRIES = 8
MAX_METADATA_BYTES = 160
# A run of more non-blank characters than this is an echoed value: cut to its first ones.
MAX_TOKEN_CHARS = 160
_KEEP_CHARS = 64
_LONG_TOKEN = re.compile(rf"\S{{{MAX_TOKEN_CHARS + 1},}}")
_CODE_PREFIX = re.compile(r"^\[[A-Z][A-Z_]*-\d{3}\] ")
# Without a KTRDR detail, these codes mean the connection failed (refused, reset, the peer
# died mid-stream: gRPC says INTERNAL "Stream removed" or UNKNOWN), not that the peer answered.
_TRANSPORT_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
)


def shorten(text: str, *, max_bytes: int = MAX_ERROR_BYTES) -> str:
    """``text`` with echoed values cut, at most ``max_bytes`` UTF-8 bytes long.

    Every run of more than ``MAX_TOKEN_CHARS`` non-blank characters keeps its first 64 and
    says how long it was (``'AAAA…[20002 chars]``); the result is then cut to ``max_bytes``.
    A registered secret (``ktrdr_runtime.secrets``) is redacted first.
    """
    text = secrets.redact(text)
    text = _LONG_TOKEN.sub(lambda m: f"{m.group(0)[:_KEEP_CHARS]}…[{len(m.group(0))} chars]", text)
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - 16].decode(errors="ignore") + "… [truncated]"


def grpc_code(err: errors.KtrdrError) -> grpc.StatusCode:
    return _TO_GRPC[err.status]


def status_proto(err: errors.KtrdrError) -> status_pb2.Status:
    """The bounded ``google.rpc.Status`` of a domain error (ErrorDetail in its details)."""
    metadata = list(err.details.items())[:MAX_METADATA_ENTRIES]
    detail = common_pb2.ErrorDetail(
        code=err.code,
        field=shorten(err.field or "", max_bytes=MAX_FIELD_BYTES),
        suggestions=[
            shorten(s, max_bytes=MAX_SUGGESTION_BYTES) for s in err.suggestions[:MAX_SUGGESTIONS]
        ],
        metadata={
            shorten(k, max_bytes=MAX_FIELD_BYTES): shorten(v, max_bytes=MAX_METADATA_BYTES)
            for k, v in metadata
        },
    )
    packed = any_pb2.Any()
    packed.Pack(detail)
    return status_pb2.Status(
        code=getattr(code_pb2, grpc_code(err).name),
        message=f"[{err.code}] {shorten(err.full_message)}",
        details=[packed],
    )


def to_grpc_status(err: errors.KtrdrError) -> grpc.Status:
    """A grpc.Status whose details carry a ``ktrdr.common.v1.ErrorDetail``."""
    return rpc_status.to_status(status_proto(err))


def sentence(message: str) -> str:
    """A status message without its ``[CODE]`` prefix."""
    return _CODE_PREFIX.sub("", message, count=1)


def error_detail_of(rpc_error: grpc.RpcError) -> common_pb2.ErrorDetail | None:
    """The ErrorDetail a KTRDR service attached to a failed call, if any."""
    call = rpc_error
    try:
        status = rpc_status.from_call(call)  # type: ignore[arg-type]
    except (AttributeError, ValueError, TypeError):
        status = None
    if status is None:
        return None
    for packed in status.details:
        if packed.Is(common_pb2.ErrorDetail.DESCRIPTOR):
            detail = common_pb2.ErrorDetail()
            packed.Unpack(detail)
            return detail
    return None


def error_message_of(rpc_error: grpc.RpcError) -> str:
    """The sentence of a failed call, as a user reads it (suggestions included).

    The sentence is carried once, in the status message ``[CODE] sentence``; this returns it
    without the code prefix. (A detail from an older peer that still fills
    ``ErrorDetail.message`` is read first.)
    """
    detail = error_detail_of(rpc_error)
    if detail is not None and detail.message:
        return detail.message
    return sentence(rpc_error.details() or "")  # type: ignore[attr-defined]


def from_rpc_error(rpc_error: grpc.RpcError, *, dependency: str) -> errors.KtrdrError:
    """Turn a failed outbound call into the domain error to re-raise.

    A KTRDR error from the dependency keeps its code, message, field and suggestions (the
    caller puts the field under its own request's, see ``KtrdrError.under``). Without one, a
    failed connection (refused, reset, the dependency killed mid-stream) becomes ``RUNTIME-002``
    UNAVAILABLE naming the dependency, a timeout ``RUNTIME-003`` DEADLINE_EXCEEDED, a message
    over gRPC's size limit ``RUNTIME-007`` FAILED_PRECONDITION.
    """
    code = rpc_error.code()  # type: ignore[attr-defined]
    text = shorten(rpc_error.details() or code.name)  # type: ignore[attr-defined]
    detail = error_detail_of(rpc_error)
    meta = {"dependency": dependency}
    if detail is not None:
        cls = _CLASS_FOR.get(_FROM_GRPC.get(code, errors.Status.INTERNAL), errors.InternalError)
        suggestions = list(detail.suggestions)
        # The sentence is the full message; the suggestions go back to their own field.
        suffix = errors.suggestion_sentence(suggestions)
        message = shorten(error_message_of(rpc_error)) or code.name
        if suffix and message.endswith(suffix) and len(message) > len(suffix):
            message = message[: -len(suffix)]
        return cls(
            detail.code,
            message,
            field=detail.field or None,
            suggestions=suggestions,
            details={**detail.metadata, **meta},
        )
    if code in _TRANSPORT_CODES:
        return errors.UnavailableError(
            codes.DEPENDENCY_UNAVAILABLE,
            f"The {dependency} service is unavailable: {text}",
            details=meta,
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return errors.DeadlineExceededError(
            codes.DEPENDENCY_DEADLINE,
            f"The {dependency} service did not answer in time.",
            details=meta,
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return errors.FailedPreconditionError(
            codes.RESPONSE_TOO_LARGE,
            f"The exchange with the {dependency} service is too large for one message "
            f"({text}); ask for a shorter range.",
            details=meta,
        )
    cls = _CLASS_FOR.get(_FROM_GRPC.get(code, errors.Status.INTERNAL), errors.InternalError)
    return cls(
        codes.DEPENDENCY_FAILED,
        f"The {dependency} service failed: {code.name}: {text}",
        details=meta,
    )
