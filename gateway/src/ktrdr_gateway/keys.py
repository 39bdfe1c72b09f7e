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

With encryption at rest (a keyring from ``KTRDR_ENCRYPTION_KEY_FILE``), the store and the dev
key are sealed (``ktrdr_core.sealed``: AES-GCM, tamper-evident). Envoy cannot decrypt, so every
write also refreshes the *view*: the plain key table in a memory-backed directory (``/dev/shm``,
owner-only), which is what the edge reads; nothing plain is left on disk.
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

from ktrdr_core import sealed
from ktrdr_core.sealed import Keyring

ROLES: tuple[str, ...] = ("read", "trade", "admin")
KEY_RE = re.compile(r"^ktrdr_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
ENV_HASHES = "KTRDR_GATEWAY_API_KEY_HASHES"
DEV_KEY_NAME = "dev-admin.key"
SEALED_DEV_KEY_NAME = "dev-admin.key.enc"
STORE_NAME = "api-keys"
STORE_LABEL = "API key store"


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


def sealed_dev_key_path(home: Path) -> Path:
    return gateway_dir(home) / SEALED_DEV_KEY_NAME


def view_dir(home: Path, runtime_dir: Path | None = None) -> Path:
    """The memory-backed directory of this home's decrypted key table (owner-only).

    ``runtime_dir`` (``KTRDR_GATEWAY_RUNTIME_DIR``) when given, else ``/dev/shm``, else the
    temporary directory; one subdirectory per user and home.
    """
    import tempfile

    base = runtime_dir
    if base is None:
        shm = Path("/dev/shm")  # nosec B108 # memory-backed, per-user 0700 subdirectory below
        base = shm if shm.is_dir() else Path(tempfile.gettempdir())
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]
    return base / f"ktrdr-{os.getuid()}-{digest}"


def parse_line(line: str) -> KeyRecord | None:
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = text.split(None, 4)
    if len(parts) < 4 or not HASH_RE.match(parts[0]) or parts[1] not in ROLES:
        raise KeyError_(f"malformed key store line (hash role id created [label]): {parts[2:3]}")
    return KeyRecord(parts[0], parts[1], parts[2], parts[3], parts[4] if len(parts) > 4 else "")


class KeyStore:
    """The hashed key file; every write is atomic and keeps mode 0600.

    Parameters
    ----------
    path
        The store file.
    keyring
        Seal the store (encryption at rest); ``None`` keeps it plain.
    view
        Where the plain table the edge reads is kept when the store is sealed (a file in a
        memory-backed directory); refreshed on every write and by :meth:`refresh_view`.
    """

    def __init__(
        self, path: Path, *, keyring: Keyring | None = None, view: Path | None = None
    ) -> None:
        self.path = path
        self.keyring = keyring
        self.view = view

    def _text(self) -> str:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return ""
        data = sealed.open_blob(blob, self.keyring, context=STORE_NAME, store=self._label())
        return data.decode()

    def _label(self) -> str:
        return f"{STORE_LABEL} {self.path}"

    def records(self) -> list[KeyRecord]:
        """Every key record.

        Raises
        ------
        ktrdr_core.sealed.TamperedError, WrongKeyError, NoKeyError
            The sealed store fails its check, was sealed with another key, or no key is set.
        """
        return [r for r in (parse_line(line) for line in self._text().splitlines()) if r]

    def _write(self, records: list[KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        text = "# KTRDR API keys: sha256 role key-id created label (managed by `ktrdr keys`)\n"
        text += "".join(r.line() + "\n" for r in records)
        sealed.write_file(self.path, text.encode(), self.keyring, context=STORE_NAME)
        self._write_view(text)

    def _write_view(self, text: str) -> None:
        if self.view is None:
            return
        self.view.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.view.parent, 0o700)
        sealed.write_file(self.view, text.encode(), None, context=STORE_NAME)

    def refresh_view(self) -> None:
        """Bring the store to the current key (sealing a plain store, re-sealing one under a
        previous key) and write the view the edge reads. Never writes a store it cannot read."""
        with self._locked():
            try:
                blob = self.path.read_bytes()
            except FileNotFoundError:
                blob = b""
            text = self._text()
            if self.keyring is not None and blob and self.keyring.needs_rotation(blob):
                sealed.write_file(self.path, text.encode(), self.keyring, context=STORE_NAME)
            self._write_view(text)

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


def open_store(
    home: Path, keyring: Keyring | None = None, *, runtime_dir: Path | None = None
) -> KeyStore:
    """The key store of a home; sealed, with its memory-backed view, when ``keyring`` is set."""
    view = view_dir(home, runtime_dir) / STORE_NAME if keyring is not None else None
    return KeyStore(store_path(home), keyring=keyring, view=view)


def read_dev_key(home: Path, keyring: Keyring | None = None) -> str | None:
    """The local development admin key (sealed or plain file), ``None`` when there is none."""
    try:
        blob = sealed_dev_key_path(home).read_bytes()
    except FileNotFoundError:
        try:
            return dev_key_path(home).read_text().strip() or None
        except FileNotFoundError:
            return None
    store = f"dev key {sealed_dev_key_path(home)}"
    return sealed.open_blob(blob, keyring, context=DEV_KEY_NAME, store=store).decode().strip()


def ensure_dev_key(home: Path, store: KeyStore | None = None) -> Path:
    """Create the local development admin key on first start; returns its file.

    The key goes to ``$KTRDR_HOME/gateway/dev-admin.key`` (0600, for the local user and the
    CLI only) or, when the store is sealed, sealed to ``dev-admin.key.enc`` (the plain file is
    removed); its hash goes to the store. Never logged. Re-created if either is missing.
    """
    store = store or KeyStore(store_path(home))
    keyring = store.keyring
    existing = read_dev_key(home, keyring)
    path = sealed_dev_key_path(home) if keyring is not None else dev_key_path(home)
    found = store.verify(existing) if existing else None
    current = path.exists() and (keyring is None or not keyring.needs_rotation(path.read_bytes()))
    if found and current:
        return path
    if found is None:
        key, _ = store.create("admin", "local-dev-admin")
    else:  # the dev key moves to its sealed file, or is re-sealed with the primary key
        key = existing or ""
    sealed.write_file(path, (key + "\n").encode(), keyring, context=DEV_KEY_NAME)
    stale = dev_key_path(home) if keyring is not None else sealed_dev_key_path(home)
    stale.unlink(missing_ok=True)
    return path


def env_hashes(records: list[KeyRecord]) -> str:
    """The ``KTRDR_GATEWAY_API_KEY_HASHES`` value for records (e.g. for a Kubernetes Secret)."""
    return ",".join(f"{r.key_hash}:{r.role}:{r.key_id}" for r in records)
