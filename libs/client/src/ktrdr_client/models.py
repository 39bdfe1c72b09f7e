"""Typed results of the main calls (proto3 JSON -> dataclasses; int64 strings -> int)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


def _int(v: Any) -> int:
    return int(v) if v not in (None, "") else 0


def _float(v: Any) -> float:
    return float(v) if v not in (None, "") else 0.0


def _ts(v: Any) -> dt.datetime | None:
    if not v:
        return None
    return dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))


@dataclasses.dataclass(frozen=True)
class Timeframe:
    code: str
    timeframe: str
    seconds: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Timeframe:
        return cls(d.get("code", ""), d.get("timeframe", ""), _int(d.get("seconds")))


@dataclasses.dataclass(frozen=True)
class Bar:
    timestamp: dt.datetime | None
    open: float
    high: float
    low: float
    close: float
    volume: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Bar:
        return cls(
            _ts(d.get("timestamp")),
            _float(d.get("open")),
            _float(d.get("high")),
            _float(d.get("low")),
            _float(d.get("close")),
            _int(d.get("volume")),
        )


@dataclasses.dataclass(frozen=True)
class Instrument:
    symbol: str
    exchange: str = ""
    instrument_type: str = ""
    currency: str = ""
    time_zone: str = ""
    calendar: str = ""
    trading_hours: str = ""

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> Instrument:
        d = d or {}
        return cls(
            d.get("symbol", ""),
            d.get("exchange", ""),
            d.get("instrumentType", ""),
            d.get("currency", ""),
            d.get("timeZone", ""),
            d.get("calendar", ""),
            d.get("tradingHours", ""),
        )


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    timeframe: str
    first: dt.datetime | None
    last: dt.datetime | None
    bar_count: int

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> SeriesInfo:
        d = d or {}
        return cls(
            d.get("timeframe", ""), _ts(d.get("first")), _ts(d.get("last")), _int(d.get("barCount"))
        )


@dataclasses.dataclass(frozen=True)
class SymbolInfo:
    instrument: Instrument
    series: list[SeriesInfo]

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SymbolInfo:
        return cls(
            Instrument.from_json(d.get("instrument")),
            [SeriesInfo.from_json(s) for s in d.get("series") or []],
        )


@dataclasses.dataclass(frozen=True)
class LoadResult:
    symbol: str
    timeframe: str
    bars: list[Bar]
    quality: dict[str, Any]
    provenance: dict[str, Any]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LoadResult:
        return cls(
            d.get("symbol", ""),
            d.get("timeframe", ""),
            [Bar.from_json(b) for b in d.get("bars") or []],
            d.get("quality") or {},
            d.get("provenance") or {},
        )


@dataclasses.dataclass(frozen=True)
class IndicatorParameter:
    name: str
    type: str
    default: Any
    minimum: float | None
    maximum: float | None
    choices: list[str]
    description: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IndicatorParameter:
        return cls(
            d.get("name", ""),
            d.get("type", ""),
            d.get("defaultValue"),
            d.get("minimum"),
            d.get("maximum"),
            list(d.get("choices") or []),
            d.get("description", ""),
        )


@dataclasses.dataclass(frozen=True)
class IndicatorInfo:
    name: str
    display_name: str
    category: str
    description: str
    parameters: list[IndicatorParameter]
    outputs: list[str]
    warmup_bars: int
    aliases: list[str]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IndicatorInfo:
        return cls(
            d.get("name", ""),
            d.get("displayName", ""),
            d.get("category", ""),
            d.get("description", ""),
            [IndicatorParameter.from_json(p) for p in d.get("parameters") or []],
            list(d.get("outputs") or []),
            _int(d.get("warmupBars")),
            list(d.get("aliases") or []),
        )


@dataclasses.dataclass(frozen=True)
class ValueColumn:
    name: str
    values: list[float]
    ready: list[bool]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ValueColumn:
        return cls(
            d.get("name", ""),
            [_float(v) for v in d.get("values") or []],
            list(d.get("ready") or []),
        )


@dataclasses.dataclass(frozen=True)
class ColumnsResult:
    """Time-aligned columns (indicator outputs, fuzzy memberships)."""

    timestamps: list[dt.datetime | None]
    columns: list[ValueColumn]
    indicator_id: str = ""
    warmup_bars: int = 0

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ColumnsResult:
        cols = d.get("outputs") if "outputs" in d else d.get("columns")
        return cls(
            [_ts(t) for t in d.get("timestamps") or []],
            [ValueColumn.from_json(c) for c in cols or []],
            d.get("indicatorId", ""),
            _int(d.get("warmupBars")),
        )


@dataclasses.dataclass(frozen=True)
class MembershipDegrees:
    name: str
    degrees: list[float]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MembershipDegrees:
        return cls(d.get("name", ""), [_float(v) for v in d.get("degrees") or []])


@dataclasses.dataclass(frozen=True)
class StrategySummary:
    strategy_id: str
    name: str
    description: str
    version: str
    symbols: list[str]
    timeframes: list[str]
    valid: bool
    errors: list[dict[str, Any]]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StrategySummary:
        return cls(
            d.get("strategyId", ""),
            d.get("name", ""),
            d.get("description", ""),
            d.get("version", ""),
            list(d.get("symbols") or []),
            list(d.get("timeframes") or []),
            bool(d.get("valid")),
            list(d.get("errors") or []),
        )


@dataclasses.dataclass(frozen=True)
class Backtest:
    """A stored (or running) backtest. ``metrics``, ``gross_metrics`` and ``buy_and_hold`` are
    PerformanceMetrics objects as JSON (``totalReturnPct``, ``sharpeRatio``, ``formulas``...);
    ``model_metrics`` are the model's test figures from training with its baselines
    (``majority_accuracy``, ``logistic_regression_accuracy``, ...)."""

    backtest_id: str
    strategy_id: str
    state: str
    progress_pct: float
    symbol: str
    timeframe: str
    metrics: dict[str, Any]
    error: str
    model: str = ""
    bars: int = 0
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    gross_metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    buy_and_hold: dict[str, Any] = dataclasses.field(default_factory=dict)
    model_metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    signal_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    settings: dict[str, str] = dataclasses.field(default_factory=dict)
    warmup_bars: int = 0
    walk_forward_id: str = ""
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Backtest:
        return cls(
            d.get("backtestId", ""),
            d.get("strategyId", ""),
            d.get("state", ""),
            _float(d.get("progressPct")),
            d.get("symbol", ""),
            d.get("timeframe", ""),
            d.get("metrics") or {},
            d.get("error", ""),
            model=d.get("model", ""),
            bars=_int(d.get("bars")),
            start=_ts(d.get("start")),
            end=_ts(d.get("end")),
            gross_metrics=d.get("grossMetrics") or {},
            buy_and_hold=d.get("buyAndHold") or {},
            model_metrics={k: _float(v) for k, v in (d.get("modelMetrics") or {}).items()},
            signal_counts={k: _int(v) for k, v in (d.get("signalCounts") or {}).items()},
            settings=dict(d.get("settings") or {}),
            warmup_bars=_int(d.get("warmupBars")),
            walk_forward_id=d.get("walkForwardId", ""),
            created_at=_ts(d.get("createdAt")),
            finished_at=_ts(d.get("finishedAt")),
        )


@dataclasses.dataclass(frozen=True)
class BacktestProgress:
    """Where a running backtest stands (``stage``: warming_up, running, saving, done)."""

    stage: str
    percent: float
    bars: int
    equity: float
    trades: int
    last_bar: dt.datetime | None
    elapsed_seconds: float
    bars_per_second: float
    position_units: float

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> BacktestProgress:
        d = d or {}
        return cls(
            d.get("stage", ""),
            _float(d.get("percent")),
            _int(d.get("bars")),
            _float(d.get("equity")),
            _int(d.get("trades")),
            _ts(d.get("lastBar")),
            _float(d.get("elapsedSeconds")),
            _float(d.get("barsPerSecond")),
            _float(d.get("positionUnits")),
        )


@dataclasses.dataclass(frozen=True)
class BacktestUpdate:
    """One message of a running backtest; the last has ``done`` and the stored result."""

    backtest: Backtest
    progress: BacktestProgress

    @property
    def done(self) -> bool:
        return self.progress.stage == "done"

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BacktestUpdate:
        return cls(
            Backtest.from_json(d.get("backtest") or {}),
            BacktestProgress.from_json(d.get("progress")),
        )


@dataclasses.dataclass(frozen=True)
class DecisionTrace:
    """What the model saw (``features``, in its order) and said at a decision's bar."""

    bar: int
    timestamp: dt.datetime | None
    signal: str
    probabilities: dict[str, float]
    confidence: float
    features: dict[str, float]

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> DecisionTrace | None:
        if not d:
            return None
        probs = d.get("probabilities") or {}
        return cls(
            _int(d.get("bar")),
            _ts(d.get("timestamp")),
            d.get("signal", ""),
            {k: _float(probs.get(k)) for k in ("buy", "hold", "sell")},
            _float(d.get("confidence")),
            {f.get("name", ""): _float(f.get("value")) for f in d.get("features") or []},
        )


@dataclasses.dataclass(frozen=True)
class Trade:
    side: str
    entry_time: dt.datetime | None
    exit_time: dt.datetime | None
    entry_price: float
    exit_price: float
    quantity: float
    pnl: float
    return_pct: float
    exit_reason: str = ""
    entry_bar: int = 0
    exit_bar: int = 0
    gross_pnl: float = 0.0
    commission: float = 0.0
    spread_cost: float = 0.0
    slippage_cost: float = 0.0
    entry_probabilities: dict[str, float] = dataclasses.field(default_factory=dict)
    exit_probabilities: dict[str, float] = dataclasses.field(default_factory=dict)
    entry_decision: DecisionTrace | None = None
    exit_decision: DecisionTrace | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Trade:
        def probs(key: str) -> dict[str, float]:
            raw = d.get(key) or {}
            return {k: _float(raw.get(k)) for k in ("buy", "hold", "sell")} if raw else {}

        return cls(
            d.get("side", ""),
            _ts(d.get("entryTime")),
            _ts(d.get("exitTime")),
            _float(d.get("entryPrice")),
            _float(d.get("exitPrice")),
            _float(d.get("quantity")),
            _float(d.get("pnl")),
            _float(d.get("returnPct")),
            exit_reason=d.get("exitReason", ""),
            entry_bar=_int(d.get("entryBar")),
            exit_bar=_int(d.get("exitBar")),
            gross_pnl=_float(d.get("grossPnl")),
            commission=_float(d.get("commission")),
            spread_cost=_float(d.get("spreadCost")),
            slippage_cost=_float(d.get("slippageCost")),
            entry_probabilities=probs("entryProbabilities"),
            exit_probabilities=probs("exitProbabilities"),
            entry_decision=DecisionTrace.from_json(d.get("entryDecision")),
            exit_decision=DecisionTrace.from_json(d.get("exitDecision")),
        )


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a list; ``next_page_token`` is empty on the last."""

    items: list[Any]
    next_page_token: str
    total_size: int


@dataclasses.dataclass(frozen=True)
class StrategyDetail:
    """A stored strategy: its summary, file text, resolved features and warm-up."""

    strategy: StrategySummary
    yaml: str
    features: list[str]
    feature_specs: list[dict[str, Any]]
    warmup_bars: int
    label_horizon_bars: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StrategyDetail:
        return cls(
            StrategySummary.from_json(d.get("strategy") or {}),
            d.get("yaml", ""),
            list(d.get("features") or []),
            list(d.get("featureSpecs") or []),
            _int(d.get("warmupBars")),
            _int(d.get("labelHorizonBars")),
        )


@dataclasses.dataclass(frozen=True)
class StrategyValidation:
    """Every problem of every section (``errors``: code, message, field, suggestions)."""

    valid: bool
    errors: list[dict[str, Any]]
    features: list[str]
    feature_specs: list[dict[str, Any]]
    warmup_bars: int
    label_horizon_bars: int
    sections: list[str]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StrategyValidation:
        return cls(
            bool(d.get("valid")),
            list(d.get("errors") or []),
            list(d.get("features") or []),
            list(d.get("featureSpecs") or []),
            _int(d.get("warmupBars")),
            _int(d.get("labelHorizonBars")),
            list(d.get("sections") or []),
        )


@dataclasses.dataclass(frozen=True)
class WalkForwardWindow:
    index: int
    train_start: dt.datetime | None
    train_end: dt.datetime | None
    test_start: dt.datetime | None
    test_end: dt.datetime | None
    model: str
    backtest: Backtest

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> WalkForwardWindow:
        return cls(
            _int(d.get("index")),
            _ts(d.get("trainStart")),
            _ts(d.get("trainEnd")),
            _ts(d.get("testStart")),
            _ts(d.get("testEnd")),
            d.get("model", ""),
            Backtest.from_json(d.get("backtest") or {}),
        )


@dataclasses.dataclass(frozen=True)
class WalkForwardUpdate:
    """One message of a walk-forward; the last (``stage == "done"``) has every window and the
    aggregated out-of-sample run."""

    walk_forward_id: str
    stage: str
    window: int
    windows: int
    progress_pct: float
    message: str
    completed: list[WalkForwardWindow]
    aggregate: Backtest | None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> WalkForwardUpdate:
        aggregate = d.get("aggregate")
        return cls(
            d.get("walkForwardId", ""),
            d.get("stage", ""),
            _int(d.get("window")),
            _int(d.get("windows")),
            _float(d.get("progressPct")),
            d.get("message", ""),
            [WalkForwardWindow.from_json(w) for w in d.get("completed") or []],
            Backtest.from_json(aggregate) if aggregate else None,
        )


@dataclasses.dataclass(frozen=True)
class EquityPoint:
    timestamp: dt.datetime | None
    equity: float
    drawdown_pct: float

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EquityPoint:
        return cls(_ts(d.get("timestamp")), _float(d.get("equity")), _float(d.get("drawdownPct")))


@dataclasses.dataclass(frozen=True)
class Training:
    training_id: str
    state: str
    epoch: int
    total_epochs: int
    train_loss: float
    val_loss: float
    model_name: str
    error: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Training:
        return cls(
            d.get("trainingId", ""),
            d.get("state", ""),
            _int(d.get("epoch")),
            _int(d.get("totalEpochs")),
            _float(d.get("trainLoss")),
            _float(d.get("valLoss")),
            d.get("modelName", ""),
            d.get("error", ""),
        )


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """One stored series (GetDataInfo)."""

    instrument: Instrument
    series: SeriesInfo

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DataInfo:
        return cls(Instrument.from_json(d.get("instrument")), SeriesInfo.from_json(d.get("series")))


@dataclasses.dataclass(frozen=True)
class Gap:
    """Missing bars between two stored bars; ``kind`` is the API's enum name."""

    start: dt.datetime | None
    end: dt.datetime | None
    kind: str
    missing_bars: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Gap:
        return cls(
            _ts(d.get("start")),
            _ts(d.get("end")),
            d.get("kind", "GAP_KIND_UNSPECIFIED"),
            _int(d.get("missingBars")),
        )


@dataclasses.dataclass(frozen=True)
class GapReport:
    """AnalyzeGaps: the listed gaps and a summary over all of them."""

    gaps: list[Gap]
    bar_count: int
    gap_count: int
    by_kind: dict[str, int]
    coverage_pct: float

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GapReport:
        summary = d.get("summary") or {}
        return cls(
            [Gap.from_json(g) for g in d.get("gaps") or []],
            _int(summary.get("barCount")),
            _int(summary.get("gapCount")),
            {
                c.get("kind", "GAP_KIND_UNSPECIFIED"): _int(c.get("count"))
                for c in summary.get("byKind") or []
            },
            _float(summary.get("coveragePct")),
        )


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """ImportBars: bars stored, the quality report, and the series afterwards."""

    imported: int
    quality: dict[str, Any]
    series: SeriesInfo

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ImportResult:
        return cls(
            _int(d.get("imported")), d.get("quality") or {}, SeriesInfo.from_json(d.get("series"))
        )


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """ExportBars: the range as CSV text (ISO-8601 UTC timestamps)."""

    csv_content: str
    bar_count: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExportResult:
        return cls(d.get("csvContent", ""), _int(d.get("barCount")))


@dataclasses.dataclass(frozen=True)
class MembershipFunction:
    name: str
    type: str
    parameters: list[float]
    shoulder: str = ""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MembershipFunction:
        return cls(
            d.get("name", ""),
            d.get("type", ""),
            [_float(p) for p in d.get("parameters") or []],
            d.get("shoulder", ""),
        )


@dataclasses.dataclass(frozen=True)
class FuzzySet:
    """A fuzzy set of a strategy: the indicator column it reads and its memberships."""

    id: str
    indicator: str
    memberships: list[MembershipFunction]
    strategy: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FuzzySet:
        return cls(
            d.get("id", ""),
            d.get("indicator", ""),
            [MembershipFunction.from_json(m) for m in d.get("memberships") or []],
            d.get("strategy", ""),
        )


@dataclasses.dataclass(frozen=True)
class SymbolFuzzySets:
    """GetFuzzySets: the sets of the strategies that trade a symbol."""

    symbol: str
    fuzzy_sets: list[FuzzySet]
    strategies: list[str]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SymbolFuzzySets:
        return cls(
            d.get("symbol", ""),
            [FuzzySet.from_json(s) for s in d.get("fuzzySets") or []],
            list(d.get("strategies") or []),
        )


@dataclasses.dataclass(frozen=True)
class InferResult:
    """Infer: the crisp output and each rule's firing strength."""

    output: float
    activations: dict[str, float]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> InferResult:
        return cls(
            _float(d.get("output")),
            {a.get("rule", ""): _float(a.get("strength")) for a in d.get("activations") or []},
        )
