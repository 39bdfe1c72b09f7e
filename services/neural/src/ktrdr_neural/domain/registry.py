"""The model registry: immutable, atomically written versions with a ``latest`` pointer.

Layout under the registry root (``$KTRDR_HOME/models``)::

    {strategy}/{series}_v{N}/model.json           metadata (schema, scaling, labels, data, ...)
    {strategy}/{series}_v{N}/weights.safetensors  the weights (never pickle; loading runs no code)
    {strategy}/{series}_latest                    pointer: the latest version's directory name
    {strategy}/{series}_v{N}.deleted              tombstone: N is never given out again

``series`` is ``{symbol}_{timeframe}`` (symbols of a multi-symbol model joined with ``+``). A
model's name is ``{strategy}.{series}_v{N}`` — one URL path segment; ``{strategy}/...`` is
accepted as well. Without ``_v{N}`` a name means the latest version.

Storage is behind :class:`RegistryStorage` (bytes in, bytes out per file);
:class:`EncryptedStorage` wraps it for encryption at rest (every file sealed with AES-GCM,
bound to its name: see ``ktrdr_core.sealed``). :class:`LocalStorage` writes a version into a
temporary directory, fsyncs every file and the directory, and renames it into place under a
lock: a killed or cancelled writer leaves no version (its temporary directory is removed when
the registry next opens).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import structlog

from ktrdr_core import sealed
from ktrdr_core.codes import TAMPERED_FILE
from ktrdr_core.errors import (
    DataLossError,
    FailedPreconditionError,
    NotFoundError,
    ValidationError,
    suggest,
)
from ktrdr_core.timeframes import TIMEFRAMES
from ktrdr_neural.domain import errors as codes

log = structlog.get_logger(__name__)

MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.safetensors"
STRATEGY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
SERIES_RE = re.compile(
    r"(?P<symbols>[A-Z0-9][A-Z0-9._-]{0,31}(?:\+[A-Z0-9][A-Z0-9._-]{0,31}){0,31})"
    r"_(?P<tf>" + "|".join(re.escape(t) for t in TIMEFRAMES) + r")"
)
VERSION_DIR_RE = re.compile(r"(?P<series>.+)_v(?P<version>[1-9][0-9]{0,8})")
# Given the version number allocated, the files of the version (name -> bytes).
VersionBuilder = Callable[[int], Mapping[str, bytes]]


@dataclasses.dataclass(frozen=True, slots=True)
class ModelRef:
    """A model name, parsed: ``version`` is ``None`` for "the latest"."""

    strategy: str
    series: str | None = None
    version: int | None = None

    @property
    def name(self) -> str:
        text = self.strategy if self.series is None else f"{self.strategy}.{self.series}"
        return text if self.version is None else f"{text}_v{self.version}"

    def pinned(self, version: int) -> ModelRef:
        return ModelRef(self.strategy, self.series, version)


def series_name(symbols: list[str] | tuple[str, ...], timeframe: str) -> str:
    return f"{'+'.join(symbols)}_{timeframe}"


def parse_model_name(name: str, *, field: str = "model") -> ModelRef:
    """Parse ``strategy[.series[_vN]]`` (``/`` may replace the ``.``).

    Raises
    ------
    ValidationError
        ``NEURAL-003`` naming the expected form.
    """
    text = name.strip()
    strategy, sep, rest = text.replace("/", ".", 1).partition(".")
    if not STRATEGY_RE.fullmatch(strategy) or (sep and not rest):
        raise ValidationError(
            codes.BAD_MODEL_NAME,
            f"'{field}' {name[:120]!r} is not a model name: use '<strategy>', "
            "'<strategy>.<SYMBOL>_<timeframe>' or '<strategy>.<SYMBOL>_<timeframe>_v<N>' "
            "(e.g. rsi_trend_eurusd_1h.EURUSD_1h_v3).",
            field=field,
        )
    if not rest:
        return ModelRef(strategy)
    match = VERSION_DIR_RE.fullmatch(rest)
    series, version = (match["series"], int(match["version"])) if match else (rest, None)
    if not SERIES_RE.fullmatch(series):
        raise ValidationError(
            codes.BAD_MODEL_NAME,
            f"'{field}' {name[:120]!r}: '{series}' is not '<SYMBOL>_<timeframe>' (symbols of a "
            "multi-symbol model joined with '+').",
            field=field,
        )
    return ModelRef(strategy, series, version)


class RegistryStorage(Protocol):
    """Where versions live: whole files as bytes (an encrypting storage can wrap this)."""

    def series(self) -> list[tuple[str, str]]:
        """Every (strategy, series) with at least one version."""
        ...

    def versions(self, strategy: str, series: str) -> list[int]:
        """Stored versions, ascending."""
        ...

    def read(self, strategy: str, series: str, version: int, file: str) -> bytes:
        """One file of a version (``FileNotFoundError`` when absent)."""
        ...

    def write_version(self, strategy: str, series: str, build: VersionBuilder) -> int:
        """Allocate the next version N, write ``build(N) -> {file: bytes}`` atomically, move
        ``latest`` to it, return N."""
        ...

    def delete_version(self, strategy: str, series: str, version: int) -> None:
        """Remove a version (its number is never reused); ``latest`` moves to the newest left."""
        ...

    def latest(self, strategy: str, series: str) -> int | None:
        """The version the ``latest`` pointer names."""
        ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class LocalStorage:
    """:class:`RegistryStorage` on a local directory (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked():
            for tmp in self.root.glob("*/.tmp-*"):
                shutil.rmtree(tmp, ignore_errors=True)
                log.warning("registry_incomplete_version_removed", path=str(tmp))
            self._repair_pointers()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _dir(self, strategy: str, series: str, version: int) -> Path:
        return self.root / strategy / f"{series}_v{version}"

    def series(self) -> list[tuple[str, str]]:
        out = set()
        for d in self.root.glob("*/*_v*"):
            match = VERSION_DIR_RE.fullmatch(d.name)
            if d.is_dir() and match:
                out.add((d.parent.name, match["series"]))
        return sorted(out)

    def versions(self, strategy: str, series: str) -> list[int]:
        return sorted(self._numbers(strategy, series, tombstones=False))

    def _numbers(self, strategy: str, series: str, *, tombstones: bool) -> set[int]:
        out = set()
        for d in (self.root / strategy).glob(f"{glob_escape(series)}_v*"):
            match = VERSION_DIR_RE.fullmatch(d.name.removesuffix(".deleted"))
            if match and match["series"] == series:
                is_tomb = d.name.endswith(".deleted")
                if (d.is_dir() and not is_tomb) or (tombstones and is_tomb):
                    out.add(int(match["version"]))
        return out

    def read(self, strategy: str, series: str, version: int, file: str) -> bytes:
        return (self._dir(strategy, series, version) / file).read_bytes()

    def write_version(self, strategy: str, series: str, build: VersionBuilder) -> int:
        parent = self.root / strategy
        parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            version = max(self._numbers(strategy, series, tombstones=True), default=0) + 1
            tmp = parent / f".tmp-{uuid.uuid4().hex}"
            tmp.mkdir()
            try:
                for file, data in build(version).items():
                    _write_synced(tmp / file, data)
                _fsync_dir(tmp)
                os.rename(tmp, self._dir(strategy, series, version))
                _fsync_dir(parent)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            self._point(strategy, series, version)
        return version

    def _point(self, strategy: str, series: str, version: int | None) -> None:
        pointer = self.root / strategy / f"{series}_latest"
        if version is None:
            pointer.unlink(missing_ok=True)
            return
        tmp = pointer.with_name(f".tmp-pointer-{uuid.uuid4().hex}")
        _write_synced(tmp, f"{series}_v{version}\n".encode())
        os.replace(tmp, pointer)
        _fsync_dir(pointer.parent)

    def latest(self, strategy: str, series: str) -> int | None:
        try:
            text = (self.root / strategy / f"{series}_latest").read_text().strip()
        except FileNotFoundError:
            return None
        match = VERSION_DIR_RE.fullmatch(text)
        return int(match["version"]) if match else None

    def delete_version(self, strategy: str, series: str, version: int) -> None:
        with self._locked():
            target = self._dir(strategy, series, version)
            if not target.is_dir():
                raise FileNotFoundError(str(target))
            _write_synced(target.with_name(f"{target.name}.deleted"), b"")
            trash = target.with_name(f".tmp-deleted-{uuid.uuid4().hex}")
            os.rename(target, trash)
            shutil.rmtree(trash, ignore_errors=True)
            self._point(strategy, series, max(self.versions(strategy, series), default=None))

    def files(self) -> Iterator[tuple[str, str, int, str]]:
        """Every stored file as (strategy, series, version, file name)."""
        for strategy, series in self.series():
            for version in self.versions(strategy, series):
                for path in sorted(self._dir(strategy, series, version).iterdir()):
                    if path.is_file() and not path.name.startswith("."):
                        yield strategy, series, version, path.name

    def head(self, strategy: str, series: str, version: int, file: str, size: int) -> bytes:
        """The first ``size`` bytes of a file (a sealed file's header, without reading it all)."""
        with open(self._dir(strategy, series, version) / file, "rb") as f:
            return f.read(size)

    def replace_file(
        self, strategy: str, series: str, version: int, file: str, data: bytes
    ) -> None:
        """Replace one file of a version atomically (re-encryption)."""
        target = self._dir(strategy, series, version) / file
        with self._locked():
            if not target.is_file():
                raise FileNotFoundError(str(target))
            tmp = target.with_name(f".tmp-{uuid.uuid4().hex}")
            try:
                _write_synced(tmp, data)
                os.replace(tmp, target)
                _fsync_dir(target.parent)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

    def _repair_pointers(self) -> None:
        """A writer killed between its rename and its pointer update left ``latest`` behind."""
        for strategy, series in self.series():
            newest = max(self.versions(strategy, series))
            if self.latest(strategy, series) != newest:
                self._point(strategy, series, newest)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


class EncryptedStorage:
    """:class:`RegistryStorage` sealing every file (metadata and weights) over a
    :class:`LocalStorage`.

    Each file is sealed with the keyring's primary key and bound to its name
    (``strategy/series_vN/file``): a flipped byte, a truncated file, a file moved between
    versions or a plain file put in place of a sealed one reads as ``DATA_LOSS`` ``COMMON-007``
    naming the file, never as a wrong model. Directory and file names (strategy, symbols,
    timeframe, version) stay readable.

    Open it with :meth:`open`, which checks every file's key before anything is served.
    """

    LABEL = "model registry"

    def __init__(self, inner: LocalStorage, keyring: sealed.Keyring) -> None:
        self.inner = inner
        self.keyring = keyring

    @classmethod
    def open(cls, inner: LocalStorage, keyring: sealed.Keyring | None) -> RegistryStorage:
        """The registry's storage for ``keyring``, checked and brought to its primary key.

        With no keyring, the plain storage (refused if any file is sealed). With one: every
        file's key must be in the keyring (checked before anything is written); plain files
        (written before encryption was turned on) are sealed and files sealed with a previous
        key re-sealed with the primary one. A tampered file is left as it is (reading it
        answers ``DATA_LOSS``).

        Raises
        ------
        ktrdr_core.sealed.NoKeyError, WrongKeyError
            Naming the store and the first file at fault; nothing was changed.
        """
        heads = {
            f: inner.head(*f, sealed.HEADER_BYTES)
            for f in inner.files()  # (strategy, series, version, file)
        }
        label = f"{cls.LABEL} {inner.root}"
        for (strategy, series, version, file), head in heads.items():
            context = _context(strategy, series, version, file)
            if keyring is None and sealed.is_sealed(head):
                sealed.open_blob(head, None, context=context, store=label)
            if keyring is not None:
                keyring.check_key(head, context=context, store=label)
        if keyring is None:
            return inner
        storage = cls(inner, keyring)
        storage.rotate(f for f, head in heads.items() if keyring.needs_rotation(head))
        return storage

    def rotate(self, files: Iterable[tuple[str, str, int, str]]) -> int:
        """Re-seal ``files`` with the primary key (sealing plain ones); returns how many."""
        done = 0
        for strategy, series, version, file in files:
            context = _context(strategy, series, version, file)
            blob = self.inner.read(strategy, series, version, file)
            try:
                if sealed.is_sealed(blob):
                    data = self._open(blob, context)
                else:
                    data = self._plain(strategy, series, version, file, blob)
            except DataLossError as exc:
                log.error("registry_file_not_sealed", file=context, error=exc.message)
                continue
            self.inner.replace_file(
                strategy, series, version, file, self.keyring.seal(data, context=context)
            )
            done += 1
        if done:
            log.info("registry_files_sealed", files=done, key_id=self.keyring.primary.key_id_hex)
        return done

    def _plain(self, strategy: str, series: str, version: int, file: str, blob: bytes) -> bytes:
        """A plain file's bytes if they are what a plain registry wrote: a JSON model.json, or
        weights matching its digest (so damage to a sealed file's header is never sealed as if
        it were plain data)."""
        context = _context(strategy, series, version, file)
        not_plain = sealed.TamperedError(
            TAMPERED_FILE,
            f"{self.LABEL}: '{context}' is neither encrypted nor a valid plain file; "
            "left as it is.",
            details={"file": context},
        )
        try:
            raw = self.inner.read(strategy, series, version, MODEL_FILE)
            meta_context = _context(strategy, series, version, MODEL_FILE)
            meta = json.loads(raw if not sealed.is_sealed(raw) else self._open(raw, meta_context))
            digest = meta["weights"]["sha256"]
        except (OSError, ValueError, KeyError, TypeError, DataLossError):
            raise not_plain from None
        if file == WEIGHTS_FILE and hashlib.sha256(blob).hexdigest() != digest:
            raise not_plain
        if file not in (MODEL_FILE, WEIGHTS_FILE):
            raise not_plain
        return blob

    def _open(self, blob: bytes, context: str) -> bytes:
        return self.keyring.open(blob, context=context, store=f"{self.LABEL} {self.inner.root}")

    def series(self) -> list[tuple[str, str]]:
        return self.inner.series()

    def versions(self, strategy: str, series: str) -> list[int]:
        return self.inner.versions(strategy, series)

    def latest(self, strategy: str, series: str) -> int | None:
        return self.inner.latest(strategy, series)

    def delete_version(self, strategy: str, series: str, version: int) -> None:
        self.inner.delete_version(strategy, series, version)

    def read(self, strategy: str, series: str, version: int, file: str) -> bytes:
        blob = self.inner.read(strategy, series, version, file)
        return self._open(blob, _context(strategy, series, version, file))

    def write_version(self, strategy: str, series: str, build: VersionBuilder) -> int:
        def sealed_build(version: int) -> dict[str, bytes]:
            return {
                file: self.keyring.seal(data, context=_context(strategy, series, version, file))
                for file, data in build(version).items()
            }

        return self.inner.write_version(strategy, series, sealed_build)


def _context(strategy: str, series: str, version: int, file: str) -> str:
    """A file's name inside the registry: what its seal is bound to."""
    return f"{strategy}/{series}_v{version}/{file}"


@dataclasses.dataclass(frozen=True, slots=True)
class StoredModel:
    """A version's metadata (``model.json``) and, when loaded, its weights' bytes."""

    ref: ModelRef
    metadata: dict[str, Any]
    latest: bool


class ModelRegistry:
    """Names, metadata and weights over a :class:`RegistryStorage`."""

    def __init__(self, storage: RegistryStorage) -> None:
        self.storage = storage

    def publish(
        self,
        *,
        strategy: str,
        series: str,
        metadata: Mapping[str, Any],
        weights: bytes,
    ) -> ModelRef:
        """Store a new version; ``metadata`` gains its name, version and the weights' digest."""
        if not STRATEGY_RE.fullmatch(strategy) or not SERIES_RE.fullmatch(series):
            raise ValidationError(
                codes.BAD_MODEL_NAME,
                f"'{strategy}.{series}' cannot name a model: strategy names use letters, digits, "
                "'_' and '-'.",
                field="strategy",
            )
        digest = hashlib.sha256(weights).hexdigest()

        def build(version: int) -> dict[str, bytes]:
            meta = {
                **metadata,
                "name": ModelRef(strategy, series, version).name,
                "version": version,
                "weights": {"file": WEIGHTS_FILE, "sha256": digest},
            }
            text = json.dumps(meta, indent=2, sort_keys=True, allow_nan=False)
            return {WEIGHTS_FILE: weights, MODEL_FILE: text.encode()}

        version = self.storage.write_version(strategy, series, build)
        ref = ModelRef(strategy, series, version)
        log.info("model_published", model=ref.name)
        return ref

    def resolve(self, ref: ModelRef) -> ModelRef:
        """The pinned version ``ref`` names (the latest when it names none)."""
        known = self.storage.series()
        if ref.series is None:
            mine = [s for st, s in known if st == ref.strategy]
            if len(mine) != 1:
                raise self._not_found(ref, known, many=mine)
            ref = ModelRef(ref.strategy, mine[0], ref.version)
        assert ref.series is not None
        if ref.version is None:
            latest = self.storage.latest(ref.strategy, ref.series)
            if latest is None:
                raise self._not_found(ref, known)
            return ref.pinned(latest)
        if ref.version not in self.storage.versions(ref.strategy, ref.series):
            raise self._not_found(ref, known)
        return ref

    def _not_found(
        self, ref: ModelRef, known: list[tuple[str, str]], *, many: list[str] | None = None
    ) -> NotFoundError:
        names = [ModelRef(st, s).name for st, s in known]
        versions = [
            ModelRef(st, s, v).name for st, s in known for v in self.storage.versions(st, s)
        ]
        if many:
            return NotFoundError(
                codes.MODEL_NOT_FOUND,
                f"Strategy '{ref.strategy}' has models for several series; name one of "
                f"{', '.join(ModelRef(ref.strategy, s).name for s in many)}.",
                field="model",
                suggestions=[ModelRef(ref.strategy, s).name for s in many],
            )
        return NotFoundError(
            codes.MODEL_NOT_FOUND,
            f"No stored model '{ref.name}'.",
            field="model",
            suggestions=suggest(ref.name, names + versions, n=5, cutoff=0.5),
        )

    def get(self, ref: ModelRef) -> StoredModel:
        """Metadata of one version (``ref`` resolved first)."""
        ref = self.resolve(ref)
        assert ref.series is not None and ref.version is not None
        try:
            raw = self.storage.read(ref.strategy, ref.series, ref.version, MODEL_FILE)
            metadata = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise DataLossError(
                codes.CORRUPT_MODEL, f"Model '{ref.name}' has an unreadable model.json: {exc}."
            ) from exc
        latest = self.storage.latest(ref.strategy, ref.series) == ref.version
        return StoredModel(ref, metadata, latest)

    def weights(self, model: StoredModel) -> bytes:
        """The version's weights, checked against the digest in its metadata."""
        ref = model.ref
        assert ref.series is not None and ref.version is not None
        try:
            data = self.storage.read(ref.strategy, ref.series, ref.version, WEIGHTS_FILE)
        except OSError as exc:
            raise DataLossError(
                codes.CORRUPT_MODEL, f"Model '{ref.name}' has no readable weights: {exc}."
            ) from exc
        if hashlib.sha256(data).hexdigest() != model.metadata["weights"]["sha256"]:
            raise DataLossError(
                codes.CORRUPT_MODEL,
                f"Model '{ref.name}': the weights do not match the digest in model.json.",
            )
        return data

    def list(self, *, strategy: str = "") -> list[StoredModel]:
        """Every version (of ``strategy`` when given), by name then version."""
        out = []
        for st, series in self.storage.series():
            if strategy and st != strategy:
                continue
            for version in self.storage.versions(st, series):
                with contextlib.suppress(DataLossError, NotFoundError):
                    out.append(self.get(ModelRef(st, series, version)))
        return out

    def delete(self, ref: ModelRef) -> ModelRef:
        """Delete one pinned version (a name without ``_vN`` is refused)."""
        if ref.version is None or ref.series is None:
            known = self.storage.series()
            candidates = [
                ModelRef(st, s, v).name
                for st, s in known
                if st == ref.strategy and (ref.series is None or s == ref.series)
                for v in self.storage.versions(st, s)
            ]
            raise FailedPreconditionError(
                codes.BAD_MODEL_NAME,
                f"Deleting needs a pinned version ('{ref.name}_v<N>'); versions: "
                f"{', '.join(candidates) or 'none'}.",
                field="name",
                suggestions=candidates[-3:],
            )
        ref = self.resolve(ref)
        assert ref.series is not None and ref.version is not None
        self.storage.delete_version(ref.strategy, ref.series, ref.version)
        log.info("model_deleted", model=ref.name)
        return ref
