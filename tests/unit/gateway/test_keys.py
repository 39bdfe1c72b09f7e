"""API key hashing, the key store file and the local dev key."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from ktrdr_gateway import keys


def test_new_key_format_and_hash() -> None:
    key, key_id = keys.new_key()
    assert keys.KEY_RE.match(key)
    assert key.startswith(f"ktrdr_{key_id}_")
    assert keys.hash_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert keys.new_key()[0] != key


def test_store_keeps_only_hashes_with_0600(tmp_path: Path) -> None:
    store = keys.KeyStore(tmp_path / "gateway" / "api-keys")
    key, record = store.create("read", "ci bot")
    text = store.path.read_text()
    assert key not in text
    assert record.key_hash in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.verify(key) == record
    assert record.label == "ci-bot"
    assert store.verify(key + "x") is None
    assert store.verify("") is None


def test_revoke(tmp_path: Path) -> None:
    store = keys.KeyStore(tmp_path / "api-keys")
    k1, r1 = store.create("admin")
    k2, _ = store.create("trade")
    assert store.revoke(r1.key_id)
    assert not store.revoke(r1.key_id)
    assert store.verify(k1) is None
    assert store.verify(k2) is not None


def test_unknown_role_rejected(tmp_path: Path) -> None:
    with pytest.raises(keys.KeyError_):
        keys.KeyStore(tmp_path / "api-keys").create("root")


def test_malformed_line_rejected() -> None:
    with pytest.raises(keys.KeyError_):
        keys.parse_line("nothex read id 2024")
    assert keys.parse_line("# comment") is None
    assert keys.parse_line("   ") is None


def test_dev_key_created_once_0600(tmp_path: Path) -> None:
    path = keys.ensure_dev_key(tmp_path)
    key = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store = keys.KeyStore(keys.store_path(tmp_path))
    record = store.verify(key)
    assert record is not None and record.role == "admin"
    assert keys.ensure_dev_key(tmp_path) == path
    assert path.read_text().strip() == key
    assert len(store.records()) == 1
    # A dev key whose hash vanished from the store is replaced.
    store.revoke(record.key_id)
    keys.ensure_dev_key(tmp_path)
    assert path.read_text().strip() != key


def test_env_hashes() -> None:
    rec = keys.KeyRecord("a" * 64, "read", "abcd1234", "2024-01-01T00:00:00Z")
    assert keys.env_hashes([rec]) == f"{'a' * 64}:read:abcd1234"


def test_concurrent_key_creation_loses_no_key(tmp_path):
    import multiprocessing

    from ktrdr_gateway.keys import KeyStore

    path = tmp_path / "gateway" / "api-keys"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.starmap(_create_keys, [(str(path), 10)] * 4)
    assert len(KeyStore(path).records()) == 40


def _create_keys(path: str, count: int) -> None:
    from pathlib import Path

    from ktrdr_gateway.keys import KeyStore

    store = KeyStore(Path(path))
    for _ in range(count):
        store.create("read")
