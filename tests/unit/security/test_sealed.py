"""Encryption at rest (ktrdr_core.sealed): AES-GCM envelopes, tamper evidence, key rotation.

The envelope is checked against an independent AES-GCM decryption (the ``cryptography``
primitive, driven from the documented layout), not only against the module's own ``open``.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core import sealed
from ktrdr_core.errors import DataLossError, FailedPreconditionError, Status, ValidationError
from ktrdr_core.sealed import EncryptionKey, Keyring

KEY = EncryptionKey(bytes(range(32)))
OTHER = EncryptionKey(bytes(range(1, 33)))


def test_envelope_decrypts_with_plain_aes_gcm_from_the_documented_layout() -> None:
    blob = Keyring(KEY).seal(b"model weights", context="s/EURUSD_1h_v1/weights.safetensors")
    assert blob[:8] == b"KTRDRENC" and blob[8] == 1
    assert blob[9:17] == KEY.key_id
    header, nonce = blob[:29], blob[17:29]
    aad = header + b"s/EURUSD_1h_v1/weights.safetensors"
    assert AESGCM(KEY.material).decrypt(nonce, blob[29:], aad) == b"model weights"


def test_the_same_data_seals_differently_each_time() -> None:
    ring = Keyring(KEY)
    assert ring.seal(b"x" * 64, context="f") != ring.seal(b"x" * 64, context="f")


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2048), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_flipped_bit_is_detected_as_data_loss(data: bytes, position: int, bit: int) -> None:
    ring = Keyring(KEY, [OTHER])
    blob = bytearray(ring.seal(data, context="store/file"))
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises((sealed.TamperedError, sealed.WrongKeyError)) as info:
        ring.open(bytes(blob), context="store/file", store="test store")
    assert "store/file" in info.value.message and "test store" in info.value.message


def test_a_flipped_byte_in_the_ciphertext_is_data_loss_naming_the_file() -> None:
    ring = Keyring(KEY)
    blob = bytearray(ring.seal(b"secret metadata", context="a/b_v1/model.json"))
    blob[-20] ^= 0xFF
    with pytest.raises(DataLossError) as info:
        ring.open(bytes(blob), context="a/b_v1/model.json", store="model registry")
    assert info.value.status is Status.DATA_LOSS
    assert info.value.code == "COMMON-007"
    assert "a/b_v1/model.json" in info.value.message
    assert info.value.details == {"file": "a/b_v1/model.json"}


def test_a_file_moved_to_another_name_fails_its_check() -> None:
    ring = Keyring(KEY)
    blob = ring.seal(b"weights of v1", context="s/X_1h_v1/weights.safetensors")
    with pytest.raises(sealed.TamperedError):
        ring.open(blob, context="s/X_1h_v2/weights.safetensors")


def test_truncated_and_plain_content_are_not_accepted_as_sealed() -> None:
    ring = Keyring(KEY)
    blob = ring.seal(b"data", context="f")
    for bad in (blob[:20], blob[:-1], b"plain text"):
        with pytest.raises(sealed.TamperedError):
            ring.open(bad, context="f")


def test_a_wrong_key_is_told_apart_from_tampering() -> None:
    blob = Keyring(OTHER).seal(b"data", context="f")
    with pytest.raises(sealed.WrongKeyError) as info:
        Keyring(KEY).open(blob, context="f", store="API key store")
    assert isinstance(info.value, FailedPreconditionError)
    assert info.value.code == "COMMON-008"
    assert OTHER.key_id_hex in info.value.message and "API key store" in info.value.message


def test_rotation_reads_with_the_previous_key_and_seals_with_the_new() -> None:
    old_blob = Keyring(OTHER).seal(b"data", context="f")
    rotating = Keyring(KEY, previous=[OTHER])
    assert rotating.needs_rotation(old_blob)
    data = rotating.open(old_blob, context="f")
    new_blob = rotating.seal(data, context="f")
    assert not rotating.needs_rotation(new_blob)
    assert Keyring(KEY).open(new_blob, context="f") == b"data"
    with pytest.raises(sealed.WrongKeyError):
        Keyring(OTHER).open(new_blob, context="f")


def test_keys_parse_from_base64_and_hex_and_bad_text_is_refused_without_echo() -> None:
    text = base64.b64encode(KEY.material).decode()
    assert EncryptionKey.from_text(text) == KEY
    assert EncryptionKey.from_text(KEY.material.hex()) == KEY
    assert EncryptionKey.from_text(base64.urlsafe_b64encode(KEY.material).decode()) == KEY
    assert EncryptionKey.from_text(KEY.to_text() + "\n") == KEY
    for bad in ("short", text[:-4], "zz" * 32, base64.b64encode(b"x" * 16).decode()):
        with pytest.raises(ValidationError) as info:
            EncryptionKey.from_text(bad, source="KTRDR_ENCRYPTION_KEY_FILE")
        assert "KTRDR_ENCRYPTION_KEY_FILE" in info.value.message
        assert bad not in info.value.message


def test_a_key_never_shows_in_its_repr_or_the_keyring_repr() -> None:
    assert KEY.material.hex() not in repr(KEY)
    assert KEY.to_text() not in repr(Keyring(KEY, [OTHER]))
    assert KEY.key_id_hex in repr(Keyring(KEY))


def test_sealed_content_without_a_key_is_refused_and_plain_passes_through() -> None:
    blob = Keyring(KEY).seal(b"data", context="f")
    with pytest.raises(sealed.NoKeyError) as info:
        sealed.open_blob(blob, None, context="f", store="API key store")
    assert "KTRDR_ENCRYPTION_KEY_FILE" in info.value.message
    assert sealed.open_blob(b"plain", None, context="f") == b"plain"


def test_write_file_is_owner_only_and_holds_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "store"
    secret = b"ktrdr_0123abcd_" + b"s" * 43
    sealed.write_file(path, secret, Keyring(KEY), context="store")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    on_disk = path.read_bytes()
    assert secret not in on_disk and KEY.material not in on_disk
    assert KEY.to_text().encode() not in on_disk
    assert sealed.read_file(path, Keyring(KEY), context="store") == secret
    assert [p.name for p in path.parent.iterdir()] == ["store"]  # no temporary left
