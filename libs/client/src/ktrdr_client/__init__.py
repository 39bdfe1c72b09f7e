"""Python client of the KTRDR REST API: ``KtrdrClient`` (sync) and ``AsyncKtrdrClient``."""

from ktrdr_client import errors, models
from ktrdr_client.client import AsyncKtrdrClient, KtrdrClient, resolve_key
from ktrdr_client.errors import (
    AuthenticationError,
    ConflictError,
    GatewayTimeoutError,
    KtrdrApiError,
    NotFoundError,
    NotImplementedError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    StreamInterruptedError,
    UnavailableError,
    ValidationError,
)

__all__ = [
    "AsyncKtrdrClient",
    "AuthenticationError",
    "ConflictError",
    "GatewayTimeoutError",
    "KtrdrApiError",
    "KtrdrClient",
    "NotFoundError",
    "NotImplementedError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "StreamInterruptedError",
    "UnavailableError",
    "ValidationError",
    "errors",
    "models",
    "resolve_key",
]
