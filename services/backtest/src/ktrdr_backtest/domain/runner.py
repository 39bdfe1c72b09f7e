"""Run a whole backtest from arrays in one call (in batches when asked)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ktrdr_backtest.domain.decisions import DecisionConfig
from ktrdr_backtest.domain.engine import (
    MAX_BATCH_BARS,
    BacktestEngine,
    BacktestResult,
    EngineConfig,
    EngineProgress,
)
from ktrdr_backtest.domain.inputs import ModelOutput
from ktrdr_core.bars import Bars


def run_backtest(
    bars: Bars,
    output: ModelOutput,
    *,
    config: EngineConfig,
    decisions: DecisionConfig | None = None,
    batch_size: int = MAX_BATCH_BARS,
    on_progress: Callable[[EngineProgress], None] | None = None,
) -> BacktestResult:
    """Feed ``bars`` and ``output`` to a new engine, ``batch_size`` bars at a time.

    The result is the same for every ``batch_size`` (1 to :data:`MAX_BATCH_BARS`);
    ``on_progress`` is called after each batch.
    """
    if not 1 <= batch_size <= MAX_BATCH_BARS:
        raise ValueError(f"batch_size must be in [1, {MAX_BATCH_BARS}], got {batch_size}")
    output.check_length(len(bars))
    engine = BacktestEngine(config, decisions)
    for start in range(0, len(bars), batch_size):
        stop = start + batch_size
        engine.feed(bars.take(slice(start, stop)), output.slice(start, stop))
        if on_progress is not None:
            on_progress(engine.progress)
    return engine.finish()


def settings_summary(config: EngineConfig, decisions: DecisionConfig) -> dict[str, str]:
    """The settings of a run as text, e.g. ``{"fill_timing": "next_open", ...}`` (for storage)."""
    out: dict[str, str] = {}
    for prefix, obj in (("", config), ("decisions.", decisions)):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                out.update({f"{prefix}{f.name}.{k}": _text(v) for k, v in _shallow(value).items()})
                out[f"{prefix}{f.name}"] = type(value).__name__
            else:
                out[f"{prefix}{f.name}"] = _text(value)
    return out


def _shallow(obj: object) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


def _text(value: object) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{k}={_text(v)}" for k, v in _shallow(value).items())
        return f"{type(value).__name__}({inner})"
    return str(value)
