"""Indicator benchmark: a 20-indicator set, ours (batch + streaming) vs TA-Lib vs pandas-ta.

Run: ``python -m bench indicators`` (writes the "indicators" section of
docs/benchmarks.md). Synthetic OHLCV from a seeded random walk; no timing assertions.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas_ta_classic as pta
import talib
from _report import table, write_section

from ktrdr_indicators.domain.bars import random_walk_bars
from ktrdr_indicators.domain.catalogue import create
from ktrdr_indicators.domain.native import NATIVE
from ktrdr_indicators.domain.sets import IndicatorSet

BATCH_BARS = 1_000_000
STREAM_BARS = 100_000


def synthetic(n: int, seed: int = 42) -> dict[str, np.ndarray]:
    return random_walk_bars(n, seed=seed, volatility=0.001, spread=0.0008, min_volume=100)


SET = [
    ("sma", {}),
    ("ema", {}),
    ("wma", {}),
    ("rsi", {}),
    ("macd", {}),
    ("bbands", {}),
    ("atr", {}),
    ("stoch", {}),
    ("adx", {}),
    ("cci", {}),
    ("willr", {}),
    ("roc", {}),
    ("mom", {}),
    ("obv", {}),
    ("mfi", {}),
    ("ad", {}),
    ("psar", {}),
    ("aroon", {}),
    ("donchian", {}),
    ("keltner", {}),
]


def talib_calls(b):
    _o, h, lo, c, v = (b[k] for k in ("open", "high", "low", "close", "volume"))
    return [
        lambda: talib.SMA(c, 20),
        lambda: talib.EMA(c, 20),
        lambda: talib.WMA(c, 20),
        lambda: talib.RSI(c, 14),
        lambda: talib.MACD(c, 12, 26, 9),
        lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0),
        lambda: talib.ATR(h, lo, c, 14),
        lambda: talib.STOCH(h, lo, c, 14, 3, 0, 3, 0),
        lambda: (
            talib.ADX(h, lo, c, 14),
            talib.PLUS_DI(h, lo, c, 14),
            talib.MINUS_DI(h, lo, c, 14),
        ),
        lambda: talib.CCI(h, lo, c, 20),
        lambda: talib.WILLR(h, lo, c, 14),
        lambda: talib.ROC(c, 10),
        lambda: talib.MOM(c, 10),
        lambda: talib.OBV(c, v),
        lambda: talib.MFI(h, lo, c, v, 14),
        lambda: talib.AD(h, lo, c, v),
        lambda: talib.SAR(h, lo, 0.02, 0.2),
        lambda: (talib.AROON(h, lo, 14), talib.AROONOSC(h, lo, 14)),
        lambda: (talib.MAX(h, 20), talib.MIN(lo, 20)),
        lambda: (talib.EMA(c, 20), talib.ATR(h, lo, c, 10)),
    ]


def pta_calls(b):
    s = {k: pd.Series(v) for k, v in b.items()}
    h, lo, c, v = s["high"], s["low"], s["close"], s["volume"]
    return [
        lambda: pta.sma(c, 20),
        lambda: pta.ema(c, 20),
        lambda: pta.wma(c, 20),
        lambda: pta.rsi(c, 14),
        lambda: pta.macd(c),
        lambda: pta.bbands(c, 20, 2.0),
        lambda: pta.atr(h, lo, c, 14),
        lambda: pta.stoch(h, lo, c),
        lambda: pta.adx(h, lo, c),
        lambda: pta.cci(h, lo, c, 20),
        lambda: pta.willr(h, lo, c),
        lambda: pta.roc(c, 10),
        lambda: pta.mom(c, 10),
        lambda: pta.obv(c, v),
        lambda: pta.mfi(h, lo, c, v),
        lambda: pta.ad(h, lo, c, v),
        lambda: pta.psar(h, lo, c),
        lambda: pta.aroon(h, lo),
        lambda: pta.donchian(h, lo),
        lambda: pta.kc(h, lo, c),
    ]


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    warnings.simplefilter("ignore")
    bars = synthetic(BATCH_BARS)
    iset = IndicatorSet([{"indicator": n, "parameters": p} for n, p in SET])
    ours = [ind for ind in iset.indicators]
    t_ours = [best(lambda i=i: i.compute(bars)) for i in ours]
    t_talib = [best(f) for f in talib_calls(bars)]
    t_pta = [best(f, 1) for f in pta_calls(bars)]
    t_set = best(lambda: iset.compute(bars))

    sb = synthetic(STREAM_BARS, seed=7)
    rows = list(
        zip(*(sb[k].tolist() for k in ("open", "high", "low", "close", "volume")), strict=False)
    )
    per_stream = []
    for ind in ours:
        s = ind.stream()
        up = s.update
        t = time.perf_counter()
        for r in rows:
            up(*r)
        per_stream.append((time.perf_counter() - t) / len(rows) * 1e9)
    ss = iset.stream()
    t = time.perf_counter()
    for r in rows:
        ss.update(*r)
    set_ns = (time.perf_counter() - t) / len(rows) / len(ours) * 1e9

    trows = []
    for ind, a, b_, c_, s_ in zip(ours, t_ours, t_talib, t_pta, per_stream, strict=True):
        trows.append(
            [
                ind.name,
                ind.info.engine,
                f"{a * 1e3:.1f}",
                f"{b_ * 1e3:.1f}",
                f"{a / b_:.2f}",
                f"{c_ * 1e3:.0f}",
                f"{c_ / a:.1f}",
                f"{s_:.0f}",
            ]
        )
    tot_o, tot_t, tot_p = sum(t_ours), sum(t_talib), sum(t_pta)
    trows.append(
        [
            "**total (20)**",
            "",
            f"{tot_o * 1e3:.0f}",
            f"{tot_t * 1e3:.0f}",
            f"{tot_o / tot_t:.2f}",
            f"{tot_p * 1e3:.0f}",
            f"{tot_p / tot_o:.1f}",
            f"{np.mean(per_stream):.0f}",
        ]
    )
    body = (
        f"Batch: {BATCH_BARS:,} synthetic bars (seeded random walk), best of 3 (pandas-ta: 1). "
        f"Streaming: {STREAM_BARS:,} bars, pure-Python `update` per bar, in process.\n\n"
        + table(
            [
                "indicator",
                "engine",
                "ours ms",
                "TA-Lib ms",
                "ours/TA-Lib",
                "pandas-ta ms",
                "pandas-ta/ours",
                "stream ns/bar",
            ],
            trows,
        )
        + f"\n\nWhole set via IndicatorSet.compute: {t_set * 1e3:.0f} ms "
        f"({t_set / tot_t:.2f}x the 20 direct TA-Lib calls). "
        f"IndicatorSet stream: {set_ns:.0f} ns per indicator per bar "
        f"({set_ns * len(ours) / 1e3:.1f} us per bar for all 20). "
        "Goals: batch <= 1.5x TA-Lib, streaming ~1 us per indicator per bar. "
        "The set coerces the bars and checks each column for NaN/inf once (members share the "
        "valid-row subsets), so it costs about the per-indicator sum. CCI sits near 1 us per "
        "bar: its mean absolute deviation is inherently O(period) (recomputed over the 20-bar "
        "window every bar, in TA-Lib's order, to stay exact; about 25 ns per window element "
        "in pure Python). Ichimoku's cost is mostly its monotonic-deque updates.\n"
    )
    # every native indicator's streaming cost (incl. the non-TA-Lib ones)
    nrows = []
    for d in NATIVE:
        s = create(d.info.name).stream()
        up = s.update
        t = time.perf_counter()
        for r in rows[:30_000]:
            up(*r)
        nrows.append([d.info.name, f"{(time.perf_counter() - t) / 30_000 * 1e9:.0f}"])
    body += "\nStreaming cost of every native indicator (30k bars):\n\n" + table(
        ["indicator", "ns/bar"], nrows
    )
    sys.stdout.write(body + "\n")
    write_section(
        "indicators",
        "Indicators (ktrdr_indicators.domain)",
        body,
        "python -m bench indicators",
    )


if __name__ == "__main__":
    main()
