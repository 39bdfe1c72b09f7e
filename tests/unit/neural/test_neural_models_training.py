"""Networks, the NumPy serving forward, losses, metrics against scikit-learn, reproducibility."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch
from neural_testutil import MemorySource, make_strategy
from safetensors.numpy import load, save
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from ktrdr_core.strategy.training import ModelConfig, RegressionHeadConfig
from ktrdr_neural.domain.metrics import evaluate
from ktrdr_neural.domain.models import Network, NumpyMLP, load_network, softmax, state_arrays
from ktrdr_neural.domain.plan import TrainRequest, plan_training
from ktrdr_neural.domain.training import (
    class_weights,
    focal_loss,
    logistic_baseline,
    train_network,
)


@pytest.mark.parametrize("kind", ["mlp", "lstm", "gru"])
@pytest.mark.parametrize("head", [False, True])
def test_networks_give_three_logits_and_an_optional_regression(kind, head):
    config = ModelConfig(
        type=kind,
        hidden_layers=(8, 4),
        hidden_size=6,
        num_layers=2,
        sequence_length=1 if kind == "mlp" else 5,
        regression_head=RegressionHeadConfig(3, 0.5) if head else None,
    )
    net = Network(config, 7).eval()
    x = torch.randn(11, 7) if kind == "mlp" else torch.randn(11, 5, 7)
    logits, reg = net(x)
    assert logits.shape == (11, 3)
    assert (reg is not None) == head and (reg is None or reg.shape == (11,))
    # weights survive safetensors (no pickle) exactly
    again = load_network(config, 7, load(save(state_arrays(net))))
    torch.testing.assert_close(again(x)[0], logits, rtol=0, atol=0)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "elu"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_numpy_mlp_equals_the_torch_module(activation, batch_norm):
    torch.manual_seed(0)
    config = ModelConfig(
        type="mlp",
        hidden_layers=(32, 16),
        activation=activation,
        batch_norm=batch_norm,
        regression_head=RegressionHeadConfig(4, 1.0),
    )
    net = Network(config, 12)
    if batch_norm:  # give the running statistics non-trivial values
        net.train()
        for _ in range(5):
            net(torch.randn(64, 12) * 3 + 1)
    net.eval()
    x = np.random.default_rng(1).normal(size=(257, 12))
    logits, reg = net(torch.from_numpy(x).float())
    np_logits, np_reg = NumpyMLP(config, state_arrays(net))(x)
    np.testing.assert_allclose(np_logits, logits.detach().numpy(), atol=2e-5)
    np.testing.assert_allclose(np_reg, reg.detach().numpy(), atol=2e-5)
    np.testing.assert_array_equal(np_logits.argmax(1), logits.argmax(1).numpy())


def test_metrics_equal_scikit_learn():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 3, 500)
    y_pred = np.where(rng.random(500) < 0.6, y_true, rng.integers(0, 2, 500))  # never SELL
    ev = evaluate("x", y_true, y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=[0, 1, 2], zero_division=0)
    np.testing.assert_allclose(ev.precision, p)
    np.testing.assert_allclose(ev.recall, r)
    np.testing.assert_allclose(ev.f1, f)
    assert ev.support == tuple(s)
    np.testing.assert_array_equal(ev.confusion, confusion_matrix(y_true, y_pred, labels=[0, 1, 2]))
    assert ev.macro_f1 == pytest.approx(f.mean())


def test_focal_loss_matches_its_formula_and_reduces_to_weighted_cross_entropy():
    logits = torch.randn(20, 3)
    y = torch.randint(0, 3, (20,))
    w = torch.tensor([1.0, 0.5, 2.0])
    p = torch.softmax(logits, 1)[torch.arange(20), y]
    expected = (-(w[y]) * (1 - p) ** 2 * torch.log(p)).mean()
    torch.testing.assert_close(focal_loss(logits, y, w, 2.0), expected)
    ce = torch.nn.functional.cross_entropy(logits, y, weight=w, reduction="none").mean()
    torch.testing.assert_close(focal_loss(logits, y, w, 0.0), ce)


def test_balanced_class_weights_are_inverse_frequency():
    w = class_weights(np.array([0] * 10 + [1] * 30 + [2] * 20), "balanced").numpy()
    assert w[0] / w[1] == pytest.approx(3.0) and w[2] / w[1] == pytest.approx(1.5)
    assert w.mean() == pytest.approx(1.0)


def test_logistic_baseline_agrees_with_scikit_learn():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 6))
    y = np.argmax(x[:, :3] + 0.5 * rng.normal(size=(600, 3)), axis=1)
    ours = logistic_baseline(x[:400], y[:400], x[400:], seed=0)
    ref = LogisticRegression(C=1e4, max_iter=2000).fit(x[:400], y[:400]).predict(x[400:])
    assert (ours == ref).mean() > 0.95


def _job(model: str, training: str):
    strategy = make_strategy(model, training)
    source = MemorySource.synthetic(strategy, {"AAA": 1, "BBB": 2}, n=900)
    return asyncio.run(plan_training(source, strategy, TrainRequest()))


TRAINING = (
    "{labels: {source: forward_return, horizon_bars: 4, threshold: 0.001}, epochs: 4, "
    "batch_size: 64, optimizer: adamw, weight_decay: 0.01, loss: focal, focal_gamma: 2.0, "
    "lr_scheduler: {type: cosine}, gradient_clip: 0.5, early_stopping: {patience: 2}}"
)


@pytest.mark.parametrize(
    "model",
    [
        "{type: mlp, architecture: {hidden_layers: [16, 8], batch_norm: true, dropout: 0.1}, "
        "regression_head: true}",
        "{type: gru, architecture: {hidden_size: 8, sequence_length: 6}}",
    ],
    ids=["mlp", "gru"],
)
def test_training_is_bit_reproducible_on_the_cpu(model):
    job = _job(model, TRAINING)
    torch.set_num_threads(1)
    runs = [
        train_network(job.dataset.arrays(), job.spec, window=job.dataset.window) for _ in range(2)
    ]
    assert runs[0].weights.keys() == runs[1].weights.keys()
    for k, v in runs[0].weights.items():
        assert v.tobytes() == runs[1].weights[k].tobytes(), k
    assert [h.val_loss for h in runs[0].history] == [h.val_loss for h in runs[1].history]


def test_training_reports_every_epoch_and_evaluates_model_and_baselines():
    job = _job("{type: mlp, architecture: {hidden_layers: [16]}}", TRAINING)
    seen = []
    result = train_network(job.dataset.arrays(), job.spec, window=1, on_epoch=seen.append)
    assert [r.epoch for r in seen] == [r.epoch for r in result.history]
    assert 1 <= result.best_epoch <= len(seen) <= 4
    assert [e.name for e in result.evaluations] == ["model", "majority", "logistic_regression"]
    test_labels = job.dataset.labels["test"]
    for ev in result.evaluations:
        assert sum(ev.support) == len(test_labels)
    majority = result.evaluations[1]
    assert max(majority.recall) == 1.0  # it always predicts one class
    # the synthetic market is learnable: the network beats always-the-same-class
    assert result.evaluations[0].macro_f1 > majority.macro_f1


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    p = softmax(np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert p[0, 0] == pytest.approx(1.0)
