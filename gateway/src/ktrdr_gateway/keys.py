"""API keys: creation, hashing and the key store the edge reads.

A key is ``ktrdr_<key id>_<secret>``: 8 hex chars of id (safe to log and to show in lists)
and 32 random bytes of secret (urlsafe base64). The store keeps only the SHA-256 of the whole
key: keys are 256-bit random tokens, so a fast unsalted hash is enough (a salt or slow KDF
protects low-entropy passwords, which these are not) and Envoy can verify it per request.

Store format (one key a line; ``#`` comments)::

    <sha256 hex> <role> <key id> <created, ISO-8601 UTC> <label ...>

The file lives at ``$KTRDR_HOME/gateway/api-keys`` with mode 0600; the edge re-reads it every
two seconds, so new or revoked keys take effect without a restart. In Kubernetes the same lines
come from a Secret (mounted file, or ``KTRDR_GATEWAY_API_KEY_HASHES`` as
``hash:role:id,hash:role:id``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

ROLES: tuple[str, ...] = ("read", "trade", "admin")
KEY_RE = re.compile(r"^ktrdr_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
ENV_HASHES = "KTRDR_GATEWAY_API_KEY_HASHES"
DEV_KEY_NAME = "dev-admin.key"
STORE_NAME = "api-keys"


class KeyError_(ValueError):
    """A key, role or store line is malformed."""


@dataclasses.dataclass(frozen=True)
class KeyRecord:
    key_hash: str
    role: str
    key_id: str
    created: str
    label: str = ""

    def line(self) -> str:
        return f"{self.key_hash} {self.role} {self.key_id} {self.created} {self.label}".rstrip()


def hash_key(key: str) -> str:
    """The SHA-256 hex digest the store keeps for ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh key and its id."""
    key_id = secrets.token_hex(4)
    return f"ktrdr_{key_id}_{secrets.token_urlsafe(32)}", key_id


def gateway_dir(home: Path) -> Path:
    return home / "gateway"


def store_path(home: Path) -> Path:
    return gateway_dir(home) / STORE_NAME


def dev_key_path(home: Path) -> Path:
    return gateway_dir(home) / DEV_KEY_NAME


def parse_line(line: str) -> KeyRecord | None:
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = text.split(None, 4)
    if len(parts) < 4 or not HASH_RE.match(parts[0]) or parts[1] not in ROLES:
        raise KeyError_(f"malformed key store line (hash role id created [label]): {parts[2:3]}")
    return KeyRecord(parts[0], parts[1], parts[2], parts[3], parts[4] if len(parts) > 4 else "")


class KeyStore:
    """The hashed key file; every write is atomic and keeps mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> list[KeyRecord]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        return [r for r in (parse_line(line) for line in text.splitlines()) if r]

    def _write(self, records: list[KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(
                "# KTRDR API keys: sha256 role key-id created label (managed by `ktrdr keys`)\n"
            )
            f.writelines(r.line() + "\n" for r in records)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write cycles (two `ktrdr keys` runs cannot lose a key)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def create(self, role: str, label: str = "") -> tuple[str, KeyRecord]:
        """Make a key with ``role``; returns the plaintext (shown once) and its record."""
        if role not in ROLES:
            raise KeyError_(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
        key, key_id = new_key()
        created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record = KeyRecord(hash_key(key), role, key_id, created, re.sub(r"\s+", "-", label))
        with self._locked():
            self._write([*self.records(), record])
        return key, record

    def revoke(self, key_id: str) -> bool:
        with self._locked():
            records = self.records()
            kept = [r for r in records if r.key_id != key_id]
            if len(kept) == len(records):
                return False
            self._write(kept)
        return True

    def verify(self, key: str) -> KeyRecord | None:
        """The record of ``key`` if the store holds its hash (constant-time comparison)."""
        digest = hash_key(key)
        found = None
        for record in self.records():
            if hmac.compare_digest(record.key_hash, digest):
                found = record
        return found


def ensure_dev_key(home: Path) -> Path:
    """Create the local development admin key on first start; returns its file.

    The plaintext goes to ``$KTRDR_HOME/gateway/dev-admin.key`` (0600, for the local user and
    the CLI only) and its hash to the store. Never logged. Re-created if either is missing.
    """
    path = dev_key_path(home)
    store = KeyStore(store_path(home))
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing and store.verify(existing):
        return path
    key, _ = store.create("admin", "local-dev-admin")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    os.chmod(path, 0o600)
    return path


def env_hashes(records: list[KeyRecord]) -> str:
    """The ``KTRDR_GATEWAY_API_KEY_HASHES`` value for records (e.g. for a Kubernetes Secret)."""
    return ",".join(f"{r.key_hash}:{r.role}:{r.key_id}" for r in records)
