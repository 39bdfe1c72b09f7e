"""Scaling of raw-indicator columns, fitted on the training rows only and stored with the model.

Fuzzy memberships are already in [0, 1] and pass through (``none``). ``zscore`` subtracts the
training mean and divides by the training standard deviation; ``minmax`` maps the training
minimum and maximum to 0 and 1. A constant training column gets a divisor of 1 (it would
otherwise divide by zero). NaN stays NaN (a row not ready is not predicted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ktrdr_neural.domain.features import FeatureColumn


@dataclasses.dataclass(frozen=True, slots=True)
class Scaler:
    """``(x - offset) / divisor``; identity for ``none``."""

    method: str = "none"
    offset: float = 0.0
    divisor: float = 1.0

    def apply(self, values: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return values
        return (values - self.offset) / self.divisor

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Scaler:
        return cls(str(raw["method"]), float(raw["offset"]), float(raw["divisor"]))


def fit_scaler(method: str, train_values: np.ndarray) -> Scaler:
    """Fit one column's scaler on its training values (NaN ignored)."""
    if method == "none":
        return Scaler()
    finite = train_values[np.isfinite(train_values)]
    if len(finite) == 0:
        return Scaler(method, 0.0, 1.0)
    if method == "zscore":
        offset, spread = float(finite.mean()), float(finite.std())
    elif method == "minmax":
        offset, spread = float(finite.min()), float(finite.max() - finite.min())
    else:
        raise ValueError(f"unknown scaling {method!r}")
    return Scaler(method, offset, spread if spread > 0 else 1.0)


def fit_scalers(train_rows: np.ndarray, schema: Sequence[FeatureColumn]) -> tuple[Scaler, ...]:
    """One scaler per column of ``train_rows`` (the training samples' feature rows)."""
    return tuple(fit_scaler(c.scaling, train_rows[:, j]) for j, c in enumerate(schema))
