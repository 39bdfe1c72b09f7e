"""Look-ahead guards: what the backtest knows at bar t uses nothing after t.

* Every feature, prediction and decision at bar t is unchanged when every bar after t is
  removed (t = the last bar included): the strategy streams, the model and the engine run on
  the truncated bars give the same rows, bit for bit.
* Values after the warm-up are the same whatever the length of history before them: streams
  started with the strategy's warm-up before a bar, or with far more history, agree there (to
  1e-6: recursive indicators forget their start geometrically; see
  ``ktrdr_backtest.domain.strategies.warmup_bars``), and a backtest, which always feeds the same
  warm-up, gives the same bits (test_backtest_run.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from run_testutil import GOOG, MTF, RSI, bundled_home, pipeline, train_sync

from ktrdr_backtest.domain import BacktestEngine, DecisionConfig, EngineConfig
from ktrdr_backtest.domain.run import Step, model_output
from ktrdr_backtest.domain.strategies import StrategyFiles
from ktrdr_core.bars import Bars
from ktrdr_data.domain.synthetic import SyntheticConfig, generate
from ktrdr_pipeline import Pipeline

SERIES = {RSI: ("EURUSD", "1h", 2_500), MTF: ("EURUSD", "1h", 5_000), GOOG: ("GOOG", "1d", 2_148)}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = bundled_home(tmp_path_factory.mktemp("look-ahead"))
    for strategy in SERIES:
        train_sync(root, strategy, epochs=10)
    return root


async def _steps(p: Pipeline, strategy: str, bars: Bars) -> Step:
    """Features and predictions of ``bars`` from fresh streams (in batches of 500): the
    strategy's feature stream into its model, as a backtest runs them."""
    symbol, timeframe, _ = SERIES[strategy]
    s = await p.strategy(strategy)
    source = p.backtester().signals
    stream = await source.open(s, symbol=symbol, model=f"{s.name}.{symbol}_{timeframe}")
    parts = []
    for lo in range(0, len(bars), 500):
        await stream.send(bars.take(slice(lo, lo + 500)))
        parts.append(await stream.receive())
    return Step(
        features=type(parts[0].features).concat([x.features for x in parts]),
        probabilities=np.concatenate([x.probabilities for x in parts]),
        ready=np.concatenate([x.ready for x in parts]),
    )


def _acted(bars: Bars, step: Step, decisions: DecisionConfig) -> list[int]:
    engine = BacktestEngine(EngineConfig(initial_cash=10_000), decisions)
    engine.feed(bars, model_output(step))
    return list(engine.acted_bars)


@pytest.mark.parametrize("strategy", list(SERIES))
async def test_nothing_at_bar_t_changes_when_the_bars_after_t_are_removed(home, strategy):
    p = pipeline(home)
    symbol, timeframe, n = SERIES[strategy]
    bars = Bars.from_frame(p.store.read(symbol, timeframe)).take(slice(0, n))
    check = await StrategyFiles(p.strategies_dir, p.catalogue).check(strategy)
    decisions = DecisionConfig(confidence_threshold=0.0)  # every BUY/SELL is a decision
    full = await _steps(p, strategy, bars)
    full_signals = model_output(full).signals
    full_acted = _acted(bars, full, decisions)
    assert full.ready.sum() > n // 2 and len(full_acted) > 5
    assert check.require().decisions is not None
    for t in (min(check.warmup_bars, n // 2), (2 * n) // 3, n - 2, n - 1):
        cut = bars.take(slice(0, t + 1))
        part = await _steps(p, strategy, cut)
        assert part.features.equals(full.features.take(slice(0, t + 1))), t
        assert np.array_equal(part.probabilities, full.probabilities[: t + 1], equal_nan=True), t
        assert np.array_equal(part.ready, full.ready[: t + 1]), t
        assert np.array_equal(model_output(part).signals, full_signals[: t + 1]), t
        assert _acted(cut, part, decisions) == [b for b in full_acted if b <= t], t


@pytest.mark.parametrize("strategy", [RSI, GOOG])
async def test_after_the_warm_up_values_do_not_depend_on_the_history_before(home, strategy):
    p = pipeline(home)
    symbol, timeframe, n = SERIES[strategy]
    bars = Bars.from_frame(p.store.read(symbol, timeframe)).take(slice(0, n))
    warmup = (await StrategyFiles(p.strategies_dir, p.catalogue).check(strategy)).warmup_bars
    t0 = n - 600
    runs = []
    for start in (t0 - warmup, t0 - warmup - 400, 0):
        step = await _steps(p, strategy, bars.take(slice(start, None)))
        runs.append((step.features.values[t0 - start :], step.probabilities[t0 - start :]))
    (features, probabilities), *others = runs
    assert np.isfinite(features).all()
    for other_features, other_probabilities in others:
        assert np.abs(features - other_features).max() < 1e-6
        assert np.abs(probabilities - other_probabilities).max() < 1e-6


async def test_multi_timeframe_values_after_the_warm_up_do_not_depend_on_the_history(home):
    """The multi-timeframe strategy's daily indicators need 8,400 hours of warm-up: on a
    seeded synthetic FX series long enough for it."""
    frame = generate(SyntheticConfig(bars=12_000, timeframe="1h", start="2019-01-01", seed=7))
    bars = Bars.from_frame(frame)
    p = pipeline(home)
    warmup = (await StrategyFiles(p.strategies_dir, p.catalogue).check(MTF)).warmup_bars
    s = await p.strategy(MTF)
    t0 = len(bars) - 500
    values = []
    for start in (t0 - warmup, t0 - warmup - 1000):
        stream = await p.strategy_stream(s, calendar="fx_24_5")
        values.append(stream.update(bars.take(slice(start, None))).values[t0 - start :])
    assert np.isfinite(values[0]).all()
    assert np.abs(values[0] - values[1]).max() < 1e-6
