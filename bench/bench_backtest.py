"""Backtest benchmark.

Run: ``python -m bench backtest`` (writes the "backtest" and "backtest-mesh" sections of
docs/benchmarks.md); ``python -m bench.bench_backtest engine|mesh`` runs only one.

1. The engine vs backtesting.py on 1M bars of an SMA(10/30) crossover. Synthetic FX minute
   bars (``ktrdr_data.domain.synthetic``, seeded, 24/5 sessions). Both engines run the same
   stop-and-reverse crossover with the same cash, commission, spread, fills (next open) and
   closing of the last trade; the trades must be identical (asserted). backtesting.py runs
   once (about two minutes); ours is best of three. Times are CPU seconds of this process.
2. A full neuro-fuzzy backtest (``bench/_backtest_mesh.py``): the single-timeframe example strategy
   (RSI, ADX, MACD -> 9 memberships -> MLP -> decisions) on synthetic FX hours, in-process
   (``ktrdr_pipeline``) and across the mesh (data, indicator, fuzzy, neural and backtest
   services as processes), the trades asserted identical. No timing assertions.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import table, write_section
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import SMA

from ktrdr_backtest.domain import (
    BacktestResult,
    Costs,
    DecisionConfig,
    EndOfData,
    EngineConfig,
    FractionOfEquity,
    ModelOutput,
    RateCommission,
    ShortSelling,
    SizingConvention,
    SpreadCharging,
    backtesting_py_stats,
    check_bars,
    compute_metrics,
    crossover_signals,
    observed_periods_per_year,
    run_backtest,
)
from ktrdr_core.bars import Bars
from ktrdr_data.domain.synthetic import SyntheticConfig, generate

BARS = 1_000_000
FAST, SLOW = 10, 30
CASH, COMMISSION, SPREAD = 100_000, 0.00002, 0.00001
STREAM_BATCH = 1_000
GOAL = 10.0

CONFIG = EngineConfig(
    initial_cash=CASH,
    costs=Costs(
        commission=RateCommission(COMMISSION),
        spread_bps=SPREAD * 10_000,
        spread_charging=SpreadCharging.FULL_AT_ENTRY,
    ),
    sizing=FractionOfEquity(fraction=1 - 2**-52, convention=SizingConvention.BACKTESTING_PY),
    end_of_data=EndOfData.LAST_OPEN,
)
DECISIONS = DecisionConfig(short_selling=ShortSelling.REVERSE)


class SmaCross(Strategy):
    def init(self) -> None:
        self.fast = self.I(SMA, self.data.Close, FAST)
        self.slow = self.I(SMA, self.data.Close, SLOW)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            self.position.close()
            self.buy()
        elif crossover(self.slow, self.fast):
            self.position.close()
            self.sell()


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best CPU time of ``repeat`` runs (the machine is shared: wall time measures the others)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def _theirs(frame: pd.DataFrame) -> tuple[float, pd.Series]:
    data = frame.rename(columns=str.capitalize)
    data.index = data.index.tz_localize(None)
    bt = Backtest(
        data, SmaCross, cash=CASH, commission=COMMISSION, spread=SPREAD, finalize_trades=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _best(bt.run, 1)


def _assert_identical(ours: BacktestResult, theirs: pd.Series) -> None:
    trades = theirs._trades
    assert len(ours.trades) == len(trades), (len(ours.trades), len(trades))
    assert [t.side * t.units for t in ours.trades] == trades.Size.tolist()
    assert [t.entry_bar for t in ours.trades] == trades.EntryBar.tolist()
    assert [t.exit_bar for t in ours.trades] == trades.ExitBar.tolist()
    assert [t.entry_price for t in ours.trades] == trades.EntryPrice.tolist()
    assert [t.exit_price for t in ours.trades] == trades.ExitPrice.tolist()
    assert ours.final_equity == theirs["Equity Final [$]"]


def _where_time_goes(bars: Bars, output: ModelOutput) -> str:
    profile = cProfile.Profile()
    profile.enable()
    run_backtest(bars, output, config=CONFIG, decisions=DECISIONS)
    profile.disable()
    stats = pstats.Stats(profile)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    own = sorted(
        ((v[2], f"{Path(k[0]).stem}.{k[2]}") for k, v in stats.stats.items()),  # type: ignore[attr-defined]
        reverse=True,
    )[:5]
    return ", ".join(f"{name} {100 * t / total:.0f}%" for t, name in own)


def engine_main() -> None:
    frame = generate(SyntheticConfig(bars=BARS, timeframe="1m", seed=42))
    close = frame["close"].to_numpy()
    ts = frame.index.as_unit("us").asi8

    def prepare() -> tuple[Bars, ModelOutput]:
        bars = Bars.from_frame(frame)
        check_bars(bars)
        return bars, ModelOutput(crossover_signals(SMA(close, FAST), SMA(close, SLOW)))

    t_prep, (bars, output) = _best(prepare, 3)
    t_run, ours = _best(lambda: run_backtest(bars, output, config=CONFIG, decisions=DECISIONS), 3)
    t_stream, streamed = _best(
        lambda: run_backtest(
            bars, output, config=CONFIG, decisions=DECISIONS, batch_size=STREAM_BATCH
        ),
        1,
    )
    ppy = observed_periods_per_year(ts)
    t_metrics, _ = _best(lambda: compute_metrics(ours, periods_per_year=ppy), 3)
    t_parity, _ = _best(lambda: backtesting_py_stats(ours), 3)
    sys.stderr.write("backtesting.py on 1M bars (about two minutes) ...\n")
    t_theirs, theirs = _theirs(frame)
    _assert_identical(ours, theirs)
    assert streamed.trades == ours.trades and np.array_equal(streamed.equity, ours.equity)

    t_ours = t_prep + t_run + t_metrics + t_parity
    speedup = t_theirs / t_ours
    rows = [
        ["signals + bar checks (SMA, crossover, check_bars)", f"{t_prep * 1e3:.0f}", "", ""],
        ["engine, one batch", f"{t_run * 1e3:.0f}", f"{BARS / t_run / 1e6:.1f}", ""],
        [f"engine, {STREAM_BATCH}-bar batches", f"{t_stream * 1e3:.0f}", "", "same result"],
        ["metrics (net + gross, KTRDR convention)", f"{t_metrics * 1e3:.0f}", "", ""],
        ["backtesting.py-convention stats", f"{t_parity * 1e3:.0f}", "", ""],
        ["**ours: signals + engine + metrics + stats**", f"**{t_ours * 1e3:.0f}**", "", ""],
        ["backtesting.py `Backtest.run` (simulation + stats)", f"{t_theirs * 1e3:.0f}", "", ""],
    ]
    body = (
        f"{BARS:,} synthetic FX minute bars, SMA({FAST}/{SLOW}) stop-and-reverse, cash "
        f"{CASH:,}, commission {COMMISSION}, spread {SPREAD} at entry, next-open fills, last "
        f"trade closed at the last open. {len(ours.trades):,} trades, identical in both engines "
        "(sizes, bars, prices, final equity: asserted).\n\n"
        + table(["step", "CPU ms", "M bars/s", "note"], rows)
        + f"\n\nSpeed-up vs backtesting.py: **{speedup:.0f}x** (goal >= {GOAL:.0f}x: "
        + ("met" if speedup >= GOAL else "not met")
        + "). Where the engine's time goes (own time, cProfile): "
        + _where_time_goes(bars, output)
        + ". The loop visits only bars with a relevant signal (and, with stops, scans the bars "
        "between them with NumPy); equity is marked once per batch, vectorised."
    )
    sys.stdout.write(body + "\n")
    write_section("backtest", "Backtest engine vs backtesting.py", body, "python -m bench backtest")


def main() -> None:
    engine_main()
    from bench._backtest_mesh import main as mesh_main

    mesh_main()


if __name__ == "__main__":
    if sys.argv[1:] == ["engine"]:
        engine_main()
    elif sys.argv[1:] == ["mesh"]:
        from bench._backtest_mesh import main as mesh_main

        mesh_main()
    else:
        main()
