"""The networks: an MLP on one feature vector, an LSTM or GRU on a window of them.

Each has a classification head (logits of BUY, HOLD, SELL) and optionally a regression head
(the forward return, in units of its training standard deviation). :class:`NumpyMLP` is the
same MLP in inference mode written with NumPy: the serving path for MLPs, because a torch
module call costs tens of microseconds at batch size 1. Tests hold it equal to the torch module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from ktrdr_core.strategy.training import ModelConfig

N_CLASSES = 3
LEAKY_SLOPE = 0.01
BN_EPS = 1e-5


def _activation(name: str) -> nn.Module:
    return {
        "relu": nn.ReLU(),
        "tanh": nn.Tanh(),
        "sigmoid": nn.Sigmoid(),
        "leaky_relu": nn.LeakyReLU(LEAKY_SLOPE),
        "gelu": nn.GELU(approximate="tanh"),
        "elu": nn.ELU(),
    }[name]


class Network(nn.Module):
    """``forward(x) -> (logits [B, 3], regression [B] or None)``.

    ``x`` is ``[B, F]`` for an MLP and ``[B, W, F]`` for an LSTM/GRU (``W`` the sequence length).
    """

    def __init__(self, config: ModelConfig, n_features: int) -> None:
        super().__init__()
        if n_features < 1:
            raise ValueError(f"n_features must be >= 1, got {n_features}")
        self.config = config
        self.n_features = n_features
        if config.type == "mlp":
            layers: list[nn.Module] = []
            width = n_features
            for units in config.hidden_layers:
                layers.append(nn.Linear(width, units))
                if config.batch_norm:
                    layers.append(nn.BatchNorm1d(units, eps=BN_EPS))
                layers.append(_activation(config.activation))
                layers.append(nn.Dropout(config.dropout))
                width = units
            self.body: nn.Module = nn.Sequential(*layers)
        else:
            rnn = nn.LSTM if config.type == "lstm" else nn.GRU
            self.body = rnn(
                n_features,
                config.hidden_size,
                num_layers=config.num_layers,
                dropout=config.dropout if config.num_layers > 1 else 0.0,
                batch_first=True,
            )
            self.dropout = nn.Dropout(config.dropout)
            width = config.hidden_size
        self.classifier = nn.Linear(width, N_CLASSES)
        self.regressor = nn.Linear(width, 1) if config.regression_head else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.config.type == "mlp":
            hidden = self.body(x)
        else:
            out, _ = self.body(x)
            hidden = self.dropout(out[:, -1, :])
        reg = self.regressor(hidden).squeeze(-1) if self.regressor is not None else None
        return self.classifier(hidden), reg


def state_arrays(network: Network) -> dict[str, np.ndarray]:
    """The weights as float32 NumPy arrays (what the registry stores as safetensors)."""
    return {
        k: v.detach().to("cpu").contiguous().numpy().copy() for k, v in network.state_dict().items()
    }


def load_network(config: ModelConfig, n_features: int, arrays: Mapping[str, np.ndarray]) -> Network:
    """A network in eval mode with ``arrays`` as its weights (strict: no missing or extra key)."""
    network = Network(config, n_features)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    network.load_state_dict(state, strict=True)
    network.eval()
    return network


def _np_activation(name: str, x: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(x, 0.0, out=x)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "leaky_relu":
        return np.where(x > 0, x, LEAKY_SLOPE * x)
    if name == "gelu":  # the tanh approximation, as the torch module uses
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    raise ValueError(f"unknown activation {name!r}")


class NumpyMLP:
    """An MLP's inference forward in float64 NumPy, batch norm folded into the linear layers."""

    def __init__(self, config: ModelConfig, arrays: Mapping[str, np.ndarray]) -> None:
        if config.type != "mlp":
            raise ValueError(f"NumpyMLP needs an mlp config, got {config.type}")
        self.activation = config.activation
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        index = 0
        for _ in config.hidden_layers:
            w = np.asarray(arrays[f"body.{index}.weight"], dtype=np.float64).T
            b = np.asarray(arrays[f"body.{index}.bias"], dtype=np.float64)
            index += 1
            if config.batch_norm:
                p = f"body.{index}"
                scale = np.asarray(arrays[f"{p}.weight"], dtype=np.float64) / np.sqrt(
                    np.asarray(arrays[f"{p}.running_var"], dtype=np.float64) + BN_EPS
                )
                mean = np.asarray(arrays[f"{p}.running_mean"], dtype=np.float64)
                shift = np.asarray(arrays[f"{p}.bias"], dtype=np.float64)
                w, b = w * scale, (b - mean) * scale + shift
                index += 1
            index += 2  # activation, dropout
            self.layers.append((np.ascontiguousarray(w), b))
        self.cls_w = np.asarray(arrays["classifier.weight"], dtype=np.float64).T.copy()
        self.cls_b = np.asarray(arrays["classifier.bias"], dtype=np.float64)
        self.reg: tuple[np.ndarray, np.ndarray] | None = None
        if "regressor.weight" in arrays:
            self.reg = (
                np.asarray(arrays["regressor.weight"], dtype=np.float64).T.copy(),
                np.asarray(arrays["regressor.bias"], dtype=np.float64),
            )

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``x [B, F]`` -> (logits ``[B, 3]``, regression ``[B]`` or None)."""
        h = x
        for w, b in self.layers:
            z = h @ w
            z += b
            h = _np_activation(self.activation, z)
        reg = (h @ self.reg[0] + self.reg[1])[:, 0] if self.reg is not None else None
        return h @ self.cls_w + self.cls_b, reg


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e
