"""A report's worth of data from backtesting.py's bundled EURUSD bars (no services needed)."""

from __future__ import annotations

import numpy as np
from backtesting.test import EURUSD

from ktrdr_report import (
    Candle,
    ClassScores,
    EquityPoint,
    Line,
    Memberships,
    Metric,
    ReportData,
    Signal,
    Trade,
    Training,
)


def sample_report(n: int = 5000) -> ReportData:
    frame = EURUSD.iloc[:n]
    times = (frame.index.tz_localize("UTC").as_unit("s").asi8).tolist()
    close = frame["Close"].to_numpy()
    candles = [
        Candle(t, float(o), float(h), float(lo), float(c))
        for t, o, h, lo, c in zip(
            times, frame["Open"], frame["High"], frame["Low"], frame["Close"], strict=True
        )
    ]
    sma = np.convolve(close, np.ones(20) / 20, mode="full")[: len(close)]
    sma[:19] = np.nan
    rng = np.random.default_rng(7)
    raw = rng.dirichlet([2, 5, 2], size=len(times))
    features = [f"1h_rsi_14_{m}" for m in ("oversold", "neutral", "overbought")] + [
        f"4h_adx_{m}" for m in ("weak", "strong")
    ]
    memberships = Memberships(
        features=features,
        times=times,
        values=[rng.random(len(times)).round(3).tolist() for _ in features],
    )
    signals = [
        Signal(t, ("BUY", "HOLD", "SELL")[int(np.argmax(p))], float(p.max()), p.tolist())
        for t, p in zip(times, raw, strict=True)
    ]
    trades = [
        Trade(
            side="LONG" if k % 2 == 0 else "SHORT",
            entry_time=times[100 + 400 * k],
            exit_time=times[300 + 400 * k],
            entry_price=float(close[100 + 400 * k]),
            exit_price=float(close[300 + 400 * k]),
            quantity=10_000,
            pnl=float((close[300 + 400 * k] - close[100 + 400 * k]) * 10_000),
            return_pct=float((close[300 + 400 * k] / close[100 + 400 * k] - 1) * 100),
            costs=2.5,
            entry_reason="signal",
            exit_reason="take_profit" if k % 3 == 0 else "signal",
            probabilities=raw[100 + 400 * k].tolist(),
            features={
                f: float(memberships.values[i][100 + 400 * k]) for i, f in enumerate(features)
            },
        )
        for k in range(10)
        if 300 + 400 * k < len(times)
    ]
    equity = 100_000 * (1 + np.cumsum(rng.normal(0, 1e-4, len(times))))
    peak = np.maximum.accumulate(equity)
    points = [
        EquityPoint(t, float(e), float(100_000 * c / close[0]), float((e / p - 1) * 100))
        for t, e, c, p in zip(times, equity, close, peak, strict=True)
    ]
    metrics = [
        Metric(
            "total_return_pct",
            "Total return",
            {"strategy": 1.25, "buy & hold": -0.5, "majority class": 0.0},
            unit="%",
            formula="final equity / initial equity - 1",
        ),
        Metric(
            "sharpe_ratio",
            "Sharpe ratio",
            {"strategy": 0.81, "buy & hold": -0.1, "majority class": None},
            formula="mean(r) / std(r) * sqrt(periods per year), r per bar, risk-free 0",
            periods_per_year=6240.0,
        ),
    ]
    training = Training(
        epochs=list(range(1, 21)),
        train_loss=np.linspace(1.1, 0.7, 20).tolist(),
        val_loss=np.linspace(1.1, 0.85, 20).tolist(),
        val_accuracy=np.linspace(0.35, 0.52, 20).tolist(),
        confusion=[[50, 30, 20], [25, 200, 25], [10, 30, 60]],
        scores=[
            ClassScores("network", [0.6, 0.76, 0.57], [0.5, 0.8, 0.6], [0.55, 0.78, 0.58], 0.69),
            ClassScores("majority", [0.0, 0.56, 0.0], [0.0, 1.0, 0.0], [0.0, 0.72, 0.0], 0.56),
        ],
    )
    return ReportData(
        title="rsi_trend_eurusd_1h — EURUSD 1h",
        subtitle="out-of-sample backtest 2017-12-01 to 2018-02-07",
        candles=candles,
        lines=[Line("sma_20", times, sma.tolist())],
        memberships=memberships,
        signals=signals,
        trades=trades,
        equity=points,
        metric_columns=["strategy", "buy & hold", "majority class"],
        metrics=metrics,
        training=training,
        provenance={"strategy digest": "sha256:abc", "model": "rsi_trend_eurusd_1h/EURUSD_1h_v1"},
    )
