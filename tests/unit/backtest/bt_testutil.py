"""Helpers for the backtest tests: seeded bars, hand-made bars, engine runs."""

from __future__ import annotations

import numpy as np

from ktrdr_backtest.domain import (
    BacktestResult,
    DecisionConfig,
    EngineConfig,
    ModelOutput,
    run_backtest,
)
from ktrdr_core.bars import Bars

HOUR_US = 3_600 * 1_000_000
T0_US = 1_700_000_000 * 1_000_000


def make_bars(ts: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> Bars:
    """Core bars without volume (the engine does not use it)."""
    return Bars(ts, o, h, lo, c, np.zeros(len(ts)))


def random_bars(n: int, seed: int, *, vol: float = 0.02) -> Bars:
    """A seeded random walk with gaps between bars and wicks on both sides."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    prev = np.concatenate([[100.0], close[:-1]])
    open_ = prev * np.exp(rng.normal(0, vol / 4, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, n)))
    return make_bars(T0_US + np.arange(n) * HOUR_US, open_, high, low, close)


def bars_from(rows: list[tuple[float, float, float, float]]) -> Bars:
    """Hourly bars from (open, high, low, close) rows."""
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    return make_bars(T0_US + np.arange(len(rows)) * HOUR_US, o, h, lo, c)


def flat_bars(prices: list[float]) -> Bars:
    """Bars whose open, high, low and close are all the given price."""
    return bars_from([(p, p, p, p) for p in prices])


def run(
    bars: Bars,
    signals: list[int] | np.ndarray,
    *,
    config: EngineConfig | None = None,
    decisions: DecisionConfig | None = None,
    probabilities: np.ndarray | None = None,
) -> BacktestResult:
    output = ModelOutput(np.asarray(signals, dtype=np.int8), probabilities)
    return run_backtest(
        bars, output, config=config or EngineConfig(initial_cash=10_000), decisions=decisions
    )
