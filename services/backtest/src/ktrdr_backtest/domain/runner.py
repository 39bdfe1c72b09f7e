"""Run a whole backtest from arrays in one call (in batches when asked)."""

from __future__ import annotations

from collections.abc import Callable

from ktrdr_backtest.domain.decisions import DecisionConfig
from ktrdr_backtest.domain.engine import (
    MAX_BATCH_BARS,
    BacktestEngine,
    BacktestResult,
    EngineConfig,
    EngineProgress,
)
from ktrdr_backtest.domain.model_output import BarBatch, ModelOutput


def run_backtest(
    bars: BarBatch,
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
        engine.feed(bars.slice(start, stop), output.slice(start, stop))
        if on_progress is not None:
            on_progress(engine.progress)
    return engine.finish()
