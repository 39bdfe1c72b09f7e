"""The model registry sealed at rest: no weights or metadata in clear on disk, tampering is
DATA_LOSS naming the file while other models keep serving, rotation, wrong key refused.

The reference for "the same model" is the served prediction of a plain registry holding the
same weights.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save

from ktrdr_core import sealed
from ktrdr_core.errors import DataLossError
from ktrdr_core.sealed import EncryptionKey, Keyring
from ktrdr_core.strategy.training import ModelConfig
from ktrdr_neural.domain.models import Network, state_arrays
from ktrdr_neural.domain.registry import (
    EncryptedStorage,
    LocalStorage,
    ModelRef,
    ModelRegistry,
)
from ktrdr_neural.domain.serving import ModelServer

KEY = EncryptionKey.generate()
OLD = EncryptionKey.generate()
FEATURES = ("1h_a_low", "1h_a_high", "1h_b_x")
MLP = ModelConfig(type="mlp", hidden_layers=(8,))
MARKER_STRATEGY_NOTE = "confidential-research-note-4711"


def _metadata() -> dict:
    return {
        "created_at": "2026-01-01T00:00:00Z",
        "strategy": "s",
        "symbols": ["EURUSD"],
        "timeframe": "1h",
        "features": [
            {"name": n, "scaling": {"method": "none", "offset": 0.0, "divisor": 1.0}}
            for n in FEATURES
        ],
        "model": MLP.to_dict(),
        "metrics": {"evaluations": [], "history": [], "best_epoch": 0},
        "return_scale": 1.0,
        "note": MARKER_STRATEGY_NOTE,
    }


def _weights(seed: int) -> tuple[bytes, dict[str, np.ndarray]]:
    torch.manual_seed(seed)
    arrays = state_arrays(Network(MLP, len(FEATURES)))
    return save(arrays), arrays


def _registry(root: Path, keyring: Keyring | None) -> ModelRegistry:
    return ModelRegistry(EncryptedStorage.open(LocalStorage(root), keyring))


def _publish(registry: ModelRegistry, series: str = "EURUSD_1h", seed: int = 0) -> ModelRef:
    weights, _ = _weights(seed)
    return registry.publish(strategy="s", series=series, metadata=_metadata(), weights=weights)


def _predict(registry: ModelRegistry, ref: ModelRef) -> np.ndarray:
    loaded = ModelServer(registry, cache_size=1).load(ref)
    rows = np.linspace(0.0, 1.0, 12, dtype=np.float64).reshape(4, 3)
    return np.asarray(loaded.predict(rows).probabilities)


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_no_weight_or_metadata_is_in_clear_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "models"
    registry = _registry(root, Keyring(KEY))
    ref = _publish(registry)
    on_disk = _all_bytes(root)
    _, arrays = _weights(0)
    for array in arrays.values():  # every tensor's raw bytes, and each weight as a float32
        assert array.tobytes() not in on_disk
        for value in array.ravel()[:16]:
            assert struct.pack("<f", float(value)) not in on_disk
    for clear in (MARKER_STRATEGY_NOTE, '"features"', "mlp", "safetensors"):
        assert clear.encode() not in _all_bytes(root / "s" / "EURUSD_1h_v1")
    assert KEY.material not in on_disk and KEY.to_text().encode() not in on_disk
    plain = _registry(tmp_path / "plain", None)
    plain_ref = _publish(plain)
    np.testing.assert_array_equal(_predict(registry, ref), _predict(plain, plain_ref))


def test_a_flipped_byte_is_data_loss_naming_the_file_and_other_models_still_serve(
    tmp_path: Path,
) -> None:
    root = tmp_path / "models"
    registry = _registry(root, Keyring(KEY))
    bad, good = _publish(registry, "EURUSD_1h"), _publish(registry, "GBPUSD_1h", seed=1)
    weights = root / "s" / "EURUSD_1h_v1" / "weights.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    weights.write_bytes(bytes(blob))

    reopened = _registry(root, Keyring(KEY))  # a restart: the tampered file is left as it is
    with pytest.raises(DataLossError) as info:
        ModelServer(reopened, cache_size=1).load(bad)
    assert info.value.code == "COMMON-007"
    assert "s/EURUSD_1h_v1/weights.safetensors" in info.value.message
    assert _predict(reopened, good).shape == (4, 3)
    assert reopened.get(bad).metadata["note"] == MARKER_STRATEGY_NOTE  # metadata intact
    assert bytes(blob) == weights.read_bytes()  # never rewritten


def test_a_plain_file_put_in_place_of_a_sealed_one_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "models"
    registry = _registry(root, Keyring(KEY))
    ref = _publish(registry)
    forged = json.dumps({**_metadata(), "weights": {"sha256": "0" * 64}}).encode()
    (root / "s" / "EURUSD_1h_v1" / "model.json").write_bytes(forged)
    with pytest.raises(DataLossError, match=r"model\.json"):
        registry.get(ref)


def test_weights_moved_between_versions_are_detected(tmp_path: Path) -> None:
    root = tmp_path / "models"
    registry = _registry(root, Keyring(KEY))
    v1, _ = _publish(registry), _publish(registry, seed=1)
    one, two = root / "s" / "EURUSD_1h_v1", root / "s" / "EURUSD_1h_v2"
    (one / "weights.safetensors").write_bytes((two / "weights.safetensors").read_bytes())
    with pytest.raises(DataLossError, match=r"EURUSD_1h_v1/weights\.safetensors"):
        ModelServer(registry, cache_size=1).load(v1)


def test_turning_encryption_on_seals_plain_models_and_rotation_reseals_them(
    tmp_path: Path,
) -> None:
    root = tmp_path / "models"
    plain = _registry(root, None)
    ref = _publish(plain)
    expected = _predict(plain, ref)

    on = _registry(root, Keyring(OLD))
    heads = {p.name: p.read_bytes()[:29] for p in (root / "s" / "EURUSD_1h_v1").iterdir()}
    assert all(sealed.key_id_of(h) == OLD.key_id for h in heads.values())
    np.testing.assert_array_equal(_predict(on, ref), expected)

    rotated = _registry(root, Keyring(KEY, [OLD]))
    for path in (root / "s" / "EURUSD_1h_v1").iterdir():
        assert sealed.key_id_of(path.read_bytes()) == KEY.key_id
    np.testing.assert_array_equal(_predict(rotated, ref), expected)
    np.testing.assert_array_equal(_predict(_registry(root, Keyring(KEY)), ref), expected)


def test_a_wrong_or_missing_key_refuses_the_registry_and_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "models"
    _publish(_registry(root, Keyring(KEY)))
    before = _all_bytes(root)
    with pytest.raises(sealed.WrongKeyError) as info:
        _registry(root, Keyring(OLD))
    assert "model registry" in info.value.message and str(root) in info.value.message
    with pytest.raises(sealed.NoKeyError, match="KTRDR_ENCRYPTION_KEY"):
        _registry(root, None)
    assert _all_bytes(root) == before


def test_a_damaged_header_is_never_sealed_as_if_it_were_plain(tmp_path: Path) -> None:
    root = tmp_path / "models"
    ref = _publish(_registry(root, Keyring(KEY)))
    weights = root / "s" / "EURUSD_1h_v1" / "weights.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[0] ^= 0xFF  # the magic: the file no longer looks sealed
    weights.write_bytes(bytes(blob))
    reopened = _registry(root, Keyring(KEY))
    assert weights.read_bytes() == bytes(blob)
    with pytest.raises(DataLossError, match=r"weights\.safetensors"):
        ModelServer(reopened, cache_size=1).load(ref)
