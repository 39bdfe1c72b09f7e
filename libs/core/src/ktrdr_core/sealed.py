"""Encryption at rest: files sealed with AES-GCM under a 256-bit key, with key rotation.

A sealed file is one envelope::

    b"KTRDRENC" | version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext + tag

The key id is the first 8 bytes of ``SHA-256("ktrdr-key-id:" + key)``: it tells which key sealed
a file (so a rotation knows what to re-encrypt and a wrong key is told apart from tampering)
and reveals nothing usable about the key. The header and the file's *context* (its name inside
its store, e.g. ``strategy/EURUSD_1h_v3/weights.safetensors``) are authenticated with the
ciphertext: a flipped byte anywhere, a truncated file or a file moved to another name fails to
open with :class:`TamperedError` (``DATA_LOSS``) naming the file.

A :class:`Keyring` holds the primary key (sealing and opening) and, during a rotation, previous
keys (opening only). Keys come from secrets as text: 32 bytes in base64 (44 characters) or hex
(64 characters). Where they come from (files, environment) is the settings' business
(``ktrdr_runtime.secrets``); this module never reads the environment.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
import secrets
import uuid
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ktrdr_core import codes
from ktrdr_core.errors import DataLossError, FailedPreconditionError, ValidationError

__all__ = [
    "MAGIC",
    "EncryptionKey",
    "Keyring",
    "NoKeyError",
    "TamperedError",
    "WrongKeyError",
    "is_sealed",
    "key_id_of",
    "open_blob",
    "read_file",
    "write_file",
]

MAGIC = b"KTRDRENC"
VERSION = 1
KEY_BYTES = 32
_NONCE_BYTES = 12
_ID_BYTES = 8
HEADER_BYTES = len(MAGIC) + 1 + _ID_BYTES + _NONCE_BYTES
_TAG_BYTES = 16


class TamperedError(DataLossError):
    """A sealed file fails its integrity check (tampered, truncated or moved): ``DATA_LOSS``."""


class WrongKeyError(FailedPreconditionError):
    """A sealed file was sealed with a key the keyring does not hold."""


class NoKeyError(FailedPreconditionError):
    """A sealed file was found but no encryption key is configured."""


@dataclasses.dataclass(frozen=True, slots=True)
class EncryptionKey:
    """A 256-bit key. Its ``repr`` shows the key id only, never the key."""

    material: bytes = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise ValidationError(
                codes.BAD_ENCRYPTION_KEY,
                f"an encryption key is {KEY_BYTES} bytes; this one is {len(self.material)}",
            )

    @classmethod
    def generate(cls) -> EncryptionKey:
        """A fresh random key."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_text(cls, text: str, *, source: str = "the encryption key") -> EncryptionKey:
        """Parse a key written as base64 (44 characters) or hex (64 characters).

        Raises
        ------
        ValidationError
            ``COMMON-006`` naming ``source`` (never quoting the text).
        """
        value = text.strip()
        raw: bytes | None = None
        if len(value) == 2 * KEY_BYTES:
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raw = None
        if raw is None:
            try:
                raw = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
            except (binascii.Error, ValueError):
                raw = None
        if raw is None or len(raw) != KEY_BYTES:
            raise ValidationError(
                codes.BAD_ENCRYPTION_KEY,
                f"{source} is not a {KEY_BYTES}-byte key in base64 (44 characters) or hex "
                f"(64 characters); make one with `ktrdr security new-key`",
            )
        return cls(raw)

    def to_text(self) -> str:
        """The key in base64 (what ``from_text`` reads)."""
        return base64.b64encode(self.material).decode()

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(b"ktrdr-key-id:" + self.material).digest()[:_ID_BYTES]

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()


def is_sealed(blob: bytes) -> bool:
    """Whether ``blob`` starts with the envelope's magic."""
    return blob[: len(MAGIC)] == MAGIC


def key_id_of(blob: bytes) -> bytes | None:
    """The key id in a sealed blob's header (``None`` for a plain blob)."""
    if not is_sealed(blob) or len(blob) < HEADER_BYTES:
        return None
    start = len(MAGIC) + 1
    return blob[start : start + _ID_BYTES]


class Keyring:
    """The primary key (seals and opens) and previous keys (open only, during a rotation).

    Parameters
    ----------
    primary
        The key new data is sealed with.
    previous
        Keys accepted for opening only; a file sealed with one of them is re-sealed with the
        primary key by a rotation (``needs_rotation``).
    """

    def __init__(self, primary: EncryptionKey, previous: Iterable[EncryptionKey] = ()) -> None:
        if not isinstance(primary, EncryptionKey):
            raise TypeError("primary must be an EncryptionKey")
        self.primary = primary
        self.previous = tuple(k for k in previous if k.key_id != primary.key_id)
        self._by_id = {k.key_id: k for k in (primary, *self.previous)}

    def __repr__(self) -> str:
        old = ", ".join(k.key_id_hex for k in self.previous)
        return f"Keyring(primary={self.primary.key_id_hex}, previous=[{old}])"

    def seal(self, data: bytes, *, context: str) -> bytes:
        """Encrypt ``data`` with the primary key, bound to ``context`` (the file's name)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        header = MAGIC + bytes([VERSION]) + self.primary.key_id + nonce
        aead = AESGCM(self.primary.material)
        return header + aead.encrypt(nonce, data, header + context.encode())

    def open(self, blob: bytes, *, context: str, store: str = "store") -> bytes:
        """Decrypt a sealed blob; ``context`` must be the one it was sealed with.

        Raises
        ------
        TamperedError
            ``COMMON-007``: the blob is not a whole envelope or fails authentication.
        WrongKeyError
            ``COMMON-008``: sealed with a key this keyring does not hold.
        """
        if not is_sealed(blob) or len(blob) < HEADER_BYTES + _TAG_BYTES or blob[8] != VERSION:
            raise TamperedError(
                codes.TAMPERED_FILE,
                f"{store}: '{context}' is not a whole encrypted file (corrupt or truncated).",
                details={"file": context},
            )
        header, body = blob[:HEADER_BYTES], blob[HEADER_BYTES:]
        key_id = header[9 : 9 + _ID_BYTES]
        key = self._by_id.get(key_id)
        if key is None:
            raise self._wrong_key(key_id, context=context, store=store)
        try:
            return AESGCM(key.material).decrypt(
                header[-_NONCE_BYTES:], body, header + context.encode()
            )
        except InvalidTag:
            raise TamperedError(
                codes.TAMPERED_FILE,
                f"{store}: '{context}' failed its integrity check: it was modified or corrupted "
                "after it was written (restore it from a backup or delete it).",
                details={"file": context},
            ) from None

    def needs_rotation(self, blob: bytes) -> bool:
        """Whether ``blob`` is plain or sealed with a key other than the primary."""
        return key_id_of(blob) != self.primary.key_id

    def check_key(self, blob: bytes, *, context: str, store: str = "store") -> None:
        """Raise :class:`WrongKeyError` unless a sealed ``blob``'s key is in the keyring (header
        only: cheap enough to check every file of a store at start-up)."""
        found = key_id_of(blob)
        if found is not None and found not in self._by_id:
            raise self._wrong_key(found, context=context, store=store)

    def _wrong_key(self, key_id: bytes, *, context: str, store: str) -> WrongKeyError:
        return WrongKeyError(
            codes.WRONG_ENCRYPTION_KEY,
            f"{store}: '{context}' was encrypted with key {key_id.hex()}, which is not "
            f"configured (the primary key is {self.primary.key_id_hex}); set the key it was "
            "encrypted with as the encryption key (or as a previous key during a rotation).",
            details={"file": context},
        )


def open_blob(blob: bytes, keyring: Keyring | None, *, context: str, store: str = "store") -> bytes:
    """Plain bytes of a file's content: opened when sealed, as they are otherwise.

    Raises
    ------
    NoKeyError
        ``COMMON-009``: the content is sealed and no keyring is configured.
    """
    if not is_sealed(blob):
        return blob
    if keyring is None:
        raise NoKeyError(
            codes.NO_ENCRYPTION_KEY,
            f"{store}: '{context}' is encrypted but no encryption key is configured; set "
            "KTRDR_ENCRYPTION_KEY_FILE (or KTRDR_ENCRYPTION_KEY) to the key it was written with.",
            details={"file": context},
        )
    return keyring.open(blob, context=context, store=store)


def read_file(path: Path, keyring: Keyring | None, *, context: str, store: str = "store") -> bytes:
    """A file's plain content (see :func:`open_blob`); ``FileNotFoundError`` when absent."""
    return open_blob(path.read_bytes(), keyring, context=context, store=store)


def write_file(path: Path, data: bytes, keyring: Keyring | None, *, context: str) -> None:
    """Write ``data`` (sealed when a keyring is given) atomically, owner-only (0600), synced."""
    blob = keyring.seal(data, context=context) if keyring is not None else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
