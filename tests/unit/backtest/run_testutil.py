"""Helpers for the backtest runs: a KTRDR home with the bundled bars, tiny trained models."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from ktrdr_backtest.domain.run import BacktestRequest, BacktestRunner, RunEvent
from ktrdr_data.domain.bundled import import_bundled
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_pipeline import Pipeline
from ktrdr_pipeline.backtest import LocalTrainer

REPO = Path(__file__).resolve().parents[3]
STRATEGIES = REPO / "strategies"
RSI = "rsi_trend_eurusd_1h"
MTF = "mtf_trend_follow_1h_4h_1d"
GOOG = "goog_daily_raw_inputs"
# Tiny trainings: the bundled EURUSD hours before the backtest ranges, two epochs.
TRAINING: Mapping[str, tuple[str, str, str]] = {
    RSI: ("EURUSD", "2017-04-19", "2017-10-01"),
    MTF: ("EURUSD", "2017-04-19", "2017-10-01"),
    GOOG: ("GOOG", "2004-08-19", "2010-01-01"),
}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def bundled_home(root: Path) -> Path:
    """``root`` as a KTRDR home holding the bundled GOOG 1d and EURUSD 1h bars."""
    import_bundled(ParquetBarStore(root / "data"))
    return root


def pipeline(home: Path, *, strategies: Path = STRATEGIES) -> Pipeline:
    return Pipeline(data_dir=home / "data", strategies_dir=strategies, models_dir=home / "models")


async def train(home: Path, strategy: str, *, epochs: int = 2) -> str:
    """Train ``strategy`` in-process on its :data:`TRAINING` range; the model's pinned name."""
    p = pipeline(home)
    symbol, start, end = TRAINING[strategy]
    return await LocalTrainer(p, p._registry()).train(
        await p.strategy(strategy),
        symbol=symbol,
        start=utc(start),
        end=utc(end),
        overrides={"epochs": epochs, "early_stopping": False},
    )


def train_sync(home: Path, strategy: str, *, epochs: int = 2) -> str:
    return asyncio.run(train(home, strategy, epochs=epochs))


def request(strategy: str, start: str, end: str, **fields: Any) -> BacktestRequest:
    return BacktestRequest(strategy_id=strategy, start=utc(start), end=utc(end), **fields)


async def events(runner: BacktestRunner, req: BacktestRequest) -> list[RunEvent]:
    return [e async for e in runner.run(req)]


async def last(runner: BacktestRunner, req: BacktestRequest) -> RunEvent:
    out = await events(runner, req)
    assert out[-1].outcome is not None
    return out[-1]


async def aiter_list(items: AsyncIterator[Any]) -> list[Any]:
    return [x async for x in items]
