"""The only module that knows both the backtest protobuf messages and the domain/store types."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.backtest.v1 import backtest_pb2
from ktrdr.common.v1 import common_pb2
from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.costs import (
    Costs,
    FixedPlusRateCommission,
    PerShareCommission,
    RateCommission,
)
from ktrdr_backtest.domain.engine import (
    EndOfData,
    EngineConfig,
    ExitReason,
    FillTiming,
    FixedUnits,
    FractionOfEquity,
    Trade,
)
from ktrdr_backtest.domain.run import (
    DEFAULT_BATCH,
    BacktestRequest,
    Decision,
    RunEvent,
    RunProgress,
)
from ktrdr_backtest.domain.strategies import SECTIONS, StrategyCheck, StrategyEntry
from ktrdr_backtest.domain.walkforward import (
    DEFAULT_MAX_WINDOWS,
    WalkForwardConfig,
    WalkForwardEvent,
    WalkForwardMode,
    WindowResult,
)
from ktrdr_backtest.store import (
    BUY_AND_HOLD,
    MAJORITY,
    EquityCurve,
    MetricValue,
    RunRecord,
    StrategyPerformance,
)
from ktrdr_core.dates import parse_date
from ktrdr_core.errors import KtrdrError, ValidationError
from ktrdr_core.problems import Problems
from ktrdr_core.strategy.features import FeatureSpec
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
    """One basis (``net``, ``gross``, ``buy_hold`` or ``majority``) of a run's stored metrics."""
    stored: Mapping[str, MetricValue] = record.metrics.get(basis, {})
    if not stored:
        return backtest_pb2.PerformanceMetrics()
    out = backtest_pb2.PerformanceMetrics(
        basis=basis,
        periods_per_year=record.periods_per_year or 0.0,
        periods_per_year_source=record.periods_per_year_source,
        risk_free_rate=record.risk_free_rate or 0.0,
    )
    costs = record.metrics.get("net" if basis == "gross" else basis, {})
    for field in out.DESCRIPTOR.fields:
        if field.name in _RUN_FIELDS:
            continue
        name = _ALIASES.get(field.name, field.name)
        source = costs if field.name in _ALIASES or name == "total_costs" else stored
        if basis == "gross" and source is costs:
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
        buy_and_hold=metrics(record, BUY_AND_HOLD),
        majority_class=metrics(record, MAJORITY),
        model_metrics={k: v for k, v in record.model_metrics.items() if math.isfinite(v)},
        warmup_bars=record.warmup_bars,
        walk_forward_id=record.walk_forward_id,
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


def decision_trace(d: Decision, names: Sequence[str]) -> backtest_pb2.DecisionTrace:
    """What the model saw and said at a decision's bar."""
    buy, hold, sell = d.probabilities
    confidence = buy if d.signal > 0 else sell
    return backtest_pb2.DecisionTrace(
        bar=d.bar,
        timestamp=timestamp_us(d.time_us),
        signal="BUY" if d.signal > 0 else "SELL",
        probabilities=backtest_pb2.ClassProbabilities(buy=buy, hold=hold, sell=sell),
        confidence=confidence,
        features=[
            backtest_pb2.FeatureValue(name=n, value=v)
            for n, v in zip(names, d.features, strict=False)
        ],
    )


def trade(
    t: Trade,
    decisions: Mapping[int, Decision] | None = None,
    names: Sequence[str] = (),
) -> backtest_pb2.Trade:
    """A trade, with the traces of the decisions that opened and closed it when given."""
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
    decisions = decisions or {}
    for bar, field in (
        (t.entry_signal_bar, "entry_decision"),
        (t.exit_signal_bar, "exit_decision"),
    ):
        found = decisions.get(bar) if bar is not None else None
        if found is not None:
            getattr(out, field).CopyFrom(decision_trace(found, names))
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


# -- requests -------------------------------------------------------------------------------------

DEFAULT_CAPITAL = 100_000.0
DEFAULT_COMMISSION = 0.001
DEFAULT_SLIPPAGE = 0.0005
_FILLS = {
    backtest_pb2.FILL_TIMING_UNSPECIFIED: FillTiming.NEXT_OPEN,
    backtest_pb2.FILL_TIMING_NEXT_OPEN: FillTiming.NEXT_OPEN,
    backtest_pb2.FILL_TIMING_THIS_CLOSE: FillTiming.THIS_CLOSE,
}
_ENDS = {
    backtest_pb2.END_OF_DATA_UNSPECIFIED: EndOfData.LAST_CLOSE,
    backtest_pb2.END_OF_DATA_LAST_CLOSE: EndOfData.LAST_CLOSE,
    backtest_pb2.END_OF_DATA_LAST_OPEN: EndOfData.LAST_OPEN,
}


def _bounded(
    problems: Problems, field: str, value: float, lo: float, hi: float, *, hi_open: bool = False
) -> None:
    inside = math.isfinite(value) and lo <= value and (value < hi if hi_open else value <= hi)
    if not inside:
        bound = f"[{lo:g}, {hi:g}{')' if hi_open else ']'}"
        problems.add(field, f"'{field}' {value!r} is out of range {bound}.")


def _commission(request: backtest_pb2.RunBacktestRequest, problems: Problems) -> Any:
    settings = request.commission_settings
    kind = settings.WhichOneof("model")
    if kind is not None and request.commission:
        problems.add(
            "commission_settings",
            "Give either 'commission' (a rate) or 'commission_settings', not both.",
        )
    if kind == "fixed_plus_rate":
        f = settings.fixed_plus_rate
        _bounded(problems, "commission_settings.fixed_plus_rate.fixed", f.fixed, 0, 1e9)
        _bounded(problems, "commission_settings.fixed_plus_rate.rate", f.rate, 0, 0.1, hi_open=True)
        return lambda: FixedPlusRateCommission(fixed=f.fixed, rate=f.rate)
    if kind == "per_share":
        ps = settings.per_share
        _bounded(problems, "commission_settings.per_share.per_share", ps.per_share, 0, 1e6)
        _bounded(problems, "commission_settings.per_share.minimum", ps.minimum, 0, 1e9)
        cap = ps.maximum_rate if ps.HasField("maximum_rate") else None
        if cap is not None and not 0 < cap < 0.1:
            problems.add("commission_settings.per_share.maximum_rate", "must be in (0, 0.1).")
        return lambda: PerShareCommission(
            per_share=ps.per_share, minimum=ps.minimum, maximum_rate=cap
        )
    rate = settings.rate if kind == "rate" else (request.commission or DEFAULT_COMMISSION)
    _bounded(problems, "commission" if kind is None else "commission_settings.rate", rate, 0, 0.1,
             hi_open=True)  # fmt: skip
    return lambda: RateCommission(rate)


def _sizing(request: backtest_pb2.RunBacktestRequest, problems: Problems) -> Any:
    sizing = request.sizing
    whole = not sizing.fractional_units
    if sizing.WhichOneof("mode") == "fixed_units":
        units = sizing.fixed_units
        if not (math.isfinite(units) and 0 < units <= 1e12) or (whole and units != int(units)):
            problems.add(
                "sizing.fixed_units",
                f"'sizing.fixed_units' {units!r} must be > 0 (and whole without fractional_units).",
            )
        return lambda: FixedUnits(units=units, whole_units=whole)
    fraction = sizing.fraction_of_equity if sizing.WhichOneof("mode") else 1.0
    if not (math.isfinite(fraction) and 0 < fraction <= 1):
        problems.add(
            "sizing.fraction_of_equity",
            f"'sizing.fraction_of_equity' {fraction!r} must be in (0, 1].",
        )
    return lambda: FractionOfEquity(fraction=fraction, whole_units=whole)


def engine_config(request: backtest_pb2.RunBacktestRequest, problems: Problems) -> EngineConfig:
    """The engine settings a request asks for (every problem recorded in ``problems``)."""
    capital = request.initial_capital or DEFAULT_CAPITAL
    _bounded(problems, "initial_capital", capital, 1e-9, 1e15)
    slippage_bps = (request.slippage or DEFAULT_SLIPPAGE) * 10_000
    if request.HasField("slippage_bps"):
        if request.slippage:
            problems.add("slippage_bps", "Give either 'slippage' or 'slippage_bps', not both.")
        slippage_bps = request.slippage_bps
    _bounded(problems, "slippage_bps" if request.HasField("slippage_bps") else "slippage",
             slippage_bps / (1 if request.HasField("slippage_bps") else 10_000),
             0, 10_000 if request.HasField("slippage_bps") else 1)  # fmt: skip
    _bounded(problems, "spread_bps", request.spread_bps, 0, 10_000)
    commission = _commission(request, problems)
    sizing = _sizing(request, problems)
    fill = _FILLS.get(request.fill_timing)
    end = _ENDS.get(request.end_of_data)
    if fill is None:
        problems.add("fill_timing", "unknown fill timing.")
    if end is None:
        problems.add("end_of_data", "unknown end-of-data rule.")
    if problems:
        return EngineConfig()
    with problems.capture(ValidationError):
        return EngineConfig(
            initial_cash=capital,
            fill_timing=fill or FillTiming.NEXT_OPEN,
            costs=Costs(
                commission=commission(),
                spread_bps=request.spread_bps,
                slippage_bps=slippage_bps,
            ),
            sizing=sizing(),
            end_of_data=end or EndOfData.LAST_CLOSE,
        )
    return EngineConfig()


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # stands in for a date reported missing


def _dates(start: str, end: str, problems: Problems) -> tuple[dt.datetime, dt.datetime]:
    parsed: list[dt.datetime] = []
    for name, value in (("start_date", start), ("end_date", end)):
        date = None
        if not value:
            problems.add(name, f"'{name}' is required.", code=codes.BAD_RUN_REQUEST)
        else:
            with problems.capture(ValidationError):
                date = parse_date(value, name)
        parsed.append(date or _EPOCH)
    return parsed[0], parsed[1]


def backtest_request(
    request: backtest_pb2.RunBacktestRequest, *, walk_forward_id: str = ""
) -> BacktestRequest:
    """A :class:`BacktestRequest`; INVALID_ARGUMENT listing every field out of bounds."""
    problems = Problems(code=codes.BAD_ENGINE_CONFIG)
    if not request.strategy_id:
        problems.add("strategy_id", "'strategy_id' is required.", code=codes.MISSING_FIELD)
    start, end = _dates(request.start_date, request.end_date, problems)
    config = engine_config(request, problems)
    threshold = request.confidence_threshold if request.HasField("confidence_threshold") else None
    if start >= end and any(p.field in ("start_date", "end_date") for p in problems.items):
        end = start + dt.timedelta(days=1)  # reported already; check the other fields
    with problems.capture(ValidationError):
        out = BacktestRequest(
            strategy_id=request.strategy_id,
            symbol=request.symbol,
            timeframe=request.timeframe,
            start=start,
            end=end,
            model=request.model,
            engine=config,
            confidence_threshold=threshold,
            batch_size=request.batch_size or DEFAULT_BATCH,
            risk_free_rate=request.risk_free_rate,
            walk_forward_id=walk_forward_id,
        )
    problems.raise_if_any("the backtest request")
    return out


_MODES = {
    backtest_pb2.WALK_FORWARD_MODE_UNSPECIFIED: WalkForwardMode.ROLLING,
    backtest_pb2.WALK_FORWARD_MODE_ROLLING: WalkForwardMode.ROLLING,
    backtest_pb2.WALK_FORWARD_MODE_EXPANDING: WalkForwardMode.EXPANDING,
}


def walk_forward_config(request: backtest_pb2.RunWalkForwardRequest) -> WalkForwardConfig:
    """A :class:`WalkForwardConfig`; INVALID_ARGUMENT listing every field out of bounds."""
    problems = Problems(code=codes.BAD_WALK_FORWARD)
    if not request.strategy_id:
        problems.add("strategy_id", "'strategy_id' is required.", code=codes.MISSING_FIELD)
    start, end = _dates(request.start_date, request.end_date, problems)
    engine = Problems(prefix="backtest", code=codes.BAD_ENGINE_CONFIG)
    config = engine_config(request.backtest, engine)
    problems.items.extend(p.at(p.field and f"backtest.{p.field}") for p in engine.items)
    bt = request.backtest
    threshold = bt.confidence_threshold if bt.HasField("confidence_threshold") else None
    overrides = _struct(request.training_overrides)
    with problems.capture(ValidationError):
        out = WalkForwardConfig(
            strategy_id=request.strategy_id,
            symbol=request.symbol,
            start=start,
            end=end,
            mode=_MODES.get(request.mode, WalkForwardMode.ROLLING),
            train_bars=request.train_bars,
            test_bars=request.test_bars,
            step_bars=request.step_bars,
            purge_bars=request.purge_bars,
            embargo_bars=request.embargo_bars,
            max_windows=request.max_windows or DEFAULT_MAX_WINDOWS,
            overrides=overrides,
            engine=config,
            confidence_threshold=threshold,
            batch_size=bt.batch_size or DEFAULT_BATCH,
            risk_free_rate=bt.risk_free_rate,
        )
    if not problems and start >= end:
        problems.add("end_date", "'end_date' must be after 'start_date'.")
    problems.raise_if_any("the walk-forward request")
    return out


def _struct(value: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as a mapping; integral numbers become ints again (JSON has only floats)."""

    def ints(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {k: ints(x) for k, x in v.items()}
        if isinstance(v, list):
            return [ints(x) for x in v]
        return v

    return ints(json_format.MessageToDict(value)) if value.fields else {}


# -- strategies -----------------------------------------------------------------------------------


def error_detail(error: KtrdrError) -> common_pb2.ErrorDetail:
    return common_pb2.ErrorDetail(
        code=error.code,
        message=error.full_message,
        field=error.field or "",
        suggestions=list(error.suggestions),
        metadata=error.details,
    )


def strategy_feature(f: FeatureSpec) -> backtest_pb2.StrategyFeature:
    return backtest_pb2.StrategyFeature(
        name=f.name,
        timeframe=f.timeframe,
        kind=f.kind,
        fuzzy_set=f.fuzzy_set,
        membership=f.membership,
        indicator=f.indicator,
        normalization=f.normalization,
    )


def strategy_summary(entry: StrategyEntry) -> backtest_pb2.StrategySummary:
    check = entry.check
    strategy = check.strategy
    return backtest_pb2.StrategySummary(
        strategy_id=entry.strategy_id,
        name=strategy.name if strategy else entry.strategy_id,
        description=strategy.description if strategy else "",
        version=strategy.version if strategy else "",
        symbols=list(strategy.symbols) if strategy else [],
        timeframes=list(strategy.timeframes) if strategy else [],
        valid=check.valid,
        errors=[error_detail(p) for p in check.problems],
    )


def get_strategy(entry: StrategyEntry) -> backtest_pb2.GetStrategyResponse:
    check = entry.check
    return backtest_pb2.GetStrategyResponse(
        strategy=strategy_summary(entry),
        yaml=entry.text,
        features=[f.name for f in check.features],
        feature_specs=[strategy_feature(f) for f in check.features],
        warmup_bars=check.warmup_bars,
        label_horizon_bars=check.label_horizon_bars,
    )


def validation(check: StrategyCheck) -> backtest_pb2.ValidateStrategyResponse:
    return backtest_pb2.ValidateStrategyResponse(
        valid=check.valid,
        errors=[error_detail(p) for p in check.problems],
        features=[f.name for f in check.features],
        feature_specs=[strategy_feature(f) for f in check.features],
        warmup_bars=check.warmup_bars,
        label_horizon_bars=check.label_horizon_bars,
        sections=list(SECTIONS),
    )


# -- runs -----------------------------------------------------------------------------------------


def progress(p: RunProgress) -> backtest_pb2.BacktestProgress:
    out = backtest_pb2.BacktestProgress(
        percent=p.percent,
        bars=p.bars,
        equity=p.equity,
        trades=p.trades,
        stage=p.stage,
        elapsed_seconds=p.elapsed_seconds,
        bars_per_second=p.bars_per_second,
        position_units=p.position_units,
    )
    if p.last_bar_us is not None:
        out.last_bar.CopyFrom(timestamp_us(p.last_bar_us))
    return out


def running(event: RunEvent) -> backtest_pb2.Backtest:
    """The run while it runs (state RUNNING, no metrics yet)."""
    plan = event.plan
    return backtest_pb2.Backtest(
        backtest_id=event.run_id,
        strategy_id=plan.request.strategy_id,
        state=backtest_pb2.BACKTEST_STATE_RUNNING,
        progress_pct=event.progress.percent,
        symbol=plan.symbol,
        timeframe=plan.timeframe,
        model=plan.model.name,
        bars=event.progress.bars,
        warmup_bars=plan.strategy.warmup_bars,
        walk_forward_id=plan.request.walk_forward_id,
        model_metrics={k: v for k, v in plan.model.metrics.items() if math.isfinite(v)},
    )


def run_response(event: RunEvent, record: RunRecord | None) -> backtest_pb2.RunBacktestResponse:
    """A progress message, or (``record``: the stored run) the last one."""
    run = backtest(record) if record is not None else running(event)
    return backtest_pb2.RunBacktestResponse(backtest=run, progress=progress(event.progress))


def window(result: WindowResult, record: RunRecord) -> backtest_pb2.WalkForwardWindow:
    w = result.window
    return backtest_pb2.WalkForwardWindow(
        index=w.index,
        train_start=timestamp_us(w.train_start_us),
        train_end=timestamp_us(w.train_end_us),
        test_start=timestamp_us(w.test_start_us),
        test_end=timestamp_us(w.test_end_us),
        model=result.model,
        backtest=backtest(record),
    )


def walk_forward_response(
    event: WalkForwardEvent,
    windows: Sequence[backtest_pb2.WalkForwardWindow],
    aggregate: RunRecord | None,
) -> backtest_pb2.RunWalkForwardResponse:
    out = backtest_pb2.RunWalkForwardResponse(
        walk_forward_id=event.walk_forward_id,
        stage=event.stage,
        window=event.window,
        windows=event.windows,
        progress_pct=event.percent,
        message=event.message,
        completed=list(windows),
    )
    if aggregate is not None:
        out.aggregate.CopyFrom(backtest(aggregate))
    return out
