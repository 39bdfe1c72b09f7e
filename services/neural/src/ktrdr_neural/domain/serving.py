"""Serving stored models: schema enforcement, scaling, probabilities, a cache.

A request's features must be the model's features: same count, same names, same order —
otherwise ``FAILED_PRECONDITION`` (``NEURAL-004``) naming the first difference, never a silent
prediction on shuffled columns. Clients send features as the feature source produces them; the
model's stored scaling is applied here.

A row is *ready* when its features (for an LSTM/GRU: the last ``sequence_length`` rows) are all
finite; a row that is not ready gets no signal (``-1``) and NaN probabilities.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from safetensors.numpy import load as load_safetensors
from threadpoolctl import threadpool_limits

from ktrdr_core.errors import DataLossError, FailedPreconditionError
from ktrdr_core.strategy.training import model_config_from
from ktrdr_neural.domain import errors as codes
from ktrdr_neural.domain.dataset import first_difference, window_ready
from ktrdr_neural.domain.models import NumpyMLP, load_network, softmax
from ktrdr_neural.domain.registry import ModelRef, ModelRegistry
from ktrdr_neural.domain.scaling import Scaler

NOT_READY = -1
# Rows are padded to a multiple of this before the forward pass: BLAS picks its kernel by the
# row count, and a row's result would otherwise change (in the last bit) with the batch it
# came in. Padded, a row gives the same bits alone, in a REST batch or in a stream message.
ROW_TILE = 16
# Bound on the rows of one prediction call (one request or one stream message).
MAX_ROWS_PER_CALL = 100_000


@dataclasses.dataclass(frozen=True, slots=True)
class PredictionBatch:
    """Per row: class probabilities (BUY, HOLD, SELL), the signal (class index, -1 when not
    ready), its confidence, readiness and the predicted forward return (NaN without a head)."""

    probabilities: np.ndarray
    signals: np.ndarray
    confidence: np.ndarray
    ready: np.ndarray
    predicted_return: np.ndarray

    def __len__(self) -> int:
        return len(self.signals)


class LoadedModel:
    """One version ready to predict (weights in memory, eval mode)."""

    def __init__(self, ref: ModelRef, metadata: dict[str, Any], weights: bytes) -> None:
        self.ref = ref
        self.metadata = metadata
        self.config = model_config_from(metadata["model"])
        self.features: tuple[str, ...] = tuple(f["name"] for f in metadata["features"])
        scalers = [Scaler.from_dict(f["scaling"]) for f in metadata["features"]]
        self._offset = np.array([s.offset if s.method != "none" else 0.0 for s in scalers])
        self._divisor = np.array([s.divisor if s.method != "none" else 1.0 for s in scalers])
        self._scaled = any(s.method != "none" for s in scalers)
        self.window = self.config.sequence_length
        self.return_scale = float(metadata.get("return_scale", 1.0))
        try:
            arrays = load_safetensors(weights)
        except Exception as exc:  # safetensors raises its own error types
            raise DataLossError(
                codes.CORRUPT_MODEL, f"Model '{ref.name}': weights unreadable: {exc}."
            ) from exc
        self._numpy = NumpyMLP(self.config, arrays) if self.config.type == "mlp" else None
        self._torch = (
            load_network(self.config, len(self.features), arrays) if self._numpy is None else None
        )

    @property
    def name(self) -> str:
        return self.ref.name

    def check_features(self, names: Sequence[str]) -> None:
        """``NEURAL-004`` naming the first difference when ``names`` is not the schema."""
        if tuple(names) != self.features:
            raise FailedPreconditionError(
                codes.SCHEMA_MISMATCH,
                f"The features sent do not match model '{self.name}': "
                f"{first_difference(self.features, list(names))}.",
                field="features",
            )

    def check_width(self, width: int) -> None:
        if width != len(self.features):
            raise FailedPreconditionError(
                codes.SCHEMA_MISMATCH,
                f"Rows have {width} values; model '{self.name}' expects {len(self.features)} "
                f"features, the first being {', '.join(self.features[:3])}.",
                field="rows",
            )

    def predict(self, values: np.ndarray) -> PredictionBatch:
        """Predict every row of ``values [n, F]`` (unscaled, model order; windows for sequence
        models are taken from the preceding rows of the same array)."""
        x = np.asarray(values, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"values must be 2-D, got shape {x.shape}")
        if x.shape[1] != len(self.features):
            self.check_width(x.shape[1])
        if self._scaled:
            x = (x - self._offset) / self._divisor
        row_ok: np.ndarray = np.asarray(np.isfinite(x).all(axis=1))
        ready = window_ready(row_ok, self.window) if self.window > 1 else row_ok
        n = len(x)
        idx = np.flatnonzero(ready)
        logits, out = self._forward(x, idx)
        ready_probs = softmax(logits)
        ready_signals = ready_probs.argmax(axis=1)
        ready_conf = ready_probs[np.arange(len(idx)), ready_signals]
        if len(idx) == n:  # every row ready (the usual case): no scatter
            reg = out * self.return_scale if out is not None else np.full(n, np.nan)
            return PredictionBatch(ready_probs, ready_signals, ready_conf, ready, reg)
        probs = np.full((n, 3), np.nan)
        probs[idx] = ready_probs
        signals = np.full(n, NOT_READY, dtype=np.int64)
        signals[idx] = ready_signals
        confidence = np.zeros(n)
        confidence[idx] = ready_conf
        reg = np.full(n, np.nan)
        if out is not None:
            reg[idx] = out * self.return_scale
        return PredictionBatch(probs, signals, confidence, ready, reg)

    def _forward(self, x: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        n = len(idx)
        if n == 0:
            return np.zeros((0, 3)), (np.zeros(0) if self.config.regression_head else None)
        padded = -(-n // ROW_TILE) * ROW_TILE
        if self._numpy is not None:
            rows = np.zeros((padded, x.shape[1]))
            rows[:n] = x[idx]
            logits, reg = self._numpy(rows)
            return logits[:n], (reg[:n] if reg is not None else None)
        assert self._torch is not None
        windows = np.zeros((padded, self.window, x.shape[1]), dtype=np.float32)
        windows[:n] = x[idx[:, None] + np.arange(-self.window + 1, 1)]
        with torch.inference_mode():
            out, out_reg = self._torch(torch.from_numpy(windows))
        return (
            out[:n].double().numpy(),
            (out_reg[:n].double().numpy() if out_reg is not None else None),
        )

    def stream(self) -> PredictionStream:
        return PredictionStream(self)


class PredictionStream:
    """Predicts batch after batch; an LSTM/GRU's window continues across batches."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        self._tail = np.zeros((0, len(model.features)))

    def update(self, values: np.ndarray) -> PredictionBatch:
        """Predictions for the rows of ``values`` (in model order, unscaled)."""
        if self.model.window <= 1:
            return self.model.predict(values)
        joined = np.concatenate([self._tail, np.asarray(values, dtype=np.float64)])
        keep = self.model.window - 1
        self._tail = joined[-keep:]
        out = self.model.predict(joined)
        skip = len(joined) - len(values)
        return PredictionBatch(
            out.probabilities[skip:],
            out.signals[skip:],
            out.confidence[skip:],
            out.ready[skip:],
            out.predicted_return[skip:],
        )

    def reset(self) -> None:
        self._tail = np.zeros((0, len(self.model.features)))


def limit_blas_threads(threads: int = 1) -> None:
    """Cap NumPy's BLAS threads for this process (call once, at start).

    Serving multiplies small matrices (at most ~1000 rows by tens of features): a multi-threaded
    BLAS spins threads up for each call, which costs far more than it saves and collapses when
    the machine is busy (measured: 10x slower on two loaded cores).
    """
    threadpool_limits(limits=threads, user_api="blas")


class ModelServer:
    """Loads versions from the registry and keeps the ``cache_size`` most recent in memory."""

    def __init__(self, registry: ModelRegistry, *, cache_size: int = 16) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size}")
        self.registry = registry
        self.cache_size = cache_size
        self._cache: collections.OrderedDict[str, LoadedModel] = collections.OrderedDict()
        self._lock = threading.Lock()

    def load(self, ref: ModelRef) -> LoadedModel:
        """The model ``ref`` names (the latest version unless pinned)."""
        pinned = self.registry.resolve(ref)
        with self._lock:
            hit = self._cache.get(pinned.name)
            if hit is not None:
                self._cache.move_to_end(pinned.name)
                return hit
        stored = self.registry.get(pinned)
        model = LoadedModel(stored.ref, stored.metadata, self.registry.weights(stored))
        with self._lock:
            self._cache[pinned.name] = model
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return model

    def forget(self, ref: ModelRef) -> None:
        with self._lock:
            self._cache.pop(ref.name, None)
