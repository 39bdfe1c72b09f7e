"""The training loop: seeded, bit-reproducible on the CPU, reporting every epoch.

Runs inside the worker process (see :mod:`ktrdr_neural.worker`), never on the service's event
loop. Adam or AdamW with weight decay; cross-entropy with class weights or focal loss; early
stopping on the validation loss (the best epoch's weights are kept); a learning-rate schedule;
gradient clipping. At the end the network and two baselines (the training split's majority
class; a multinomial logistic regression on the same current-bar features) are evaluated on the
test split.

Reproducibility: one seed drives initialisation and shuffling (a private ``torch.Generator``)
and the thread count is fixed by the caller; on the CPU the same dataset, settings and thread
count give the same weights, bit for bit (tested). On CUDA deterministic algorithms are asked
for, with a warning where an operation has none.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ktrdr_core.strategy.training import NetworkSpec, TrainingConfig
from ktrdr_neural.domain.metrics import Evaluation, evaluate
from ktrdr_neural.domain.models import N_CLASSES, Network, state_arrays

EVAL_BATCH = 8192


@dataclasses.dataclass(frozen=True, slots=True)
class EpochReport:
    """Figures of one finished epoch."""

    epoch: int
    total_epochs: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    learning_rate: float
    seconds: float
    best_epoch: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class TrainResult:
    """Weights of the kept epoch, per-epoch history and the test evaluations."""

    weights: dict[str, np.ndarray]
    history: list[EpochReport]
    best_epoch: int
    evaluations: list[Evaluation]
    return_scale: float
    stopped_early: bool


class Windows:
    """Samples of one split as tensors: ``x(idx)`` gathers feature windows on demand."""

    def __init__(
        self,
        features: torch.Tensor,
        rows: np.ndarray,
        labels: np.ndarray,
        returns: np.ndarray,
        window: int,
    ) -> None:
        self.features = features
        self.rows = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.int64))
        self.labels = torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64))
        self.returns = torch.from_numpy(np.ascontiguousarray(returns, dtype=np.float32))
        self.window = window
        self.offsets = torch.arange(-window + 1, 1, dtype=torch.int64)
        self.flat = features[self.rows] if window == 1 else None

    def __len__(self) -> int:
        return len(self.rows)

    def x(self, idx: torch.Tensor) -> torch.Tensor:
        if self.flat is not None:
            return self.flat[idx]
        return self.features[self.rows[idx, None] + self.offsets]


def class_weights(labels: np.ndarray, setting: str | tuple[float, float, float]) -> torch.Tensor:
    """Inverse-frequency weights normalised to mean 1 (``balanced``), ones, or as given."""
    if setting == "none":
        return torch.ones(N_CLASSES)
    if isinstance(setting, tuple):
        return torch.tensor(setting, dtype=torch.float32)
    counts = np.bincount(labels, minlength=N_CLASSES).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (N_CLASSES * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights / weights[counts > 0].mean(), dtype=torch.float32)


def focal_loss(
    logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Mean of ``-w_y (1 - p_y)^gamma log p_y`` (Lin et al.), class weights as alpha."""
    log_p = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    p = log_p.exp()
    return (-(weights[target]) * (1 - p) ** gamma * log_p).mean()


class _Objective:
    def __init__(self, config: TrainingConfig, weights: torch.Tensor, reg_weight: float) -> None:
        self.config = config
        self.weights = weights
        self.reg_weight = reg_weight

    def __call__(
        self,
        logits: torch.Tensor,
        reg: torch.Tensor | None,
        target: torch.Tensor,
        ret: torch.Tensor,
    ) -> torch.Tensor:
        if self.config.loss == "focal":
            loss = focal_loss(logits, target, self.weights, self.config.focal_gamma)
        else:
            loss = F.cross_entropy(logits, target, weight=self.weights)
        if reg is not None:
            loss = loss + self.reg_weight * F.mse_loss(reg, ret)
        return loss


def _optimizer(network: Network, config: TrainingConfig) -> torch.optim.Optimizer:
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    # fused: one kernel for all parameters instead of several per tensor (same maths)
    return cls(
        network.parameters(),
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        fused=True,
    )


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainingConfig) -> Any:
    s = config.lr_scheduler
    if s.type == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma)
    if s.type == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=s.gamma)
    if s.type == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.epochs, eta_min=s.min_lr
        )
    if s.type == "reduce_on_plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=s.factor, patience=s.patience, min_lr=s.min_lr
        )
    return None


@torch.inference_mode()
def predict_logits(
    network: Network, data: Windows, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logits (and regression outputs) of every sample, in eval mode, on the CPU."""
    network.eval()
    logits, regs = [], []
    for s in range(0, len(data), EVAL_BATCH):
        idx = torch.arange(s, min(len(data), s + EVAL_BATCH))
        out, reg = network(data.x(idx).to(device))
        logits.append(out.cpu())
        if reg is not None:
            regs.append(reg.cpu())
    if not logits:
        return torch.zeros(0, N_CLASSES), None
    return torch.cat(logits), (torch.cat(regs) if regs else None)


def _run_epoch(
    network: Network,
    data: Windows,
    *,
    objective: _Objective,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    config: TrainingConfig,
    device: torch.device,
    scale: float,
) -> tuple[float, float]:
    network.train()
    order = torch.randperm(len(data), generator=generator)
    total, correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)
    for s in range(0, len(data), config.batch_size):
        idx = order[s : s + config.batch_size]
        if len(idx) < 2 and network.config.batch_norm:
            continue  # batch norm cannot train on one sample
        x = data.x(idx).to(device)
        y = data.labels[idx].to(device)
        r = (data.returns[idx] / scale).to(device)
        optimizer.zero_grad(set_to_none=True)
        logits, reg = network(x)
        loss = objective(logits, reg, y, r)
        loss.backward()
        if config.gradient_clip > 0:
            torch.nn.utils.clip_grad_norm_(network.parameters(), config.gradient_clip)
        optimizer.step()
        total += loss.detach().cpu() * len(idx)
        correct += (logits.detach().argmax(1) == y).sum().cpu()
    return float(total) / max(1, len(data)), int(correct) / max(1, len(data))


def _validate(
    network: Network, data: Windows, objective: _Objective, device: torch.device, scale: float
) -> tuple[float, float, float]:
    logits, reg = predict_logits(network, data, device)
    loss = float(objective(logits, reg, data.labels, data.returns / scale))
    pred = logits.argmax(1).numpy()
    ev = evaluate("validation", data.labels.numpy(), pred)
    return loss, ev.accuracy, ev.macro_f1


def logistic_baseline(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, *, seed: int
) -> np.ndarray:
    """Predicted classes of a multinomial logistic regression (L2 1e-4, full-batch L-BFGS)."""
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(train_x, dtype=np.float64))
    y = torch.from_numpy(np.ascontiguousarray(train_y, dtype=np.int64))
    w = torch.zeros(x.shape[1], N_CLASSES, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(N_CLASSES, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ w + b, y) + 1e-4 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        t = torch.from_numpy(np.ascontiguousarray(test_x, dtype=np.float64))
        return (t @ w + b).argmax(1).numpy()


def train_network(
    arrays: Mapping[str, np.ndarray],
    spec: NetworkSpec,
    *,
    window: int,
    device: str = "cpu",
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> TrainResult:
    """Train on prepared arrays (see ``PreparedDataset.arrays``) and evaluate on the test split.

    Parameters
    ----------
    arrays
        ``features`` and ``rows_/labels_/returns_{train,validation,test}``.
    spec
        Model and training settings.
    window
        Rows per sample (the sequence length; 1 for an MLP).
    device
        ``"cpu"`` or ``"cuda[:n]"``.
    on_epoch
        Called after every epoch (progress).
    """
    config = spec.training
    torch.manual_seed(config.seed)
    dev = torch.device(device)
    if dev.type == "cuda":  # the CPU kernels used here are deterministic at a fixed thread count
        torch.use_deterministic_algorithms(True, warn_only=True)
    features = torch.from_numpy(np.ascontiguousarray(arrays["features"], dtype=np.float32))
    data = {
        split: Windows(
            features,
            arrays[f"rows_{split}"],
            arrays[f"labels_{split}"],
            arrays[f"returns_{split}"],
            window,
        )
        for split in ("train", "validation", "test")
    }
    fit = _Fit(spec, data["train"], n_features=features.shape[1], device=dev)
    history: list[EpochReport] = []
    for epoch in range(1, config.epochs + 1):
        report = fit.epoch(epoch, data["validation"])
        history.append(report)
        if on_epoch is not None:
            on_epoch(report)
        if fit.should_stop():
            break
    network = fit.best_network()
    return TrainResult(
        weights=state_arrays(network),
        history=history,
        best_epoch=fit.best_epoch,
        evaluations=_evaluations(network, data, arrays, dev, seed=config.seed),
        return_scale=fit.scale,
        stopped_early=len(history) < config.epochs,
    )


class _Fit:
    """One training's network, optimiser, schedule and best epoch so far."""

    def __init__(
        self, spec: NetworkSpec, train: Windows, *, n_features: int, device: torch.device
    ) -> None:
        self.config = spec.training
        self.train = train
        self.device = device
        head = spec.model.regression_head
        scale = float(np.nanstd(train.returns.numpy())) if head else 1.0
        self.scale = scale if scale > 0 and math.isfinite(scale) else 1.0
        self.network = Network(spec.model, n_features).to(device)
        weights = class_weights(train.labels.numpy(), self.config.class_weights)
        reg_weight = head.loss_weight if head else 0.0
        self.objective = _Objective(self.config, weights.to(device), reg_weight)
        self.val_objective = _Objective(self.config, weights, reg_weight)
        self.optimizer = _optimizer(self.network, self.config)
        self.scheduler = _scheduler(self.optimizer, self.config)
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.best_loss, self.best_epoch = math.inf, 0
        self.best_state = copy.deepcopy(self.network.state_dict())
        self.stale = 0

    def epoch(self, epoch: int, validation: Windows) -> EpochReport:
        started = time.perf_counter()
        lr = self.optimizer.param_groups[0]["lr"]
        train_loss, train_acc = _run_epoch(
            self.network,
            self.train,
            objective=self.objective,
            optimizer=self.optimizer,
            generator=self.generator,
            config=self.config,
            device=self.device,
            scale=self.scale,
        )
        val_loss, val_acc, val_f1 = _validate(
            self.network, validation, self.val_objective, self.device, self.scale
        )
        stopping = self.config.early_stopping
        if val_loss < self.best_loss - (stopping.min_delta if stopping else 0.0):
            self.best_loss, self.best_epoch, self.stale = val_loss, epoch, 0
            self.best_state = copy.deepcopy(self.network.state_dict())
        else:
            self.stale += 1
        if self.config.lr_scheduler.type == "reduce_on_plateau":
            self.scheduler.step(val_loss)
        elif self.scheduler is not None:
            self.scheduler.step()
        return EpochReport(
            epoch=epoch,
            total_epochs=self.config.epochs,
            train_loss=train_loss,
            train_accuracy=train_acc,
            val_loss=val_loss,
            val_accuracy=val_acc,
            val_macro_f1=val_f1,
            learning_rate=lr,
            seconds=time.perf_counter() - started,
            best_epoch=self.best_epoch,
        )

    def should_stop(self) -> bool:
        stopping = self.config.early_stopping
        return stopping is not None and self.stale >= stopping.patience

    def best_network(self) -> Network:
        """The network with the weights of the epoch with the lowest validation loss."""
        self.network.load_state_dict(self.best_state)
        self.network.eval()
        return self.network


def _evaluations(
    network: Network,
    data: Mapping[str, Windows],
    arrays: Mapping[str, np.ndarray],
    device: torch.device,
    *,
    seed: int,
) -> list[Evaluation]:
    test, train = data["test"], data["train"]
    y_test = test.labels.numpy()
    logits, _ = predict_logits(network, test, device)
    majority = int(np.bincount(train.labels.numpy(), minlength=N_CLASSES).argmax())
    features = np.asarray(arrays["features"])
    logistic = logistic_baseline(
        features[train.rows.numpy()], train.labels.numpy(), features[test.rows.numpy()], seed=seed
    )
    return [
        evaluate("model", y_test, logits.argmax(1).numpy()),
        evaluate("majority", y_test, np.full(len(y_test), majority)),
        evaluate("logistic_regression", y_test, logistic),
    ]


def run_training(
    arrays: Mapping[str, np.ndarray],
    spec: NetworkSpec,
    *,
    window: int,
    device: str = "cpu",
    threads: int = 1,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train with ``threads`` torch threads (fixed, for reproducibility) and return the weights
    and the summary a model's metadata records (history, evaluations, timings).

    What the service's worker process runs, and the in-process pipeline too.
    """
    torch.set_num_threads(threads)
    started = time.perf_counter()
    result = train_network(arrays, spec, window=window, device=device, on_epoch=on_epoch)
    summary = {
        "history": [h.to_dict() for h in result.history],
        "best_epoch": result.best_epoch,
        "evaluations": [e.to_dict() for e in result.evaluations],
        "return_scale": result.return_scale,
        "stopped_early": result.stopped_early,
        "seconds": time.perf_counter() - started,
        "device": device,
        "threads": torch.get_num_threads(),
    }
    return result.weights, summary
