"""Domain exceptions with stable error codes.

Domain code raises these; the service runtime maps them once to a gRPC status (see
``ktrdr_runtime.grpc_errors``). This module never imports grpc so pure domain code can use it.

Codes are stable strings such as ``DATA-001``: the prefix names the domain, the number the
condition. A client may rely on them; never reuse a number for another meaning.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping
from typing import Any


class Status(enum.Enum):
    """Canonical status categories (the gRPC codes, without importing grpc)."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    ABORTED = "ABORTED"
    CANCELLED = "CANCELLED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    UNIMPLEMENTED = "UNIMPLEMENTED"
    DATA_LOSS = "DATA_LOSS"
    INTERNAL = "INTERNAL"


class KtrdrError(Exception):
    """Base class of every KTRDR domain error.

    Parameters
    ----------
    code
        Stable error code, e.g. ``"DATA-001"``.
    message
        A sentence a user can act on.
    field
        The request field (or config key path) at fault, when there is one.
    suggestions
        Close matches for a misspelt name ("Did you mean ...?").
    details
        Extra machine-readable context (string values only; never secrets).
    """

    status: Status = Status.INTERNAL

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        suggestions: Iterable[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if not code or not message:
            raise ValueError("KtrdrError needs both a code and a message")
        self.code = code
        self.message = message
        self.field = field
        self.suggestions = tuple(suggestions)
        self.details = {k: str(v) for k, v in (details or {}).items()}
        super().__init__(self.full_message)

    @property
    def full_message(self) -> str:
        """The message with the suggestions appended, as a user sees it."""
        return self.message + suggestion_sentence(self.suggestions)

    def at(self, field: str | None) -> KtrdrError:
        """The same error (class, code, message, suggestions, details) naming ``field``."""
        return type(self)(
            self.code,
            self.message,
            field=field,
            suggestions=self.suggestions,
            details=self.details,
        )

    def under(self, prefix: str) -> KtrdrError:
        """The same error with its field path put under ``prefix``: ``symbol`` becomes
        ``source.symbol``.

        Used where a request is forwarded to another service or domain whose fields sit under
        one field of the caller's request. An error without a field keeps none.
        """
        return self.at(f"{prefix}.{self.field}" if self.field else None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.full_message})"


class ValidationError(KtrdrError):
    """A request or configuration value is malformed (INVALID_ARGUMENT)."""

    status = Status.INVALID_ARGUMENT


class NotFoundError(KtrdrError):
    """A named thing does not exist (NOT_FOUND)."""

    status = Status.NOT_FOUND


class AlreadyExistsError(KtrdrError):
    status = Status.ALREADY_EXISTS


class FailedPreconditionError(KtrdrError):
    """The system is not in a state where the operation can run (FAILED_PRECONDITION)."""

    status = Status.FAILED_PRECONDITION


class OutOfRangeError(KtrdrError):
    status = Status.OUT_OF_RANGE


class ResourceExhaustedError(KtrdrError):
    status = Status.RESOURCE_EXHAUSTED


class UnavailableError(KtrdrError):
    """A dependency (service, broker, file system) cannot be reached (UNAVAILABLE)."""

    status = Status.UNAVAILABLE


class DeadlineExceededError(KtrdrError):
    status = Status.DEADLINE_EXCEEDED


class CancelledError(KtrdrError):
    status = Status.CANCELLED


class DataLossError(KtrdrError):
    """Stored data is corrupt or unreadable (DATA_LOSS)."""

    status = Status.DATA_LOSS


class NotImplementedYetError(KtrdrError):
    """The RPC exists in the contract but its behaviour is not built yet (UNIMPLEMENTED)."""

    status = Status.UNIMPLEMENTED


class InternalError(KtrdrError):
    status = Status.INTERNAL


def suggestion_sentence(suggestions: Iterable[str]) -> str:
    """`` Did you mean 'a', 'b'?`` (with its leading space), or ``""`` without suggestions."""
    quoted = ", ".join(f"'{s}'" for s in suggestions)
    return f" Did you mean {quoted}?" if quoted else ""


def suggest(name: str, choices: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Return close matches of ``name`` among ``choices``, best first (case-insensitive)."""
    pool = list(choices)
    lowered = {c.lower(): c for c in pool}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[m] for m in matches]
