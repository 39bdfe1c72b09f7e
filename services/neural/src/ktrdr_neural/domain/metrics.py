"""Classification figures: per-class precision, recall, F1 and the confusion matrix.

A class never predicted has precision 0 (and F1 0), as scikit-learn's ``zero_division=0``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ktrdr_neural.domain.labels import CLASS_NAMES


@dataclasses.dataclass(frozen=True, slots=True)
class Evaluation:
    """One predictor's figures on one split; classes in the order BUY, HOLD, SELL."""

    name: str
    accuracy: float
    macro_f1: float
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "classes": {
                CLASS_NAMES[c]: {
                    "precision": self.precision[c],
                    "recall": self.recall[c],
                    "f1": self.f1[c],
                    "support": self.support[c],
                }
                for c in range(3)
            },
            "confusion_matrix": [list(r) for r in self.confusion],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Evaluation:
        classes = [raw["classes"][n] for n in CLASS_NAMES]
        return cls(
            name=raw["name"],
            accuracy=float(raw["accuracy"]),
            macro_f1=float(raw["macro_f1"]),
            precision=tuple(float(c["precision"]) for c in classes),
            recall=tuple(float(c["recall"]) for c in classes),
            f1=tuple(float(c["f1"]) for c in classes),
            support=tuple(int(c["support"]) for c in classes),
            confusion=tuple(tuple(int(v) for v in r) for r in raw["confusion_matrix"]),
        )


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 3) -> np.ndarray:
    """Counts ``[true, predicted]``."""
    idx = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def evaluate(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> Evaluation:
    """Figures of predictions ``y_pred`` against ``y_true`` (both in {0, 1, 2})."""
    cm = confusion_matrix(y_true, y_pred)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    actual = cm.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros(3), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(3), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(3), where=denom > 0)
    total = cm.sum()
    return Evaluation(
        name=name,
        accuracy=float(tp.sum() / total) if total else 0.0,
        macro_f1=float(f1.mean()),
        precision=tuple(float(v) for v in precision),
        recall=tuple(float(v) for v in recall),
        f1=tuple(float(v) for v in f1),
        support=tuple(int(v) for v in actual),
        confusion=tuple(tuple(int(v) for v in row) for row in cm),
    )
