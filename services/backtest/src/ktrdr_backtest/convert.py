"""The only module that knows both the backtest protobuf messages and the domain/store types."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.backtest.v1 import backtest_pb2
from ktrdr_backtest.domain.engine import ExitReason, Trade
from ktrdr_backtest.store import EquityCurve, MetricValue, RunRecord, StrategyPerformance
from ktrdr_runtime.bars import timestamp_us

_STATES = {
    "running": backtest_pb2.BACKTEST_STATE_RUNNING,
    "succeeded": backtest_pb2.BACKTEST_STATE_SUCCEEDED,
    "failed": backtest_pb2.BACKTEST_STATE_FAILED,
}
_EXIT_REASONS = {
    ExitReason.SIGNAL: backtest_pb2.EXIT_REASON_SIGNAL,
    ExitReason.STOP: backtest_pb2.EXIT_REASON_STOP,
    ExitReason.TARGET: backtest_pb2.EXIT_REASON_TARGET,
    ExitReason.END: backtest_pb2.EXIT_REASON_END,
    ExitReason.RUIN: backtest_pb2.EXIT_REASON_RUIN,
}
# PerformanceMetrics fields stored under another metric name.
_ALIASES = {
    "commissions_paid": "commission",
    "spread_paid": "spread_cost",
    "slippage_paid": "slippage_cost",
}
_RUN_FIELDS = ("periods_per_year", "periods_per_year_source", "risk_free_rate", "basis", "formulas")


def _timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def metrics(record: RunRecord, basis: str) -> backtest_pb2.PerformanceMetrics:
    """One basis (``net`` or ``gross``) of a run's stored metrics."""
    stored: Mapping[str, MetricValue] = record.metrics.get(basis, {})
    if not stored:
        return backtest_pb2.PerformanceMetrics()
    out = backtest_pb2.PerformanceMetrics(
        basis=basis,
        periods_per_year=record.periods_per_year or 0.0,
        periods_per_year_source=record.periods_per_year_source,
        risk_free_rate=record.risk_free_rate or 0.0,
    )
    costs = record.metrics.get("net", {})
    for field in out.DESCRIPTOR.fields:
        if field.name in _RUN_FIELDS:
            continue
        name = _ALIASES.get(field.name, field.name)
        source = costs if field.name in _ALIASES or name == "total_costs" else stored
        if basis != "net" and source is costs:
            continue
        metric = source.get(name)
        if metric is None:
            continue
        if field.type == field.TYPE_INT64:
            setattr(out, field.name, int(metric.value) if math.isfinite(metric.value) else 0)
        else:
            setattr(out, field.name, metric.value)
    for name, metric in stored.items():
        if metric.formula:
            out.formulas[name] = metric.formula
    return out


def backtest(record: RunRecord) -> backtest_pb2.Backtest:
    out = backtest_pb2.Backtest(
        backtest_id=record.id,
        strategy_id=record.strategy_id,
        state=_STATES.get(record.state, backtest_pb2.BACKTEST_STATE_UNSPECIFIED),
        progress_pct=100.0 if record.state == "succeeded" else 0.0,
        symbol=record.symbol,
        timeframe=record.timeframe,
        model=record.model,
        metrics=metrics(record, "net"),
        gross_metrics=metrics(record, "gross"),
        error=record.error or "",
        created_at=_timestamp(record.created_at),
        bars=record.bars,
        signal_counts=dict(record.signal_counts),
        settings={k: str(v) for k, v in record.settings.items()},
    )
    if record.first_bar_us is not None:
        out.start.CopyFrom(timestamp_us(record.first_bar_us))
    if record.last_bar_us is not None:
        out.end.CopyFrom(timestamp_us(record.last_bar_us))
    if record.finished_at is not None:
        out.finished_at.CopyFrom(_timestamp(record.finished_at))
    return out


def _probabilities(values: tuple[float, float, float]) -> backtest_pb2.ClassProbabilities:
    return backtest_pb2.ClassProbabilities(buy=values[0], hold=values[1], sell=values[2])


def trade(t: Trade) -> backtest_pb2.Trade:
    out = backtest_pb2.Trade(
        side=backtest_pb2.SIDE_LONG if t.side > 0 else backtest_pb2.SIDE_SHORT,
        entry_time=timestamp_us(t.entry_time_us),
        exit_time=timestamp_us(t.exit_time_us),
        entry_price=t.entry_price,
        exit_price=t.exit_price,
        quantity=t.units,
        pnl=t.pnl,
        return_pct=t.return_pct,
        commission=t.commission,
        exit_reason=_EXIT_REASONS[t.exit_reason],
        entry_quote=t.entry_quote,
        exit_quote=t.exit_quote,
        spread_cost=t.spread_cost,
        slippage_cost=t.slippage_cost,
        gross_pnl=t.gross_pnl,
        entry_bar=t.entry_bar,
        exit_bar=t.exit_bar,
    )
    if t.stop_price is not None:
        out.stop_price = t.stop_price
    if t.target_price is not None:
        out.target_price = t.target_price
    if t.entry_probabilities is not None:
        out.entry_probabilities.CopyFrom(_probabilities(t.entry_probabilities))
    if t.exit_probabilities is not None:
        out.exit_probabilities.CopyFrom(_probabilities(t.exit_probabilities))
    return out


def equity_points(curve: EquityCurve) -> list[backtest_pb2.EquityPoint]:
    rows = zip(
        curve.bars.tolist(),
        curve.timestamps_us.tolist(),
        curve.equity.tolist(),
        curve.gross_equity.tolist(),
        curve.drawdown_pct.tolist(),
        strict=True,
    )
    return [
        backtest_pb2.EquityPoint(
            bar=bar, timestamp=timestamp_us(ts), equity=eq, gross_equity=gross, drawdown_pct=dd
        )
        for bar, ts, eq, gross, dd in rows
    ]


def performance(perf: StrategyPerformance) -> backtest_pb2.GetStrategyPerformanceResponse:
    out = backtest_pb2.GetStrategyPerformanceResponse(
        strategy_id=perf.strategy_id,
        backtests=[backtest(r) for r in perf.recent],
        runs=perf.runs,
        succeeded_runs=perf.succeeded_runs,
        failed_runs=perf.failed_runs,
        best_total_return_pct=perf.best_total_return_pct,
        worst_total_return_pct=perf.worst_total_return_pct,
        mean_total_return_pct=perf.mean_total_return_pct,
        mean_sharpe_ratio=perf.mean_sharpe_ratio,
    )
    if perf.latest is not None:
        out.latest.CopyFrom(metrics(perf.latest, "net"))
    return out
