"""Request-scoped context: the request id that follows a call across services."""

from __future__ import annotations

import contextvars
import uuid

REQUEST_ID_HEADER = "x-request-id"

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ktrdr_request_id", default=None
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The current request id, creating one for work that started outside a request."""
    rid = request_id.get()
    if rid is None:
        rid = new_request_id()
        request_id.set(rid)
    return rid
