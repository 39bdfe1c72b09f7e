"""The strategy's ``model`` and ``training`` sections as typed, frozen configs (no torch here).

Read by the neural service (training, serving) and the backtest service (strategy validation,
walk-forward purge and embargo), so it lives in the core. Every key is either used or rejected:
unknown keys get "did you mean", keys of the earlier KTRDR that it silently ignored get a
message saying where the setting lives now, and every problem of both sections (plus the
request's overrides) is reported in one error (``NEURAL-001``; the code keeps the prefix under
which users first met it, when this module was the neural service's).

==========  ===============  ====================================================================
Code        Exception        Condition
==========  ===============  ====================================================================
NEURAL-001  ValidationError  The ``model``/``training`` sections (or a request's overrides) are
                             invalid; every problem is listed (:class:`ProblemsError`).
==========  ===============  ====================================================================

Where training settings live
----------------------------
Only in the top-level ``training:`` section. The earlier KTRDR read them only there too, yet its
examples wrote ``model.training: {learning_rate, batch_size, epochs}``, which it ignored. Here
``model.training`` is rejected with a message naming each key to move; the bundled examples were
migrated.

.. code-block:: yaml

    model:
      type: mlp                        # mlp | lstm | gru
      architecture:
        hidden_layers: [64, 32]        # mlp: 1-8 layers of 1-4096 units
        activation: relu               # relu | tanh | sigmoid | leaky_relu | gelu | elu
        dropout: 0.2                   # [0, 0.9]
        batch_norm: false              # mlp only
        # lstm/gru: hidden_size (1-4096), num_layers (1-8), sequence_length (2-512 bars)
      regression_head: {horizon_bars: 12, loss_weight: 0.5}   # optional; or `true`
    training:
      method: supervised
      labels: {source: zigzag, zigzag_threshold: 0.01, label_lookahead: 24}
        # triple_barrier: take_profit_atr, stop_loss_atr, max_holding_bars, atr_period
        # forward_return: horizon_bars, threshold
      data_split: {train: 0.7, validation: 0.15, test: 0.15, embargo_pct: 0.01}
      epochs: 50                       # 1-10000
      batch_size: 64                   # 1-65536
      learning_rate: 0.001             # (0, 10]
      optimizer: adam                  # adam | adamw
      weight_decay: 0.0                # [0, 1]
      loss: cross_entropy              # cross_entropy | focal
      focal_gamma: 2.0                 # focal only, [0, 10]
      class_weights: balanced          # balanced | none | [buy, hold, sell]
      early_stopping: {patience: 10, min_delta: 0.0}         # or false
      lr_scheduler: {type: reduce_on_plateau, factor: 0.5, patience: 3}
        # none | step (step_size, gamma) | exponential (gamma) | cosine (min_lr)
      gradient_clip: 1.0               # max gradient norm; 0 turns it off
      seed: 42
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from ktrdr_core.errors import suggest
from ktrdr_core.problems import Problems, ProblemsError

BAD_CONFIG = "NEURAL-001"
ALL_CODES: tuple[str, ...] = (BAD_CONFIG,)

ModelType = Literal["mlp", "lstm", "gru"]
MODEL_TYPES: tuple[str, ...] = ("mlp", "lstm", "gru")
ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "leaky_relu", "gelu", "elu")
LABEL_SOURCES: tuple[str, ...] = ("zigzag", "triple_barrier", "forward_return")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw")
LOSSES: tuple[str, ...] = ("cross_entropy", "focal")
SCHEDULERS: tuple[str, ...] = ("none", "step", "exponential", "cosine", "reduce_on_plateau")

MLP_KEYS = ("hidden_layers", "activation", "dropout", "batch_norm")
RNN_KEYS = ("hidden_size", "num_layers", "dropout", "sequence_length")

# Keys of the earlier KTRDR (or plausible synonyms) and what to write instead.
RENAMED: dict[str, str] = {
    "pt_multiplier": "take_profit_atr",
    "profit_target_atr": "take_profit_atr",
    "sl_multiplier": "stop_loss_atr",
    "max_holding_period": "max_holding_bars",
    "lookahead": "label_lookahead",
    "threshold_pct": "zigzag_threshold",
    "validation_split": "data_split.validation",
    "lr": "learning_rate",
    "scheduler": "lr_scheduler",
    "grad_clip": "gradient_clip",
    "clip_grad_norm": "gradient_clip",
    "horizon": "horizon_bars",
}


@dataclasses.dataclass(frozen=True, slots=True)
class RegressionHeadConfig:
    """A second head predicting the forward return over ``horizon_bars``."""

    horizon_bars: int
    loss_weight: float


@dataclasses.dataclass(frozen=True, slots=True)
class ModelConfig:
    """The network: type, layer sizes and heads (``sequence_length`` is 1 for an MLP)."""

    type: ModelType
    hidden_layers: tuple[int, ...] = (64, 32)
    activation: str = "relu"
    dropout: float = 0.2
    batch_norm: bool = False
    hidden_size: int = 64
    num_layers: int = 1
    sequence_length: int = 1
    regression_head: RegressionHeadConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class LabelConfig:
    """How each bar is labelled BUY/HOLD/SELL (computed by the neural domain's ``labels``)."""

    source: Literal["zigzag", "triple_barrier", "forward_return"]
    zigzag_threshold: float = 0.01
    label_lookahead: int = 24
    take_profit_atr: float = 2.0
    stop_loss_atr: float = 1.5
    max_holding_bars: int = 48
    atr_period: int = 14
    horizon_bars: int = 12
    threshold: float = 0.001

    @property
    def horizon(self) -> int:
        """The longest label window in bars after the labelled bar."""
        if self.source == "zigzag":
            return self.label_lookahead
        if self.source == "triple_barrier":
            return self.max_holding_bars
        return self.horizon_bars

    def to_dict(self) -> dict[str, Any]:
        """Only the settings the chosen source uses."""
        used = {
            "zigzag": ("zigzag_threshold", "label_lookahead"),
            "triple_barrier": (
                "take_profit_atr",
                "stop_loss_atr",
                "max_holding_bars",
                "atr_period",
            ),
            "forward_return": ("horizon_bars", "threshold"),
        }[self.source]
        return {"source": self.source, **{k: getattr(self, k) for k in used}}


@dataclasses.dataclass(frozen=True, slots=True)
class SplitConfig:
    """Chronological fractions per symbol and the embargo after each boundary."""

    train: float = 0.7
    validation: float = 0.15
    test: float = 0.15
    embargo_pct: float = 0.01


@dataclasses.dataclass(frozen=True, slots=True)
class EarlyStoppingConfig:
    patience: int = 10
    min_delta: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class SchedulerConfig:
    type: str = "none"
    step_size: int = 10
    gamma: float = 0.5
    factor: float = 0.5
    patience: int = 3
    min_lr: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class TrainingConfig:
    """The ``training`` section with every default resolved."""

    labels: LabelConfig
    split: SplitConfig = SplitConfig()
    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 0.001
    optimizer: str = "adam"
    weight_decay: float = 0.0
    loss: str = "cross_entropy"
    focal_gamma: float = 2.0
    class_weights: str | tuple[float, float, float] = "balanced"
    early_stopping: EarlyStoppingConfig | None = EarlyStoppingConfig()
    lr_scheduler: SchedulerConfig = SchedulerConfig()
    gradient_clip: float = 1.0
    seed: int = 42

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["labels"] = self.labels.to_dict()
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class NetworkSpec:
    """Both sections of one strategy, validated together."""

    model: ModelConfig
    training: TrainingConfig

    @property
    def label_window(self) -> int:
        """Bars after a sample that its targets look at (labels and regression target)."""
        head = self.model.regression_head
        return max(self.training.labels.horizon, head.horizon_bars if head else 0)


class _Section:
    """Reads one mapping, recording every problem (in a shared collector) instead of stopping
    at the first."""

    def __init__(
        self,
        raw: Any,
        path: str,
        problems: Problems,
        allowed: tuple[str, ...],
        *,
        misplaced: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.problems = problems
        self.raw: dict[str, Any] = {}
        if raw is None:
            return
        if not isinstance(raw, Mapping):
            self.fail("", "must be a mapping.")
            return
        self.raw = dict(raw)
        for key in self.raw:
            if misplaced and key in misplaced:
                self.fail(str(key), misplaced[key])
            elif key not in allowed:
                self._unknown(str(key), allowed)

    def _unknown(self, key: str, allowed: tuple[str, ...]) -> None:
        if key in RENAMED:
            self.fail(key, f"unknown key; this setting is called '{RENAMED[key]}'.")
            return
        self.fail(
            key,
            f"unknown key; allowed keys are {', '.join(allowed)}.",
            suggest(key, allowed, cutoff=0.5),
        )

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if key else self.path

    def fail(self, key: str, message: str, suggestions: list[str] | tuple[str, ...] = ()) -> None:
        field = self.field(key)
        self.problems.add(field, f"{field}: {message}", suggestions=suggestions)

    def has(self, key: str) -> bool:
        return key in self.raw

    def number(
        self, key: str, default: float, lo: float, hi: float, *, lo_open: bool = False
    ) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"must be a number, got {value!r}.")
            return default
        if not (lo < value <= hi if lo_open else lo <= value <= hi):
            bound = f"({lo}, {hi}]" if lo_open else f"[{lo}, {hi}]"
            self.fail(key, f"{value} is out of bounds {bound}.")
            return default
        return float(value)

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be an integer, got {value!r}.")
            return default
        if not lo <= value <= hi:
            self.fail(key, f"{value} is out of bounds [{lo}, {hi}].")
            return default
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or value not in choices:
            self.fail(
                key,
                f"{value!r} is not one of {', '.join(choices)}.",
                suggest(str(value), choices, cutoff=0.4),
            )
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {value!r}.")
            return default
        return value

    def section(
        self, key: str, allowed: tuple[str, ...], *, misplaced: Mapping[str, str] | None = None
    ) -> _Section:
        return _Section(
            self.raw.get(key), self.field(key), self.problems, allowed, misplaced=misplaced
        )


def _model_config(raw: Any, problems: Problems, label_horizon: int) -> ModelConfig:
    moved = raw.get("training") if isinstance(raw, Mapping) else None
    keys = ", ".join(repr(k) for k in moved) if isinstance(moved, Mapping) else "its keys"
    top = _Section(
        raw,
        "model",
        problems,
        ("type", "architecture", "regression_head"),
        misplaced={
            "training": "training settings belong in the top-level 'training:' section (a "
            "nested 'model.training' was silently ignored by the earlier KTRDR); move "
            f"{keys} there.",
            "features": "lag features ('model.features') are not supported; use an lstm or "
            "gru model with a sequence_length for time context.",
        },
    )
    kind = top.choice("type", "mlp", MODEL_TYPES) if top.has("type") else "mlp"
    if not top.has("type") and raw is not None:
        top.fail("type", f"is required: one of {', '.join(MODEL_TYPES)}.")
    is_mlp = kind == "mlp"
    other = {
        k: f"applies to {'lstm/gru' if is_mlp else 'mlp'} models; this one is {kind}."
        for k in set(MLP_KEYS if not is_mlp else RNN_KEYS)
        - set(RNN_KEYS if not is_mlp else MLP_KEYS)
    }
    arch = top.section("architecture", MLP_KEYS if is_mlp else RNN_KEYS, misplaced=other)
    layers = _hidden_layers(arch)
    head = _regression_head(top, label_horizon)
    return ModelConfig(
        type=kind,  # type: ignore[arg-type]
        hidden_layers=layers,
        activation=arch.choice("activation", "relu", ACTIVATIONS),
        dropout=arch.number("dropout", 0.2, 0.0, 0.9),
        batch_norm=arch.boolean("batch_norm", False),
        hidden_size=arch.integer("hidden_size", 64, 1, 4096),
        num_layers=arch.integer("num_layers", 1, 1, 8),
        sequence_length=1 if is_mlp else arch.integer("sequence_length", 24, 2, 512),
        regression_head=head,
    )


def _hidden_layers(arch: _Section) -> tuple[int, ...]:
    value = arch.raw.get("hidden_layers", [64, 32])
    ok = (
        isinstance(value, list)
        and 1 <= len(value) <= 8
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in value)
    )
    if not ok:
        arch.fail("hidden_layers", f"must be a list of 1-8 integers in [1, 4096], got {value!r}.")
        return (64, 32)
    return tuple(value)


def _regression_head(top: _Section, label_horizon: int) -> RegressionHeadConfig | None:
    value = top.raw.get("regression_head")
    if value is None or value is False:
        return None
    if value is True:
        return RegressionHeadConfig(horizon_bars=label_horizon, loss_weight=0.5)
    head = top.section("regression_head", ("horizon_bars", "loss_weight"))
    return RegressionHeadConfig(
        horizon_bars=head.integer("horizon_bars", label_horizon, 1, 10_000),
        loss_weight=head.number("loss_weight", 0.5, 0.0, 100.0, lo_open=True),
    )


_LABEL_KEYS = {
    "zigzag": ("source", "zigzag_threshold", "label_lookahead"),
    "triple_barrier": (
        "source",
        "take_profit_atr",
        "stop_loss_atr",
        "max_holding_bars",
        "atr_period",
    ),
    "forward_return": ("source", "horizon_bars", "threshold"),
}


def _label_config(raw: Any, problems: Problems) -> LabelConfig:
    probe = raw if isinstance(raw, Mapping) else {}
    source = probe.get("source", "zigzag")
    if source not in LABEL_SOURCES:
        _Section(None, "training.labels", problems, ()).fail(
            "source",
            f"{source!r} is not one of {', '.join(LABEL_SOURCES)}.",
            suggest(str(source), LABEL_SOURCES, cutoff=0.4),
        )
        source = "zigzag"
    sec = _Section(raw, "training.labels", problems, _LABEL_KEYS[source])
    return LabelConfig(
        source=source,
        zigzag_threshold=sec.number("zigzag_threshold", 0.01, 0.0, 1.0, lo_open=True),
        label_lookahead=sec.integer("label_lookahead", 24, 1, 10_000),
        take_profit_atr=sec.number("take_profit_atr", 2.0, 0.0, 100.0, lo_open=True),
        stop_loss_atr=sec.number("stop_loss_atr", 1.5, 0.0, 100.0, lo_open=True),
        max_holding_bars=sec.integer("max_holding_bars", 48, 1, 10_000),
        atr_period=sec.integer("atr_period", 14, 1, 1_000),
        horizon_bars=sec.integer("horizon_bars", 12, 1, 10_000),
        threshold=sec.number("threshold", 0.001, 0.0, 1.0),
    )


def _split_config(sec: _Section) -> SplitConfig:
    split = SplitConfig(
        train=sec.number("train", 0.7, 0.0, 1.0, lo_open=True),
        validation=sec.number("validation", 0.15, 0.0, 1.0, lo_open=True),
        test=sec.number("test", 0.15, 0.0, 1.0, lo_open=True),
        embargo_pct=sec.number("embargo_pct", 0.01, 0.0, 0.2),
    )
    total = split.train + split.validation + split.test
    if abs(total - 1.0) > 1e-6:
        sec.fail("", f"train + validation + test must be 1, got {total:g}.")
    return split


TRAINING_KEYS = (
    "method",
    "labels",
    "data_split",
    "epochs",
    "batch_size",
    "learning_rate",
    "optimizer",
    "weight_decay",
    "loss",
    "focal_gamma",
    "class_weights",
    "early_stopping",
    "lr_scheduler",
    "gradient_clip",
    "seed",
)


def _training_config(raw: Any, problems: Problems) -> TrainingConfig:
    sec = _Section(raw, "training", problems, TRAINING_KEYS)
    sec.choice("method", "supervised", ("supervised",))
    labels = _label_config(sec.raw.get("labels"), problems)
    split = _split_config(sec.section("data_split", ("train", "validation", "test", "embargo_pct")))
    loss = sec.choice("loss", "cross_entropy", LOSSES)
    if sec.has("focal_gamma") and loss != "focal":
        sec.fail("focal_gamma", "is used only with loss: focal.")
    return TrainingConfig(
        labels=labels,
        split=split,
        epochs=sec.integer("epochs", 50, 1, 10_000),
        batch_size=sec.integer("batch_size", 64, 1, 65_536),
        learning_rate=sec.number("learning_rate", 0.001, 0.0, 10.0, lo_open=True),
        optimizer=sec.choice("optimizer", "adam", OPTIMIZERS),
        weight_decay=sec.number("weight_decay", 0.0, 0.0, 1.0),
        loss=loss,
        focal_gamma=sec.number("focal_gamma", 2.0, 0.0, 10.0),
        class_weights=_class_weights(sec),
        early_stopping=_early_stopping(sec),
        lr_scheduler=_scheduler(sec),
        gradient_clip=sec.number("gradient_clip", 1.0, 0.0, 1e6),
        seed=sec.integer("seed", 42, 0, 2**31 - 1),
    )


def _class_weights(sec: _Section) -> str | tuple[float, float, float]:
    value = sec.raw.get("class_weights", "balanced")
    if value in ("balanced", "none"):
        return str(value)
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return (float(value[0]), float(value[1]), float(value[2]))
    sec.fail(
        "class_weights",
        f"must be 'balanced', 'none' or three positive weights [buy, hold, sell], got {value!r}.",
    )
    return "balanced"


def _early_stopping(sec: _Section) -> EarlyStoppingConfig | None:
    value = sec.raw.get("early_stopping", True)
    if value is False:
        return None
    if value is True:
        return EarlyStoppingConfig()
    es = sec.section("early_stopping", ("patience", "min_delta"))
    return EarlyStoppingConfig(
        patience=es.integer("patience", 10, 1, 10_000),
        min_delta=es.number("min_delta", 0.0, 0.0, 1e6),
    )


_SCHEDULER_KEYS = {
    "none": ("type",),
    "step": ("type", "step_size", "gamma"),
    "exponential": ("type", "gamma"),
    "cosine": ("type", "min_lr"),
    "reduce_on_plateau": ("type", "factor", "patience", "min_lr"),
}


def _scheduler(sec: _Section) -> SchedulerConfig:
    raw = sec.raw.get("lr_scheduler")
    if raw is None:
        return SchedulerConfig()
    probe = raw if isinstance(raw, Mapping) else {}
    kind = probe.get("type", "none")
    if kind not in SCHEDULERS:
        sec.fail(
            "lr_scheduler.type",
            f"{kind!r} is not one of {', '.join(SCHEDULERS)}.",
            suggest(str(kind), SCHEDULERS, cutoff=0.4),
        )
        kind = "none"
    sch = sec.section("lr_scheduler", _SCHEDULER_KEYS[kind])
    return SchedulerConfig(
        type=kind,
        step_size=sch.integer("step_size", 10, 1, 10_000),
        gamma=sch.number("gamma", 0.5, 0.0, 1.0, lo_open=True),
        factor=sch.number("factor", 0.5, 0.0, 1.0, lo_open=True),
        patience=sch.integer("patience", 3, 0, 10_000),
        min_lr=sch.number("min_lr", 0.0, 0.0, 10.0),
    )


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied, nested mappings merged key by key."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_overrides(out[key], value)
        else:
            out[key] = value
    return out


def parse_network_spec(
    model: Any,
    training: Any,
    *,
    overrides: Mapping[str, Any] | None = None,
    source: str = "strategy",
) -> NetworkSpec:
    """Validate both sections (``overrides`` apply to ``training``, as the request's config).

    Raises
    ------
    ValidationError
        ``NEURAL-001`` listing every problem, each with its config path and suggestions (a
        :class:`~ktrdr_core.problems.ProblemsError`; ``problems`` holds each).
    """
    problems = Problems(code=BAD_CONFIG)
    if overrides:
        base = training if isinstance(training, Mapping) else {}
        training = merge_overrides(base, overrides)
    train_cfg = _training_config(training, problems)
    model_cfg = _model_config(model, problems, train_cfg.labels.horizon)
    if len(problems) == 1:  # the error's own "Did you mean" carries the suggestions
        only = problems.items[0]
        raise ProblemsError(
            [
                type(only)(
                    BAD_CONFIG,
                    f"{source}: {only.message}",
                    field=only.field,
                    suggestions=only.suggestions,
                    details={"problems": 1},
                )
            ]
        )
    problems.raise_if_any(f"{source}: the model/training settings")
    return NetworkSpec(model=model_cfg, training=train_cfg)


def model_config_from(raw: Mapping[str, Any]) -> ModelConfig:
    """A :class:`ModelConfig` from its ``to_dict`` form (as stored in model.json)."""
    head = raw.get("regression_head")
    return ModelConfig(
        type=raw["type"],
        hidden_layers=tuple(raw["hidden_layers"]),
        activation=raw["activation"],
        dropout=float(raw["dropout"]),
        batch_norm=bool(raw["batch_norm"]),
        hidden_size=int(raw["hidden_size"]),
        num_layers=int(raw["num_layers"]),
        sequence_length=int(raw["sequence_length"]),
        regression_head=RegressionHeadConfig(**head) if head else None,
    )


def training_config_from(raw: Mapping[str, Any]) -> TrainingConfig:
    """A :class:`TrainingConfig` from its ``to_dict`` form."""
    weights = raw["class_weights"]
    stopping = raw.get("early_stopping")
    return TrainingConfig(
        labels=LabelConfig(**raw["labels"]),
        split=SplitConfig(**raw["split"]),
        epochs=int(raw["epochs"]),
        batch_size=int(raw["batch_size"]),
        learning_rate=float(raw["learning_rate"]),
        optimizer=str(raw["optimizer"]),
        weight_decay=float(raw["weight_decay"]),
        loss=str(raw["loss"]),
        focal_gamma=float(raw["focal_gamma"]),
        class_weights=tuple(weights) if isinstance(weights, list | tuple) else str(weights),  # type: ignore[arg-type]
        early_stopping=EarlyStoppingConfig(**stopping) if stopping else None,
        lr_scheduler=SchedulerConfig(**raw["lr_scheduler"]),
        gradient_clip=float(raw["gradient_clip"]),
        seed=int(raw["seed"]),
    )


def spec_to_dict(spec: NetworkSpec) -> dict[str, Any]:
    return {"model": spec.model.to_dict(), "training": spec.training.to_dict()}


def spec_from_dict(raw: Mapping[str, Any]) -> NetworkSpec:
    """The inverse of :func:`spec_to_dict`."""
    return NetworkSpec(
        model=model_config_from(raw["model"]), training=training_config_from(raw["training"])
    )
