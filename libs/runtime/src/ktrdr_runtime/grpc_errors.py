"""The one mapping between domain errors and gRPC statuses (both directions)."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from ktrdr.common.v1 import common_pb2
from ktrdr_core import errors

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


def grpc_code(err: errors.KtrdrError) -> grpc.StatusCode:
    return _TO_GRPC[err.status]


def to_grpc_status(err: errors.KtrdrError) -> grpc.Status:
    """A grpc.Status whose details carry a ``ktrdr.common.v1.ErrorDetail``."""
    detail = common_pb2.ErrorDetail(
        code=err.code,
        message=err.full_message,
        field=err.field or "",
        suggestions=list(err.suggestions),
        metadata=err.details,
    )
    packed = any_pb2.Any()
    packed.Pack(detail)
    code = grpc_code(err)
    status = status_pb2.Status(
        code=getattr(code_pb2, code.name),
        message=f"[{err.code}] {err.full_message}",
        details=[packed],
    )
    return rpc_status.to_status(status)


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


def from_rpc_error(rpc_error: grpc.RpcError, *, dependency: str) -> errors.KtrdrError:
    """Turn a failed outbound call into the domain error to re-raise.

    A KTRDR error from the dependency keeps its code, message, field and suggestions (the
    caller puts the field under its own request's, see ``KtrdrError.under``); transport failures
    become ``RUNTIME-002`` UNAVAILABLE / ``RUNTIME-003`` DEADLINE_EXCEEDED naming the dependency.
    """
    code = rpc_error.code()  # type: ignore[attr-defined]
    detail = error_detail_of(rpc_error)
    if detail is not None:
        cls = _CLASS_FOR.get(_FROM_GRPC.get(code, errors.Status.INTERNAL), errors.InternalError)
        suggestions = list(detail.suggestions)
        # The detail's message is the full one; the suggestions go back to their own field.
        suffix = errors.suggestion_sentence(suggestions)
        message = detail.message
        if suffix and message.endswith(suffix) and len(message) > len(suffix):
            message = message[: -len(suffix)]
        return cls(
            detail.code,
            message,
            field=detail.field or None,
            suggestions=suggestions,
            details={**detail.metadata, "dependency": dependency},
        )
    text = rpc_error.details() or code.name  # type: ignore[attr-defined]
    if code == grpc.StatusCode.UNAVAILABLE:
        return errors.UnavailableError(
            "RUNTIME-002",
            f"The {dependency} service is unavailable: {text}",
            details={"dependency": dependency},
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return errors.DeadlineExceededError(
            "RUNTIME-003",
            f"The {dependency} service did not answer in time.",
            details={"dependency": dependency},
        )
    cls = _CLASS_FOR.get(_FROM_GRPC.get(code, errors.Status.INTERNAL), errors.InternalError)
    return cls(
        "RUNTIME-004",
        f"The {dependency} service failed: {code.name}: {text}",
        details={"dependency": dependency},
    )
