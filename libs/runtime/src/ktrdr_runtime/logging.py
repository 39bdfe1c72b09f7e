"""structlog JSON logging, configured once per process by the service bootstrap.

No secret reaches a log: fields whose names look like secrets are redacted, API keys
(``ktrdr_<id>_<secret>``) and every value the settings read as a secret
(``ktrdr_runtime.secrets``: database URL, IB account, encryption keys, ...) are redacted
wherever they appear in a value, in library log records and in a crash's traceback too; no
value is
written longer than ``MAX_VALUE_CHARS`` (an echoed 30,000-character input keeps its start and
its length). A log file the process writes to is made owner-only (0600).
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from ktrdr_runtime import secrets
from ktrdr_runtime.context import request_id

_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authorization|credential|private[_-]?key)", re.I
)
# The key format of ktrdr_gateway.keys: ktrdr_<8 hex id>_<43 url-safe base64 characters>.
_API_KEY = re.compile(r"(ktrdr_[0-9a-f]{8}_)[A-Za-z0-9_-]{16,}")
REDACTED = "[REDACTED]"
MAX_VALUE_CHARS = 4000
_KEEP_CHARS = 4000


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace the value of any field whose name looks like a secret."""
    for key in list(event):
        if _SECRET_KEY.search(key):
            event[key] = REDACTED
    return event


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        value = secrets.redact(_API_KEY.sub(rf"\1{REDACTED}", value))
        if len(value) > MAX_VALUE_CHARS:
            return f"{value[:_KEEP_CHARS]}…[{len(value)} chars]"
        return value
    if depth < 3 and isinstance(value, (list, tuple)):
        return [_clean(v, depth + 1) for v in value]
    if depth < 3 and isinstance(value, dict):
        return {k: _clean(v, depth + 1) for k, v in value.items()}
    return value


def bound_values(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Redact API keys inside values and cut values longer than ``MAX_VALUE_CHARS``."""
    for key, value in event.items():
        event[key] = _clean(value)
    return event


class RedactingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Library log records (stdlib logging) on stderr with secrets and API keys redacted."""

    def __init__(self) -> None:
        super().__init__(_Stderr())  # type: ignore[arg-type]
        self.setFormatter(logging.Formatter("%(message)s"))

    def format(self, record: logging.LogRecord) -> str:
        return str(_clean(super().format(record)))


def _redacting_excepthook(kind: Any, value: Any, tb: Any) -> None:
    """A crash's traceback, redacted, on stderr (the service's log)."""
    import traceback

    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(secrets.redact(_API_KEY.sub(rf"\1{REDACTED}", text)))


def add_request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    rid = request_id.get()
    if rid is not None and "request_id" not in event:
        event["request_id"] = rid
    return event


class _Stderr:
    """Writes to whatever ``sys.stderr`` is now (so redirection and test capture work)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _owner_only_log_file() -> None:
    """When stderr is a regular file (the mesh's log), make it readable by its owner only."""
    try:
        fd = sys.stderr.fileno()
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
    except (AttributeError, OSError, ValueError):
        pass  # not a real file (captured, a pipe, a terminal)


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr: timestamp, level, service, request_id, event and fields."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    _owner_only_log_file()
    root = logging.getLogger()
    root.setLevel(numeric)
    if not any(isinstance(h, RedactingHandler) for h in root.handlers):
        root.addHandler(RedactingHandler())
    sys.excepthook = _redacting_excepthook
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            add_request_id,
            redact_secrets,
            structlog.processors.format_exc_info,
            bound_values,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
