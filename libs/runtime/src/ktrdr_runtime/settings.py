"""Settings read from the environment, once, validated at start-up.

Each service declares one frozen dataclass deriving from ``ServiceSettings`` (the edge and the
CLI derive from ``Settings``). A field ``port`` of the data service is read from
``KTRDR_DATA_PORT``; a field may name another variable with
``env_field("KTRDR_DATA_ADDRESS", ...)`` (dependency addresses are shared by all services).
No other module reads ``os.environ``.

Secrets (``secret_field``: API keys, IB account, database URL, encryption keys) are read from
the file named by ``NAME_FILE`` (a mounted Kubernetes Secret, an owner-only file) or from
``NAME``, never from a command line; they are :class:`~ktrdr_runtime.secrets.Secret` values,
redacted from every log and error, and a message about a bad one never quotes it.

Any other variable may be given as a file too: ``KTRDR_BACKTEST_WORKERS_FILE=/etc/ktrdr/workers``
reads the value from that file (one trailing newline dropped; at most ``MAX_VALUE_FILE_BYTES``).
That is how Kubernetes hands a pod mounted configuration. Setting both the variable and its
``_FILE`` is an error, and an error never quotes what a file holds.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

from ktrdr_core.errors import KtrdrError
from ktrdr_core.sealed import EncryptionKey, Keyring
from ktrdr_runtime.secrets import Secret, register
from ktrdr_runtime.services import NAMES

T = TypeVar("T", bound="Settings")

# Where each service listens by default (50051 upwards, in the order of the one service list);
# the local mesh and Kubernetes use the same ports.
DEFAULT_PORTS: dict[str, int] = {name: 50051 + i for i, name in enumerate(NAMES)}
DEFAULT_METRICS_PORTS: dict[str, int] = {name: 9100 + i for i, name in enumerate(DEFAULT_PORTS, 1)}


class SettingsError(Exception):
    """One or more settings are invalid; the message lists every problem."""


def env_field(env: str, default: Any, *, help: str = "") -> Any:
    """A settings field read from the variable ``env`` instead of the prefixed name."""
    return dataclasses.field(default=default, metadata={"env": env, "help": help})


def secret_field(env: str, *, help: str = "") -> Any:
    """A secret read from the file ``<env>_FILE`` names, or from ``<env>`` (a ``Secret``)."""
    metadata = {"env": env, "help": help, "secret": True}  # nosec B105 # a flag, not a secret
    return dataclasses.field(default=None, metadata=metadata)


def default_home() -> Path:
    return Path.home() / ".ktrdr"


# A value read from a ``<VARIABLE>_FILE`` file is at most this long (secrets, URLs, keys); a
# larger file is not a setting (a wrong path).
MAX_VALUE_FILE_BYTES = 64 * 1024


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Reads a frozen dataclass from the environment: plain fields and secrets."""

    SERVICE: typing.ClassVar[str] = ""

    def validate(self) -> list[str]:
        """Return problems; subclasses extend this."""
        return []

    @classmethod
    def _env_name(cls, field_name: str) -> str:
        for f in dataclasses.fields(cls):
            if f.name == field_name and "env" in f.metadata:
                return str(f.metadata["env"])
        return f"KTRDR_{cls.SERVICE.upper()}_{field_name.upper()}"

    @classmethod
    def _default(cls, name: str) -> tuple[bool, Any]:
        """A default computed from the class (ports); ``(False, None)`` when there is none."""
        return False, None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Build from the environment (``os.environ`` by default), then validate.

        Raises
        ------
        SettingsError
            Naming each variable that is malformed or out of range (never a secret's value).
        """
        env = os.environ if environ is None else environ
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in dataclasses.fields(cls):
            if f.name in overrides:
                value = overrides[f.name]
                if f.metadata.get("secret") and isinstance(value, str):
                    value = Secret(value, source=f.name)
                values[f.name] = value
                continue
            name = cls._env_name(f.name)
            if f.metadata.get("secret"):
                secret = _read_secret(env, name, problems)
                if secret is not None:
                    values[f.name] = secret
                continue
            try:
                raw, shown = _raw_value(env, name)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if raw is None:
                known, default = cls._default(f.name)
                if known:
                    values[f.name] = default
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

    ``shown`` names the variable for error messages, never quoting the content of a file.
    Raises ValueError for both set, an unreadable, oversized or non-UTF-8 file.
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
        data = read_bounded(Path(path).expanduser(), MAX_VALUE_FILE_BYTES)
    except OSError as exc:
        raise ValueError(f"{shown} cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise ValueError(f"{shown} {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{shown} is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r"), shown


def _read_secret(env: Mapping[str, str], name: str, problems: list[str]) -> Secret | None:
    """``NAME_FILE``'s content or ``NAME``'s value; a problem (never the value) otherwise."""
    path, value = env.get(f"{name}_FILE", ""), env.get(name, "")
    if path and value:
        problems.append(f"{name} and {name}_FILE are both set: set one")
        return None
    if not path:
        return Secret(value, source=name) if value else None
    try:
        text = read_bounded(Path(path).expanduser(), MAX_VALUE_FILE_BYTES).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{name}_FILE={path}: cannot read it ({type(exc).__name__})")
        return None
    except ValueError as exc:  # over the bound
        problems.append(f"{name}_FILE={path}: {exc}, too large for a secret")
        return None
    if not text:
        problems.append(f"{name}_FILE={path} is empty")
        return None
    return Secret(text, source=f"{name}_FILE")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EncryptionSettings(Settings):
    """Encryption at rest: the key (and, during a rotation, the previous keys) from secrets.

    ``KTRDR_ENCRYPTION_KEY_FILE`` (or ``KTRDR_ENCRYPTION_KEY``): 32 bytes in base64 or hex.
    ``KTRDR_ENCRYPTION_PREVIOUS_KEYS_FILE`` (or ``..._KEYS``): keys still accepted for reading,
    separated by commas or new lines. No key: files are written plain (the local default).
    """

    encryption_key: Secret | None = secret_field("KTRDR_ENCRYPTION_KEY")
    encryption_previous_keys: Secret | None = secret_field("KTRDR_ENCRYPTION_PREVIOUS_KEYS")

    def validate(self) -> list[str]:
        problems = super().validate()
        try:
            self.keyring()
        except (KtrdrError, SettingsError) as exc:
            problems.append(str(exc))
        return problems

    def keyring(self) -> Keyring | None:
        """The keyring, or ``None`` when encryption at rest is off."""
        previous = []
        if self.encryption_previous_keys:
            source = self.encryption_previous_keys.source or "KTRDR_ENCRYPTION_PREVIOUS_KEYS"
            texts = self.encryption_previous_keys.reveal().replace(",", "\n").split()
            previous = [_key(t, source) for t in texts]
        if not self.encryption_key:
            if previous:
                raise SettingsError(
                    "KTRDR_ENCRYPTION_PREVIOUS_KEYS is set without KTRDR_ENCRYPTION_KEY"
                )
            return None
        primary = _key(self.encryption_key.reveal(), self.encryption_key.source)
        return Keyring(primary, previous)


def _key(text: str, source: str) -> EncryptionKey:
    key = EncryptionKey.from_text(text, source=source or "the encryption key")
    for form in (key.to_text(), key.material.hex()):
        register(form)
    return key


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceSettings(EncryptionSettings):
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

    def validate(self) -> list[str]:
        """Return problems; subclasses extend this."""
        problems = super().validate()
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
    def _default(cls, name: str) -> tuple[bool, Any]:
        if name == "port" and cls.SERVICE in DEFAULT_PORTS:
            return True, DEFAULT_PORTS[cls.SERVICE]
        if name == "metrics_port" and cls.SERVICE in DEFAULT_METRICS_PORTS:
            return True, DEFAULT_METRICS_PORTS[cls.SERVICE]
        return False, None


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
