"""The strategy's model/training sections: every setting used or rejected, all problems at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import load_strategy
from ktrdr_core.strategy.training import (
    parse_network_spec,
    spec_from_dict,
    spec_to_dict,
)

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
LABELS = {"source": "forward_return", "horizon_bars": 6, "threshold": 0.002}


def _error(model, training, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_network_spec(model, training, **kw)
    assert info.value.code == "NEURAL-001"
    return info.value


@pytest.mark.parametrize("path", sorted(STRATEGIES.glob("*.yaml")), ids=lambda p: p.stem)
def test_bundled_strategies_parse_with_their_settings_used(path):
    strategy = load_strategy(path)
    spec = parse_network_spec(strategy.model, strategy.training)
    assert spec.model.hidden_layers == tuple(strategy.model["architecture"]["hidden_layers"])
    assert spec.training.epochs == strategy.training["epochs"]
    assert spec.training.learning_rate == strategy.training["learning_rate"]
    assert spec.training.labels.label_lookahead == strategy.training["labels"]["label_lookahead"]


def test_model_training_block_is_rejected_naming_the_keys_to_move():
    err = _error(
        {"type": "mlp", "training": {"learning_rate": 0.01, "epochs": 5}},
        {"labels": LABELS},
    )
    assert err.field == "model.training"
    assert "top-level 'training:'" in err.message
    assert "'learning_rate', 'epochs'" in err.message


def test_every_problem_is_reported_at_once_with_suggestions():
    err = _error(
        {"type": "mlpp", "architecture": {"hiden_layers": [8]}},
        {
            "labels": {"source": "triple_barrier", "pt_multiplier": 2},
            "epochz": 3,
            "optimizer": "sgd",
            "batch_size": 0,
        },
    )
    text = err.message
    assert "6 problems" in text
    for needle in (
        "model.type: 'mlpp'",
        "Did you mean 'mlp'",
        "model.architecture.hiden_layers",
        "'hidden_layers'",
        "training.labels.pt_multiplier: unknown key; this setting is called 'take_profit_atr'",
        "training.epochz",
        "'epochs'",
        "training.optimizer: 'sgd' is not one of adam, adamw",
        "training.batch_size: 0 is out of bounds [1, 65536]",
    ):
        assert needle in text, needle


def test_single_problem_carries_its_suggestions_in_the_error_detail():
    err = _error({"type": "mlp"}, {"labels": LABELS, "learning_rat": 0.1})
    assert err.field == "training.learning_rat"
    assert err.suggestions == ("learning_rate",)


def test_architecture_key_of_the_other_model_type_is_rejected_with_the_reason():
    err = _error({"type": "mlp", "architecture": {"sequence_length": 10}}, {"labels": LABELS})
    assert "applies to lstm/gru models; this one is mlp" in err.message
    err = _error({"type": "gru", "architecture": {"batch_norm": True}}, {"labels": LABELS})
    assert "applies to mlp models; this one is gru" in err.message


def test_settings_of_another_label_source_are_rejected():
    err = _error({"type": "mlp"}, {"labels": {"source": "zigzag", "horizon_bars": 5}})
    assert err.field == "training.labels.horizon_bars"


def test_focal_gamma_without_focal_loss_is_rejected():
    err = _error({"type": "mlp"}, {"labels": LABELS, "focal_gamma": 3.0})
    assert "only with loss: focal" in err.message


def test_split_fractions_must_sum_to_one():
    err = _error({"type": "mlp"}, {"labels": LABELS, "data_split": {"train": 0.8}})
    assert "must be 1" in err.message and err.field == "training.data_split"


def test_request_overrides_apply_and_are_validated_too():
    spec = parse_network_spec(
        {"type": "mlp"},
        {"labels": LABELS, "epochs": 50},
        overrides={"epochs": 2, "labels": {"horizon_bars": 3}},
    )
    assert spec.training.epochs == 2
    assert spec.training.labels.horizon_bars == 3
    assert spec.training.labels.threshold == 0.002  # nested mappings merge
    err = _error({"type": "mlp"}, {"labels": LABELS}, overrides={"epoks": 2})
    assert err.suggestions == ("epochs",)


def test_every_setting_reaches_the_typed_config():
    spec = parse_network_spec(
        {
            "type": "lstm",
            "architecture": {
                "hidden_size": 7,
                "num_layers": 2,
                "dropout": 0.1,
                "sequence_length": 5,
            },
            "regression_head": {"horizon_bars": 9, "loss_weight": 2.0},
        },
        {
            "method": "supervised",
            "labels": {
                "source": "triple_barrier",
                "take_profit_atr": 3,
                "stop_loss_atr": 1,
                "max_holding_bars": 20,
                "atr_period": 10,
            },
            "data_split": {"train": 0.6, "validation": 0.2, "test": 0.2, "embargo_pct": 0.02},
            "epochs": 4,
            "batch_size": 32,
            "learning_rate": 0.01,
            "optimizer": "adamw",
            "weight_decay": 0.01,
            "loss": "focal",
            "focal_gamma": 1.5,
            "class_weights": [1, 2, 3],
            "early_stopping": {"patience": 2, "min_delta": 0.01},
            "lr_scheduler": {"type": "step", "step_size": 2, "gamma": 0.3},
            "gradient_clip": 0.5,
            "seed": 7,
        },
    )
    m, t = spec.model, spec.training
    assert (m.type, m.hidden_size, m.num_layers, m.sequence_length) == ("lstm", 7, 2, 5)
    assert m.regression_head is not None and m.regression_head.horizon_bars == 9
    assert (t.labels.take_profit_atr, t.labels.stop_loss_atr, t.labels.max_holding_bars) == (
        3.0,
        1.0,
        20,
    )
    assert t.labels.atr_period == 10 and t.split.embargo_pct == 0.02
    assert (t.optimizer, t.weight_decay, t.loss, t.focal_gamma) == ("adamw", 0.01, "focal", 1.5)
    assert t.class_weights == (1.0, 2.0, 3.0)
    assert t.early_stopping is not None and t.early_stopping.patience == 2
    assert (t.lr_scheduler.type, t.lr_scheduler.step_size, t.lr_scheduler.gamma) == ("step", 2, 0.3)
    assert (t.gradient_clip, t.seed) == (0.5, 7)
    assert spec.label_window == 20
    assert spec_from_dict(spec_to_dict(spec)) == spec


def test_the_settings_module_does_not_import_torch():
    code = "import sys, ktrdr_core.strategy.training; assert 'torch' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
