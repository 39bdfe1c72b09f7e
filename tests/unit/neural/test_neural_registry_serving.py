"""The registry (atomic, immutable, latest pointer) and serving (schema enforced, streams)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.numpy import save

from ktrdr_core.errors import (
    DataLossError,
    FailedPreconditionError,
    NotFoundError,
    ValidationError,
)
from ktrdr_core.strategy.training import ModelConfig
from ktrdr_neural.domain.models import Network, state_arrays
from ktrdr_neural.domain.registry import (
    LocalStorage,
    ModelRef,
    ModelRegistry,
    parse_model_name,
)
from ktrdr_neural.domain.serving import LoadedModel, ModelServer

FEATURES = ("1h_a_low", "1h_a_high", "1h_b_x", "1h_raw_raw")


def _metadata(config: ModelConfig, features=FEATURES, *, raw_scaling=None) -> dict:
    scaling = [{"method": "none", "offset": 0.0, "divisor": 1.0} for _ in features]
    if raw_scaling:
        scaling[-1] = raw_scaling
    return {
        "created_at": "2026-01-01T00:00:00Z",
        "strategy": "s",
        "symbols": ["EURUSD"],
        "timeframe": "1h",
        "features": [{"name": n, "scaling": s} for n, s in zip(features, scaling, strict=True)],
        "model": config.to_dict(),
        "metrics": {"evaluations": [], "history": [], "best_epoch": 0},
        "return_scale": 1.0,
    }


def _weights(config: ModelConfig, n: int = len(FEATURES), seed: int = 0) -> bytes:
    torch.manual_seed(seed)
    return save(state_arrays(Network(config, n)))


MLP = ModelConfig(type="mlp", hidden_layers=(8,))
GRU = ModelConfig(type="gru", hidden_size=5, sequence_length=4)


@pytest.fixture
def registry(tmp_path) -> ModelRegistry:
    return ModelRegistry(LocalStorage(tmp_path / "models"))


def _publish(registry, config=MLP, series="EURUSD_1h", seed=0, **kw) -> ModelRef:
    return registry.publish(
        strategy="s",
        series=series,
        metadata=_metadata(config, **kw),
        weights=_weights(config, seed=seed),
    )


def test_model_names_parse_and_reject_traversal():
    assert parse_model_name("rsi.EURUSD_1h_v3") == ModelRef("rsi", "EURUSD_1h", 3)
    assert parse_model_name("rsi/EURUSD+GBPUSD_4h") == ModelRef("rsi", "EURUSD+GBPUSD_4h")
    assert parse_model_name("rsi") == ModelRef("rsi")
    assert ModelRef("rsi", "EURUSD_1h", 3).name == "rsi.EURUSD_1h_v3"
    for bad in ("../etc", "rsi.../x", "rsi.eurusd_1h", "rsi.EURUSD_7h", "", "a/b/c", "rsi."):
        with pytest.raises(ValidationError) as info:
            parse_model_name(bad)
        assert info.value.code == "NEURAL-003"


def test_versions_are_numbered_immutable_and_latest_follows(registry, tmp_path):
    v1 = _publish(registry)
    v2 = _publish(registry, seed=1)
    assert (v1.version, v2.version) == (1, 2)
    assert registry.resolve(ModelRef("s", "EURUSD_1h")) == v2
    assert registry.resolve(ModelRef("s")) == v2
    assert (tmp_path / "models/s/EURUSD_1h_latest").read_text().strip() == "EURUSD_1h_v2"
    stored = registry.get(v1)
    assert stored.metadata["name"] == "s.EURUSD_1h_v1" and not stored.latest
    assert registry.weights(stored) == _weights(MLP, seed=0)
    # deleting the latest moves the pointer back; the number is never given out again
    registry.delete(v2)
    assert registry.resolve(ModelRef("s")) == v1
    assert _publish(registry, seed=2).version == 3
    assert [m.ref.version for m in registry.list()] == [1, 3]


def test_delete_needs_a_pinned_version(registry):
    _publish(registry)
    with pytest.raises(FailedPreconditionError) as info:
        registry.delete(ModelRef("s", "EURUSD_1h"))
    assert "s.EURUSD_1h_v1" in info.value.message


def test_unknown_models_are_not_found_with_close_matches(registry):
    _publish(registry)
    with pytest.raises(NotFoundError) as info:
        registry.resolve(parse_model_name("s.EURUSD_1h_v9"))
    assert info.value.code == "NEURAL-002" and "s.EURUSD_1h_v1" in info.value.suggestions
    with pytest.raises(NotFoundError) as info:
        registry.resolve(parse_model_name("s.EURUSB_1h"))
    assert "s.EURUSD_1h" in info.value.suggestions


def test_tampered_weights_are_refused(registry, tmp_path):
    ref = _publish(registry)
    path = tmp_path / "models/s/EURUSD_1h_v1/weights.safetensors"
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(DataLossError) as info:
        registry.weights(registry.get(ref))
    assert info.value.code == "NEURAL-010"


_KILL = textwrap.dedent(
    """
    import os, signal, sys
    from ktrdr_neural.domain import registry as reg
    if sys.argv[2] == "rename":
        reg.os.rename = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
    else:
        real = reg._write_synced
        def half(path, data):
            if path.name == "model.json":
                with open(path, "wb") as f:
                    f.write(data[: len(data) // 2])
                os.kill(os.getpid(), signal.SIGKILL)
            real(path, data)
        reg._write_synced = half
    store = reg.ModelRegistry(reg.LocalStorage(sys.argv[1]))
    store.publish(strategy="s", series="EURUSD_1h", metadata={"x": 1}, weights=b"w" * 4_000_000)
    """
)


@pytest.mark.parametrize("when", ["rename", "write"])
def test_sigkill_mid_write_leaves_no_version(registry, tmp_path, when):
    _publish(registry)
    root = tmp_path / "models"
    proc = subprocess.run(
        [sys.executable, "-c", _KILL, str(root), when], capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert list(root.glob("s/.tmp-*"))  # the crash really happened mid-write
    reopened = ModelRegistry(LocalStorage(root))
    assert [m.ref.name for m in reopened.list()] == ["s.EURUSD_1h_v1"]
    assert not list(root.glob("s/.tmp-*"))
    assert reopened.resolve(ModelRef("s")).version == 1
    assert _publish(reopened, seed=3).version == 2


def test_schema_is_enforced_naming_the_first_difference(registry):
    model = ModelServer(registry).load(_publish(registry))
    cases = {
        (*FEATURES[:-1],): "'1h_raw_raw' is missing",
        (*FEATURES, "1h_extra"): "'1h_extra' is extra",
        (FEATURES[1], FEATURES[0], *FEATURES[2:]): "feature 0 is '1h_a_high' where the model "
        "expects '1h_a_low'",
        (*FEATURES[:2], "1h_b_y", FEATURES[3]): "feature 2 is '1h_b_y'",
    }
    for names, needle in cases.items():
        with pytest.raises(FailedPreconditionError) as info:
            model.check_features(names)
        assert info.value.code == "NEURAL-004" and needle in info.value.message
    with pytest.raises(FailedPreconditionError, match="expects 4 features"):
        model.predict(np.zeros((2, 3)))
    model.check_features(FEATURES)  # the right schema passes


def test_stored_scaling_is_applied_to_raw_columns(registry):
    scaling = {"method": "zscore", "offset": 100.0, "divisor": 10.0}
    scaled = ModelServer(registry).load(_publish(registry, raw_scaling=scaling))
    plain = ModelServer(registry).load(_publish(registry, seed=0))
    x = np.random.default_rng(0).uniform(0, 1, (5, 4))
    raw = x.copy()
    raw[:, 3] = x[:, 3] * 10 + 100
    np.testing.assert_allclose(scaled.predict(raw).probabilities, plain.predict(x).probabilities)


def test_rows_not_ready_get_no_signal_and_probabilities_sum_to_one(registry):
    model = ModelServer(registry).load(_publish(registry))
    x = np.random.default_rng(0).uniform(0, 1, (6, 4))
    x[2, 1] = np.nan
    out = model.predict(x)
    assert out.ready.tolist() == [True, True, False, True, True, True]
    assert out.signals[2] == -1 and np.isnan(out.probabilities[2]).all()
    np.testing.assert_allclose(out.probabilities[out.ready].sum(1), 1.0)
    assert (out.confidence[out.ready] == out.probabilities[out.ready].max(1)).all()


def test_sequence_model_stream_equals_batch_across_message_boundaries(registry):
    ref = _publish(registry, config=GRU, series="EURUSD_4h")
    model = ModelServer(registry).load(ref)
    x = np.random.default_rng(2).uniform(0, 1, (40, 4))
    x[10, 0] = np.nan  # breaks the window for rows 10..13
    whole = model.predict(x)
    assert whole.ready.tolist()[:3] == [False] * 3 and not whole.ready[10:14].any()
    stream = model.stream()
    parts = [stream.update(x[a:b]) for a, b in ((0, 1), (1, 5), (5, 17), (17, 40))]
    np.testing.assert_array_equal(np.concatenate([p.signals for p in parts]), whole.signals)
    np.testing.assert_allclose(
        np.concatenate([p.probabilities for p in parts]), whole.probabilities, rtol=1e-6
    )


def test_models_are_cached_and_a_restart_loads_identical_predictions(registry, tmp_path):
    ref = _publish(registry)
    server = ModelServer(registry, cache_size=1)
    first = server.load(ref)
    assert server.load(ModelRef("s")) is first  # latest resolves to the cached version
    x = np.random.default_rng(4).uniform(0, 1, (9, 4))
    fresh = ModelServer(ModelRegistry(LocalStorage(tmp_path / "models"))).load(ref)
    assert fresh is not first
    np.testing.assert_array_equal(fresh.predict(x).probabilities, first.predict(x).probabilities)


def test_model_json_is_plain_json_and_loading_runs_no_code(registry, tmp_path):
    ref = _publish(registry)
    version_dir = tmp_path / "models/s/EURUSD_1h_v1"
    assert sorted(p.name for p in version_dir.iterdir()) == ["model.json", "weights.safetensors"]
    meta = json.loads((version_dir / "model.json").read_text())
    assert meta["weights"]["file"] == "weights.safetensors"
    assert isinstance(LoadedModel(ref, meta, registry.weights(registry.get(ref))), LoadedModel)
