"""Settings read from the environment, once, validated at start-up.

Each service declares one frozen dataclass deriving from ``ServiceSettings``. A field ``port``
of the data service is read from ``KTRDR_DATA_PORT``; a field may name another variable with
``env_field("KTRDR_DATA_ADDRESS", ...)`` (dependency addresses are shared by all services).
No other module reads ``os.environ``.

Any variable may instead be given as a file: ``KTRDR_DATABASE_URL_FILE=/var/run/secrets/...``
reads the value from that file (one trailing newline dropped; at most
``MAX_VALUE_FILE_BYTES``). That is how Kubernetes hands secrets to a pod, as mounted files that
stay out of the environment. Setting both the variable and its ``_FILE`` is an error.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

from ktrdr_runtime.services import NAMES

T = TypeVar("T", bound="ServiceSettings")

# Where each service listens by default (50051 upwards, in the order of the one service list);
# the local mesh and Kubernetes use the same ports.
DEFAULT_PORTS: dict[str, int] = {name: 50051 + i for i, name in enumerate(NAMES)}
DEFAULT_METRICS_PORTS: dict[str, int] = {name: 9100 + i for i, name in enumerate(DEFAULT_PORTS, 1)}
# A value read from a ``<VARIABLE>_FILE`` file is at most this long (secrets, URLs, keys).
MAX_VALUE_FILE_BYTES = 64 * 1024


class SettingsError(Exception):
    """One or more settings are invalid; the message lists every problem."""


def env_field(env: str, default: Any, *, help: str = "") -> Any:
    """A settings field read from the variable ``env`` instead of the prefixed name."""
    return dataclasses.field(default=default, metadata={"env": env, "help": help})


def default_home() -> Path:
    return Path.home() / ".ktrdr"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """Settings every service has."""

    host: str = "127.0.0.1"
    port: int = 0
    metrics_port: int = 0
    log_level: str = env_field("KTRDR_LOG_LEVEL", "INFO")
    grace_seconds: float = env_field("KTRDR_GRACE_SECONDS", 5.0)
    home: Path = env_field("KTRDR_HOME", default_home())
    # Deadline applied to outbound calls that set none.
    call_timeout_seconds: float = env_field("KTRDR_CALL_TIMEOUT_SECONDS", 30.0)
    # Connections older than this are closed once their calls finish, so that clients resolve
    # the service name again and spread calls over replicas added since (GOAWAY, gRPC's
    # MAX_CONNECTION_AGE). Bounds: 1 s to 1 day.
    max_connection_age_seconds: float = env_field("KTRDR_MAX_CONNECTION_AGE_SECONDS", 300.0)

    SERVICE: typing.ClassVar[str] = ""

    def validate(self) -> list[str]:
        """Return problems; subclasses extend this."""
        problems = []
        for name in ("port", "metrics_port"):
            value = getattr(self, name)
            if not 0 <= value <= 65535:
                problems.append(f"{self._env_name(name)}={value} is not a port (0-65535)")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            problems.append(
                f"KTRDR_LOG_LEVEL={self.log_level!r} is not DEBUG, INFO, WARNING, ERROR or CRITICAL"
            )
        if self.grace_seconds < 0:
            problems.append(f"KTRDR_GRACE_SECONDS={self.grace_seconds} must be >= 0")
        if self.call_timeout_seconds <= 0:
            problems.append(f"KTRDR_CALL_TIMEOUT_SECONDS={self.call_timeout_seconds} must be > 0")
        if not 1 <= self.max_connection_age_seconds <= 86400:
            problems.append(
                f"KTRDR_MAX_CONNECTION_AGE_SECONDS={self.max_connection_age_seconds} "
                "must be in [1, 86400]"
            )
        return problems

    @classmethod
    def _env_name(cls, field_name: str) -> str:
        for f in dataclasses.fields(cls):
            if f.name == field_name and "env" in f.metadata:
                return str(f.metadata["env"])
        return f"KTRDR_{cls.SERVICE.upper()}_{field_name.upper()}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Build from the environment (``os.environ`` by default), then validate.

        Raises
        ------
        SettingsError
            Naming each variable that is malformed or out of range.
        """
        env = os.environ if environ is None else environ
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in dataclasses.fields(cls):
            if f.name in overrides:
                values[f.name] = overrides[f.name]
                continue
            name = cls._env_name(f.name)
            try:
                raw, shown = _raw_value(env, name)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if raw is None:
                if f.name == "port" and cls.SERVICE in DEFAULT_PORTS:
                    values[f.name] = DEFAULT_PORTS[cls.SERVICE]
                elif f.name == "metrics_port" and cls.SERVICE in DEFAULT_METRICS_PORTS:
                    values[f.name] = DEFAULT_METRICS_PORTS[cls.SERVICE]
                continue
            try:
                values[f.name] = _coerce(raw, hints[f.name])
            except ValueError as exc:
                problems.append(f"{shown}: {exc}")
        if problems:
            raise SettingsError("Invalid settings: " + "; ".join(problems))
        settings = cls(**values)
        problems = settings.validate()
        if problems:
            raise SettingsError("Invalid settings: " + "; ".join(problems))
        return settings


def read_bounded(path: str | Path, max_bytes: int) -> bytes:
    """The content of ``path`` if it is at most ``max_bytes`` long.

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        "is over <max_bytes> bytes", reading no more than one byte past the bound.
    """
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"is over {max_bytes} bytes")
    return data


def _raw_value(env: Mapping[str, str], name: str) -> tuple[str | None, str]:
    """The value of ``name`` (or read from the file ``<name>_FILE`` names) and how to quote it.

    ``shown`` names the variable for error messages, never quoting the content of a file (a
    secret). Raises ValueError for both set, an unreadable, oversized or non-UTF-8 file.
    """
    file_variable = f"{name}_FILE"
    path = env.get(file_variable)
    if path is None:
        value = env.get(name)
        return value, f"{name}={value!r}" if value is not None else ""
    shown = f"{file_variable}={path!r}"
    if name in env:
        raise ValueError(f"{name} and {file_variable} are both set; set one of them")
    try:
        data = read_bounded(path, MAX_VALUE_FILE_BYTES)
    except OSError as exc:
        raise ValueError(f"{shown} cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise ValueError(f"{shown} {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{shown} is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r"), shown


def _coerce(raw: str, typ: Any) -> Any:
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if raw == "":
            return None
        return _coerce(raw, args[0])
    if typ is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError("expected true/false")
    if typ is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError("expected an integer") from None
    if typ is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
    if typ is Path:
        return Path(raw).expanduser()
    return raw
