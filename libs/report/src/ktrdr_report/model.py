"""What a report shows: plain, typed, JSON-serialisable records.

Times are UTC epoch seconds (what the charts take). :mod:`ktrdr_report.build` fills these from
the API's answers; :mod:`ktrdr_report.render` renders them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

CLASSES: tuple[str, ...] = ("BUY", "HOLD", "SELL")


@dataclasses.dataclass(frozen=True, slots=True)
class Candle:
    time: int
    open: float
    high: float
    low: float
    close: float


@dataclasses.dataclass(frozen=True, slots=True)
class Line:
    """An indicator drawn over the price (``pane="price"``) or below it (``"oscillator"``)."""

    name: str
    times: Sequence[int]
    values: Sequence[float]
    pane: str = "price"

    def __post_init__(self) -> None:
        if self.pane not in ("price", "oscillator"):
            raise ValueError(f"Line '{self.name}': pane must be 'price' or 'oscillator'")
        if len(self.times) != len(self.values):
            raise ValueError(
                f"Line '{self.name}': {len(self.times)} times but {len(self.values)} values"
            )


@dataclasses.dataclass(frozen=True, slots=True)
class Memberships:
    """Fuzzy memberships over time: one row per feature, one column per time."""

    features: Sequence[str]
    times: Sequence[int]
    values: Sequence[Sequence[float]]

    def __post_init__(self) -> None:
        if len(self.values) != len(self.features):
            raise ValueError("Memberships: one row of values per feature")
        for name, row in zip(self.features, self.values, strict=True):
            if len(row) != len(self.times):
                raise ValueError(f"Memberships: row '{name}' has {len(row)} values")


@dataclasses.dataclass(frozen=True, slots=True)
class Signal:
    time: int
    signal: str
    confidence: float
    probabilities: Sequence[float]


@dataclasses.dataclass(frozen=True, slots=True)
class Trade:
    side: str
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    quantity: float
    pnl: float
    return_pct: float
    costs: float
    entry_reason: str
    exit_reason: str
    probabilities: Sequence[float] = ()
    # The decision trace: the features (name -> value) at the signal bar, in model order.
    features: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class EquityPoint:
    time: int
    equity: float
    benchmark: float
    drawdown_pct: float


@dataclasses.dataclass(frozen=True, slots=True)
class Metric:
    """One row of the metrics table: a value per column (strategy and baselines)."""

    key: str
    label: str
    values: Mapping[str, float | None]
    unit: str = ""
    formula: str = ""
    periods_per_year: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ClassScores:
    """Precision, recall and F1 per class (BUY, HOLD, SELL) of one model on the test split."""

    name: str
    precision: Sequence[float]
    recall: Sequence[float]
    f1: Sequence[float]
    accuracy: float


@dataclasses.dataclass(frozen=True, slots=True)
class Training:
    epochs: Sequence[int]
    train_loss: Sequence[float]
    val_loss: Sequence[float]
    val_accuracy: Sequence[float]
    confusion: Sequence[Sequence[int]]
    scores: Sequence[ClassScores]
    labels: Sequence[str] = CLASSES


@dataclasses.dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one report shows."""

    title: str
    subtitle: str
    candles: Sequence[Candle]
    lines: Sequence[Line]
    memberships: Memberships | None
    signals: Sequence[Signal]
    trades: Sequence[Trade]
    equity: Sequence[EquityPoint]
    metric_columns: Sequence[str]
    metrics: Sequence[Metric]
    training: Training | None
    provenance: Mapping[str, str]
    notes: Sequence[str] = ()

    def __post_init__(self) -> None:
        for metric in self.metrics:
            unknown = set(metric.values) - set(self.metric_columns)
            if unknown:
                raise ValueError(f"Metric '{metric.key}' has values for unknown columns {unknown}")


def to_json_value(obj: Any, *, digits: int = 6) -> Any:
    """Dataclasses, sequences and mappings as JSON values; floats rounded to ``digits``
    significant digits (NaN and infinities become ``None``) to keep the file small."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: to_json_value(getattr(obj, f.name), digits=digits)
            for f in dataclasses.fields(obj)
        }
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, Mapping):
        return {str(k): to_json_value(v, digits=digits) for k, v in obj.items()}
    if hasattr(obj, "tolist"):
        return to_json_value(obj.tolist(), digits=digits)
    if isinstance(obj, Sequence):
        return [to_json_value(v, digits=digits) for v in obj]
    if hasattr(obj, "item"):  # NumPy scalars
        return to_json_value(obj.item(), digits=digits)
    raise TypeError(f"cannot put {type(obj).__name__} into a report")
