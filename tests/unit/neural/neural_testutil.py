"""Shared helpers of the neural unit tests: a synthetic market, an in-memory FeatureSource, and
the real data, indicator and fuzzy services the neural service calls."""

from __future__ import annotations

import contextlib
import datetime as dt
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from ktrdr_core.dates import to_us
from ktrdr_core.errors import NotFoundError
from ktrdr_core.strategy.document import Strategy, load_strategy_text
from ktrdr_data.app import SPEC as DATA
from ktrdr_fuzzy.app import SPEC as FUZZY
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_neural.domain.features import FeatureFrame, PriceBars, StoredRange, resolve_schema
from ktrdr_runtime.server import RunningServer
from ktrdr_runtime.testing import serve_in_process

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"

HOUR_US = 3_600_000_000
START_US = 1_500_000_000 * 1_000_000 // HOUR_US * HOUR_US

STRATEGY_YAML = """
name: {name}
training_data:
  symbols: {{mode: multi_symbol, list: [{symbols}]}}
  timeframes: {{mode: single_timeframe, list: [1h]}}
indicators:
  rsi_14: {{type: rsi, period: 14}}
  macd: {{type: macd}}
fuzzy_sets:
  rsi_14:
    indicator: rsi_14
    low: [0, 30, 50]
    mid: [30, 50, 70]
    high: [50, 70, 100]
  trend:
    indicator: macd.histogram
    down: [-1, -0.5, 0]
    up: [0, 0.5, 1]
nn_inputs:
  - {{fuzzy_set: rsi_14, timeframes: all}}
  - {{fuzzy_set: trend, timeframes: all}}
"""


def make_strategy(
    model: str = "{type: mlp, architecture: {hidden_layers: [16], dropout: 0.0}}",
    training: str = (
        "{labels: {source: forward_return, horizon_bars: 4, threshold: 0.001}, epochs: 3, "
        "batch_size: 64, early_stopping: false}"
    ),
    *,
    name: str = "synthetic",
    symbols: str = "AAA",
) -> Strategy:
    text = STRATEGY_YAML.format(name=name, symbols=symbols)
    text += f"model: {model}\ntraining: {training}\n"
    return load_strategy_text(textwrap.dedent(text))


def market(n: int, *, seed: int, names: tuple[str, ...]) -> tuple[PriceBars, FeatureFrame]:
    """Bars whose drift over the next hours follows a latent signal the features reveal."""
    rng = np.random.default_rng(seed)
    z = np.zeros(n)
    for i in range(1, n):
        z[i] = 0.95 * z[i - 1] + rng.normal(0, 0.3)
    returns = 0.0015 * np.tanh(np.concatenate([[0.0], z[:-1]])) + rng.normal(0, 0.001, n)
    close = 1.1 * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0008, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    stamps = START_US + np.arange(n, dtype=np.int64) * HOUR_US
    cols = []
    for j in range(len(names)):
        base = 1 / (1 + np.exp(-(z * (1 if j % 2 else -1)) * (1 + j % 3)))
        cols.append(np.clip(base + rng.normal(0, 0.05, n), 0, 1))
    values = np.column_stack(cols)
    values[:20] = np.nan  # warm-up
    return PriceBars(stamps, open_, high, low, close), FeatureFrame(stamps, names, values)


class MemorySource:
    """A FeatureSource over in-memory series (symbol -> bars, features)."""

    def __init__(self, series: dict[str, tuple[PriceBars, FeatureFrame]]) -> None:
        self.series = series
        self.feature_calls = 0

    @classmethod
    def synthetic(cls, strategy: Strategy, symbols: dict[str, int], n: int = 1500) -> MemorySource:
        names = tuple(c.name for c in resolve_schema(strategy))
        return cls({s: market(n, seed=seed, names=names) for s, seed in symbols.items()})

    def _get(self, symbol: str) -> tuple[PriceBars, FeatureFrame]:
        if symbol not in self.series:
            raise NotFoundError("DATA-004", f"No bars stored for symbol '{symbol}'.")
        return self.series[symbol]

    @staticmethod
    def _mask(stamps: np.ndarray, start: dt.datetime | None, end: dt.datetime | None):
        keep = np.ones(len(stamps), dtype=bool)
        if start is not None:
            keep &= stamps >= to_us(start)
        if end is not None:
            keep &= stamps < to_us(end)
        return keep

    async def stored_range(self, *, symbol: str, timeframe: str) -> StoredRange:
        bars, _ = self._get(symbol)
        return StoredRange(int(bars.timestamps_us[0]), int(bars.timestamps_us[-1]), len(bars))

    async def features(self, strategy, *, symbol, timeframe, start, end) -> FeatureFrame:
        self.feature_calls += 1
        _, frame = self._get(symbol)
        keep = self._mask(frame.timestamps_us, start, end)
        return FeatureFrame(frame.timestamps_us[keep], frame.names, frame.values[keep])

    async def bars(self, *, symbol, timeframe, start, end) -> PriceBars:
        bars, _ = self._get(symbol)
        k = self._mask(bars.timestamps_us, start, end)
        return PriceBars(
            bars.timestamps_us[k], bars.open[k], bars.high[k], bars.low[k], bars.close[k]
        )


@contextlib.asynccontextmanager
async def feature_services(
    home: Path,
) -> AsyncIterator[tuple[RunningServer, RunningServer, object]]:
    """Data, indicators and fuzzy in-process (the repository's strategies, the bundled bars).

    Yields the data server, the fuzzy server and a channel to fuzzy.
    """
    async with (
        serve_in_process(DATA, home=home) as (data, _),
        serve_in_process(INDICATORS, home=home, data_address=data.address) as (ind, _),
        serve_in_process(
            FUZZY, home=home, strategies_dir=STRATEGIES, indicators_address=ind.address
        ) as (fuzzy, fuzzy_channel),
    ):
        yield data, fuzzy, fuzzy_channel
