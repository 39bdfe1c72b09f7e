"""One exception class per kind of API error, each carrying the stable KTRDR error code."""

from __future__ import annotations

import re
from typing import Any


class KtrdrApiError(Exception):
    """An error answer from the KTRDR API (google.rpc.Status JSON with an ErrorDetail)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        field: str = "",
        suggestions: tuple[str, ...] = (),
        metadata: dict[str, str] | None = None,
        grpc_code: int | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.suggestions = suggestions
        self.metadata = metadata or {}
        self.grpc_code = grpc_code
        self.body = body
        super().__init__(
            f"HTTP {status} {code}: {message}" if code else f"HTTP {status}: {message}"
        )


class ValidationError(KtrdrApiError):
    """400: malformed request or a value the service rejects."""


class AuthenticationError(KtrdrApiError):
    """401: no API key or an unknown one."""


class PermissionDeniedError(KtrdrApiError):
    """403: the key's role may not call this operation."""


class NotFoundError(KtrdrApiError):
    """404: no such resource (or no such API operation)."""


class ConflictError(KtrdrApiError):
    """409: already exists / aborted."""


class PayloadTooLargeError(ValidationError):
    """413: the request body exceeds the gateway limit."""


class RateLimitedError(KtrdrApiError):
    """429: too many requests for this key."""


class ServerError(KtrdrApiError):
    """5xx not covered by a more specific class."""


class NotImplementedError(ServerError):
    """501: the operation is in the contract but not built yet (RUNTIME-005)."""


class UnavailableError(ServerError):
    """503: a service or dependency is unavailable (retried with backoff first)."""


class GatewayTimeoutError(ServerError):
    """504: a service did not answer in time."""


class StreamInterruptedError(UnavailableError):
    """A streamed answer was cut off before it completed (``CLIENT-002``).

    ``received`` counts the messages that arrived before the cut; they are not the whole answer.
    """

    def __init__(self, message: str, *, received: int) -> None:
        super().__init__(503, message, code="CLIENT-002")
        self.received = received


_BY_STATUS: dict[int, type[KtrdrApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
    501: NotImplementedError,
    503: UnavailableError,
    504: GatewayTimeoutError,
}


# The HTTP status the edge answers for each gRPC code (google.rpc.Code numbers).
HTTP_FOR_GRPC: dict[int, int] = {
    1: 499,
    2: 500,
    3: 400,
    4: 504,
    5: 404,
    6: 409,
    7: 403,
    8: 429,
    9: 400,
    10: 409,
    11: 400,
    12: 501,
    13: 500,
    14: 503,
    15: 500,
    16: 401,
}
_CODE_PREFIX = re.compile(r"^\[[A-Z][A-Z_]*-\d{3}\] ")


def error_from_status(status: Any) -> KtrdrApiError:
    """The exception for a ``google.rpc.Status`` JSON object (e.g. a stream's error line)."""
    code = status.get("code") if isinstance(status, dict) else None
    http = HTTP_FOR_GRPC.get(code, 500) if isinstance(code, int) else 500
    return error_from_response(http, status)


def error_from_response(status: int, body: Any, text: str = "") -> KtrdrApiError:
    """Build the matching exception from an HTTP status and the JSON error body."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else KtrdrApiError)
    if not isinstance(body, dict):
        return cls(status, text.strip() or f"HTTP {status}", body=body)
    message = str(body.get("message") or text or f"HTTP {status}")
    detail: dict[str, Any] = {}
    for d in body.get("details") or []:
        if isinstance(d, dict) and str(d.get("@type", "")).endswith("ktrdr.common.v1.ErrorDetail"):
            detail = d
            break
    return cls(
        status,
        str(detail.get("message") or _CODE_PREFIX.sub("", message, count=1)),
        code=str(detail.get("code") or ""),
        field=str(detail.get("field") or ""),
        suggestions=tuple(str(s) for s in detail.get("suggestions") or ()),
        metadata={str(k): str(v) for k, v in (detail.get("metadata") or {}).items()},
        grpc_code=body.get("code") if isinstance(body.get("code"), int) else None,
        body=body,
    )
