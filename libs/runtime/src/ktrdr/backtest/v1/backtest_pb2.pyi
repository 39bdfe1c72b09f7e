import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ktrdr.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BacktestState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKTEST_STATE_UNSPECIFIED: _ClassVar[BacktestState]
    BACKTEST_STATE_RUNNING: _ClassVar[BacktestState]
    BACKTEST_STATE_SUCCEEDED: _ClassVar[BacktestState]
    BACKTEST_STATE_FAILED: _ClassVar[BacktestState]

class FillTiming(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILL_TIMING_UNSPECIFIED: _ClassVar[FillTiming]
    FILL_TIMING_NEXT_OPEN: _ClassVar[FillTiming]
    FILL_TIMING_THIS_CLOSE: _ClassVar[FillTiming]

class EndOfData(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    END_OF_DATA_UNSPECIFIED: _ClassVar[EndOfData]
    END_OF_DATA_LAST_CLOSE: _ClassVar[EndOfData]
    END_OF_DATA_LAST_OPEN: _ClassVar[EndOfData]

class WalkForwardMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WALK_FORWARD_MODE_UNSPECIFIED: _ClassVar[WalkForwardMode]
    WALK_FORWARD_MODE_ROLLING: _ClassVar[WalkForwardMode]
    WALK_FORWARD_MODE_EXPANDING: _ClassVar[WalkForwardMode]

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_LONG: _ClassVar[Side]
    SIDE_SHORT: _ClassVar[Side]

class ExitReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXIT_REASON_UNSPECIFIED: _ClassVar[ExitReason]
    EXIT_REASON_SIGNAL: _ClassVar[ExitReason]
    EXIT_REASON_STOP: _ClassVar[ExitReason]
    EXIT_REASON_TARGET: _ClassVar[ExitReason]
    EXIT_REASON_END: _ClassVar[ExitReason]
    EXIT_REASON_RUIN: _ClassVar[ExitReason]
BACKTEST_STATE_UNSPECIFIED: BacktestState
BACKTEST_STATE_RUNNING: BacktestState
BACKTEST_STATE_SUCCEEDED: BacktestState
BACKTEST_STATE_FAILED: BacktestState
FILL_TIMING_UNSPECIFIED: FillTiming
FILL_TIMING_NEXT_OPEN: FillTiming
FILL_TIMING_THIS_CLOSE: FillTiming
END_OF_DATA_UNSPECIFIED: EndOfData
END_OF_DATA_LAST_CLOSE: EndOfData
END_OF_DATA_LAST_OPEN: EndOfData
WALK_FORWARD_MODE_UNSPECIFIED: WalkForwardMode
WALK_FORWARD_MODE_ROLLING: WalkForwardMode
WALK_FORWARD_MODE_EXPANDING: WalkForwardMode
SIDE_UNSPECIFIED: Side
SIDE_LONG: Side
SIDE_SHORT: Side
EXIT_REASON_UNSPECIFIED: ExitReason
EXIT_REASON_SIGNAL: ExitReason
EXIT_REASON_STOP: ExitReason
EXIT_REASON_TARGET: ExitReason
EXIT_REASON_END: ExitReason
EXIT_REASON_RUIN: ExitReason

class StrategySummary(_message.Message):
    __slots__ = ("strategy_id", "name", "description", "version", "symbols", "timeframes", "valid", "errors")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAMES_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    name: str
    description: str
    version: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    timeframes: _containers.RepeatedScalarFieldContainer[str]
    valid: bool
    errors: _containers.RepeatedCompositeFieldContainer[_common_pb2.ErrorDetail]
    def __init__(self, strategy_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., version: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ..., timeframes: _Optional[_Iterable[str]] = ..., valid: _Optional[bool] = ..., errors: _Optional[_Iterable[_Union[_common_pb2.ErrorDetail, _Mapping]]] = ...) -> None: ...

class ListStrategiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListStrategiesResponse(_message.Message):
    __slots__ = ("strategies",)
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    strategies: _containers.RepeatedCompositeFieldContainer[StrategySummary]
    def __init__(self, strategies: _Optional[_Iterable[_Union[StrategySummary, _Mapping]]] = ...) -> None: ...

class GetStrategyRequest(_message.Message):
    __slots__ = ("strategy_id",)
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    def __init__(self, strategy_id: _Optional[str] = ...) -> None: ...

class GetStrategyResponse(_message.Message):
    __slots__ = ("strategy", "yaml", "features", "feature_specs", "warmup_bars", "label_horizon_bars")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    YAML_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SPECS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_BARS_FIELD_NUMBER: _ClassVar[int]
    LABEL_HORIZON_BARS_FIELD_NUMBER: _ClassVar[int]
    strategy: StrategySummary
    yaml: str
    features: _containers.RepeatedScalarFieldContainer[str]
    feature_specs: _containers.RepeatedCompositeFieldContainer[StrategyFeature]
    warmup_bars: int
    label_horizon_bars: int
    def __init__(self, strategy: _Optional[_Union[StrategySummary, _Mapping]] = ..., yaml: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., feature_specs: _Optional[_Iterable[_Union[StrategyFeature, _Mapping]]] = ..., warmup_bars: _Optional[int] = ..., label_horizon_bars: _Optional[int] = ...) -> None: ...

class ValidateStrategyRequest(_message.Message):
    __slots__ = ("strategy_id", "yaml")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    YAML_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    yaml: str
    def __init__(self, strategy_id: _Optional[str] = ..., yaml: _Optional[str] = ...) -> None: ...

class StrategyFeature(_message.Message):
    __slots__ = ("name", "timeframe", "kind", "fuzzy_set", "membership", "indicator", "normalization")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FUZZY_SET_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    NORMALIZATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    timeframe: str
    kind: str
    fuzzy_set: str
    membership: str
    indicator: str
    normalization: str
    def __init__(self, name: _Optional[str] = ..., timeframe: _Optional[str] = ..., kind: _Optional[str] = ..., fuzzy_set: _Optional[str] = ..., membership: _Optional[str] = ..., indicator: _Optional[str] = ..., normalization: _Optional[str] = ...) -> None: ...

class ValidateStrategyResponse(_message.Message):
    __slots__ = ("valid", "errors", "features", "feature_specs", "warmup_bars", "label_horizon_bars", "sections")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SPECS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_BARS_FIELD_NUMBER: _ClassVar[int]
    LABEL_HORIZON_BARS_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    errors: _containers.RepeatedCompositeFieldContainer[_common_pb2.ErrorDetail]
    features: _containers.RepeatedScalarFieldContainer[str]
    feature_specs: _containers.RepeatedCompositeFieldContainer[StrategyFeature]
    warmup_bars: int
    label_horizon_bars: int
    sections: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, valid: _Optional[bool] = ..., errors: _Optional[_Iterable[_Union[_common_pb2.ErrorDetail, _Mapping]]] = ..., features: _Optional[_Iterable[str]] = ..., feature_specs: _Optional[_Iterable[_Union[StrategyFeature, _Mapping]]] = ..., warmup_bars: _Optional[int] = ..., label_horizon_bars: _Optional[int] = ..., sections: _Optional[_Iterable[str]] = ...) -> None: ...

class PerformanceMetrics(_message.Message):
    __slots__ = ("initial_equity", "final_equity", "total_return_pct", "annualized_return_pct", "volatility_annualized_pct", "sharpe_ratio", "sortino_ratio", "calmar_ratio", "max_drawdown_pct", "total_trades", "winning_trades", "losing_trades", "win_rate_pct", "profit_factor", "avg_trade_return_pct", "exposure_pct", "commissions_paid", "basis", "max_drawdown", "max_drawdown_duration_bars", "max_drawdown_duration_seconds", "avg_win", "avg_loss", "largest_win", "largest_loss", "avg_trade_pnl", "avg_holding_bars", "avg_holding_seconds", "avg_winning_holding_bars", "avg_losing_holding_bars", "max_holding_bars", "spread_paid", "slippage_paid", "total_costs", "periods_per_year", "periods_per_year_source", "risk_free_rate", "formulas")
    class FormulasEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INITIAL_EQUITY_FIELD_NUMBER: _ClassVar[int]
    FINAL_EQUITY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    ANNUALIZED_RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_ANNUALIZED_PCT_FIELD_NUMBER: _ClassVar[int]
    SHARPE_RATIO_FIELD_NUMBER: _ClassVar[int]
    SORTINO_RATIO_FIELD_NUMBER: _ClassVar[int]
    CALMAR_RATIO_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_PCT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TRADES_FIELD_NUMBER: _ClassVar[int]
    WINNING_TRADES_FIELD_NUMBER: _ClassVar[int]
    LOSING_TRADES_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_PCT_FIELD_NUMBER: _ClassVar[int]
    PROFIT_FACTOR_FIELD_NUMBER: _ClassVar[int]
    AVG_TRADE_RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_PCT_FIELD_NUMBER: _ClassVar[int]
    COMMISSIONS_PAID_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_DURATION_BARS_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AVG_WIN_FIELD_NUMBER: _ClassVar[int]
    AVG_LOSS_FIELD_NUMBER: _ClassVar[int]
    LARGEST_WIN_FIELD_NUMBER: _ClassVar[int]
    LARGEST_LOSS_FIELD_NUMBER: _ClassVar[int]
    AVG_TRADE_PNL_FIELD_NUMBER: _ClassVar[int]
    AVG_HOLDING_BARS_FIELD_NUMBER: _ClassVar[int]
    AVG_HOLDING_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AVG_WINNING_HOLDING_BARS_FIELD_NUMBER: _ClassVar[int]
    AVG_LOSING_HOLDING_BARS_FIELD_NUMBER: _ClassVar[int]
    MAX_HOLDING_BARS_FIELD_NUMBER: _ClassVar[int]
    SPREAD_PAID_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_PAID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COSTS_FIELD_NUMBER: _ClassVar[int]
    PERIODS_PER_YEAR_FIELD_NUMBER: _ClassVar[int]
    PERIODS_PER_YEAR_SOURCE_FIELD_NUMBER: _ClassVar[int]
    RISK_FREE_RATE_FIELD_NUMBER: _ClassVar[int]
    FORMULAS_FIELD_NUMBER: _ClassVar[int]
    initial_equity: float
    final_equity: float
    total_return_pct: float
    annualized_return_pct: float
    volatility_annualized_pct: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown_pct: float
    total_trades: int
    winning_trades: int
    losing_trades: int
    win_rate_pct: float
    profit_factor: float
    avg_trade_return_pct: float
    exposure_pct: float
    commissions_paid: float
    basis: str
    max_drawdown: float
    max_drawdown_duration_bars: int
    max_drawdown_duration_seconds: float
    avg_win: float
    avg_loss: float
    largest_win: float
    largest_loss: float
    avg_trade_pnl: float
    avg_holding_bars: float
    avg_holding_seconds: float
    avg_winning_holding_bars: float
    avg_losing_holding_bars: float
    max_holding_bars: int
    spread_paid: float
    slippage_paid: float
    total_costs: float
    periods_per_year: float
    periods_per_year_source: str
    risk_free_rate: float
    formulas: _containers.ScalarMap[str, str]
    def __init__(self, initial_equity: _Optional[float] = ..., final_equity: _Optional[float] = ..., total_return_pct: _Optional[float] = ..., annualized_return_pct: _Optional[float] = ..., volatility_annualized_pct: _Optional[float] = ..., sharpe_ratio: _Optional[float] = ..., sortino_ratio: _Optional[float] = ..., calmar_ratio: _Optional[float] = ..., max_drawdown_pct: _Optional[float] = ..., total_trades: _Optional[int] = ..., winning_trades: _Optional[int] = ..., losing_trades: _Optional[int] = ..., win_rate_pct: _Optional[float] = ..., profit_factor: _Optional[float] = ..., avg_trade_return_pct: _Optional[float] = ..., exposure_pct: _Optional[float] = ..., commissions_paid: _Optional[float] = ..., basis: _Optional[str] = ..., max_drawdown: _Optional[float] = ..., max_drawdown_duration_bars: _Optional[int] = ..., max_drawdown_duration_seconds: _Optional[float] = ..., avg_win: _Optional[float] = ..., avg_loss: _Optional[float] = ..., largest_win: _Optional[float] = ..., largest_loss: _Optional[float] = ..., avg_trade_pnl: _Optional[float] = ..., avg_holding_bars: _Optional[float] = ..., avg_holding_seconds: _Optional[float] = ..., avg_winning_holding_bars: _Optional[float] = ..., avg_losing_holding_bars: _Optional[float] = ..., max_holding_bars: _Optional[int] = ..., spread_paid: _Optional[float] = ..., slippage_paid: _Optional[float] = ..., total_costs: _Optional[float] = ..., periods_per_year: _Optional[float] = ..., periods_per_year_source: _Optional[str] = ..., risk_free_rate: _Optional[float] = ..., formulas: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Backtest(_message.Message):
    __slots__ = ("backtest_id", "strategy_id", "state", "progress_pct", "symbol", "timeframe", "model", "start", "end", "metrics", "error", "created_at", "gross_metrics", "finished_at", "bars", "signal_counts", "settings", "buy_and_hold", "model_metrics", "warmup_bars", "walk_forward_id", "majority_class")
    class SignalCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class SettingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ModelMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BACKTEST_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PCT_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    GROSS_METRICS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    BARS_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_COUNTS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    BUY_AND_HOLD_FIELD_NUMBER: _ClassVar[int]
    MODEL_METRICS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_BARS_FIELD_NUMBER: _ClassVar[int]
    WALK_FORWARD_ID_FIELD_NUMBER: _ClassVar[int]
    MAJORITY_CLASS_FIELD_NUMBER: _ClassVar[int]
    backtest_id: str
    strategy_id: str
    state: BacktestState
    progress_pct: float
    symbol: str
    timeframe: str
    model: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    metrics: PerformanceMetrics
    error: str
    created_at: _timestamp_pb2.Timestamp
    gross_metrics: PerformanceMetrics
    finished_at: _timestamp_pb2.Timestamp
    bars: int
    signal_counts: _containers.ScalarMap[str, int]
    settings: _containers.ScalarMap[str, str]
    buy_and_hold: PerformanceMetrics
    model_metrics: _containers.ScalarMap[str, float]
    warmup_bars: int
    walk_forward_id: str
    majority_class: PerformanceMetrics
    def __init__(self, backtest_id: _Optional[str] = ..., strategy_id: _Optional[str] = ..., state: _Optional[_Union[BacktestState, str]] = ..., progress_pct: _Optional[float] = ..., symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., model: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metrics: _Optional[_Union[PerformanceMetrics, _Mapping]] = ..., error: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., gross_metrics: _Optional[_Union[PerformanceMetrics, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bars: _Optional[int] = ..., signal_counts: _Optional[_Mapping[str, int]] = ..., settings: _Optional[_Mapping[str, str]] = ..., buy_and_hold: _Optional[_Union[PerformanceMetrics, _Mapping]] = ..., model_metrics: _Optional[_Mapping[str, float]] = ..., warmup_bars: _Optional[int] = ..., walk_forward_id: _Optional[str] = ..., majority_class: _Optional[_Union[PerformanceMetrics, _Mapping]] = ...) -> None: ...

class FixedPlusRateCommission(_message.Message):
    __slots__ = ("fixed", "rate")
    FIXED_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    fixed: float
    rate: float
    def __init__(self, fixed: _Optional[float] = ..., rate: _Optional[float] = ...) -> None: ...

class PerShareCommission(_message.Message):
    __slots__ = ("per_share", "minimum", "maximum_rate")
    PER_SHARE_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_RATE_FIELD_NUMBER: _ClassVar[int]
    per_share: float
    minimum: float
    maximum_rate: float
    def __init__(self, per_share: _Optional[float] = ..., minimum: _Optional[float] = ..., maximum_rate: _Optional[float] = ...) -> None: ...

class CommissionSettings(_message.Message):
    __slots__ = ("rate", "fixed_plus_rate", "per_share")
    RATE_FIELD_NUMBER: _ClassVar[int]
    FIXED_PLUS_RATE_FIELD_NUMBER: _ClassVar[int]
    PER_SHARE_FIELD_NUMBER: _ClassVar[int]
    rate: float
    fixed_plus_rate: FixedPlusRateCommission
    per_share: PerShareCommission
    def __init__(self, rate: _Optional[float] = ..., fixed_plus_rate: _Optional[_Union[FixedPlusRateCommission, _Mapping]] = ..., per_share: _Optional[_Union[PerShareCommission, _Mapping]] = ...) -> None: ...

class SizingSettings(_message.Message):
    __slots__ = ("fraction_of_equity", "fixed_units", "fractional_units")
    FRACTION_OF_EQUITY_FIELD_NUMBER: _ClassVar[int]
    FIXED_UNITS_FIELD_NUMBER: _ClassVar[int]
    FRACTIONAL_UNITS_FIELD_NUMBER: _ClassVar[int]
    fraction_of_equity: float
    fixed_units: float
    fractional_units: bool
    def __init__(self, fraction_of_equity: _Optional[float] = ..., fixed_units: _Optional[float] = ..., fractional_units: _Optional[bool] = ...) -> None: ...

class BacktestProgress(_message.Message):
    __slots__ = ("percent", "bars", "equity", "trades", "last_bar", "stage", "elapsed_seconds", "bars_per_second", "position_units")
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    BARS_FIELD_NUMBER: _ClassVar[int]
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    LAST_BAR_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BARS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    POSITION_UNITS_FIELD_NUMBER: _ClassVar[int]
    percent: float
    bars: int
    equity: float
    trades: int
    last_bar: _timestamp_pb2.Timestamp
    stage: str
    elapsed_seconds: float
    bars_per_second: float
    position_units: float
    def __init__(self, percent: _Optional[float] = ..., bars: _Optional[int] = ..., equity: _Optional[float] = ..., trades: _Optional[int] = ..., last_bar: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stage: _Optional[str] = ..., elapsed_seconds: _Optional[float] = ..., bars_per_second: _Optional[float] = ..., position_units: _Optional[float] = ...) -> None: ...

class RunBacktestRequest(_message.Message):
    __slots__ = ("strategy_id", "symbol", "timeframe", "start_date", "end_date", "model", "initial_capital", "commission", "slippage", "fill_timing", "commission_settings", "spread_bps", "sizing", "end_of_data", "batch_size", "risk_free_rate", "confidence_threshold", "slippage_bps")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INITIAL_CAPITAL_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_FIELD_NUMBER: _ClassVar[int]
    FILL_TIMING_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    SPREAD_BPS_FIELD_NUMBER: _ClassVar[int]
    SIZING_FIELD_NUMBER: _ClassVar[int]
    END_OF_DATA_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    RISK_FREE_RATE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_BPS_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    symbol: str
    timeframe: str
    start_date: str
    end_date: str
    model: str
    initial_capital: float
    commission: float
    slippage: float
    fill_timing: FillTiming
    commission_settings: CommissionSettings
    spread_bps: float
    sizing: SizingSettings
    end_of_data: EndOfData
    batch_size: int
    risk_free_rate: float
    confidence_threshold: float
    slippage_bps: float
    def __init__(self, strategy_id: _Optional[str] = ..., symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., model: _Optional[str] = ..., initial_capital: _Optional[float] = ..., commission: _Optional[float] = ..., slippage: _Optional[float] = ..., fill_timing: _Optional[_Union[FillTiming, str]] = ..., commission_settings: _Optional[_Union[CommissionSettings, _Mapping]] = ..., spread_bps: _Optional[float] = ..., sizing: _Optional[_Union[SizingSettings, _Mapping]] = ..., end_of_data: _Optional[_Union[EndOfData, str]] = ..., batch_size: _Optional[int] = ..., risk_free_rate: _Optional[float] = ..., confidence_threshold: _Optional[float] = ..., slippage_bps: _Optional[float] = ...) -> None: ...

class RunBacktestResponse(_message.Message):
    __slots__ = ("backtest", "progress")
    BACKTEST_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    backtest: Backtest
    progress: BacktestProgress
    def __init__(self, backtest: _Optional[_Union[Backtest, _Mapping]] = ..., progress: _Optional[_Union[BacktestProgress, _Mapping]] = ...) -> None: ...

class RunWalkForwardRequest(_message.Message):
    __slots__ = ("strategy_id", "symbol", "start_date", "end_date", "mode", "train_bars", "test_bars", "step_bars", "purge_bars", "embargo_bars", "training_overrides", "backtest", "max_windows")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TRAIN_BARS_FIELD_NUMBER: _ClassVar[int]
    TEST_BARS_FIELD_NUMBER: _ClassVar[int]
    STEP_BARS_FIELD_NUMBER: _ClassVar[int]
    PURGE_BARS_FIELD_NUMBER: _ClassVar[int]
    EMBARGO_BARS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    BACKTEST_FIELD_NUMBER: _ClassVar[int]
    MAX_WINDOWS_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    symbol: str
    start_date: str
    end_date: str
    mode: WalkForwardMode
    train_bars: int
    test_bars: int
    step_bars: int
    purge_bars: int
    embargo_bars: int
    training_overrides: _struct_pb2.Struct
    backtest: RunBacktestRequest
    max_windows: int
    def __init__(self, strategy_id: _Optional[str] = ..., symbol: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., mode: _Optional[_Union[WalkForwardMode, str]] = ..., train_bars: _Optional[int] = ..., test_bars: _Optional[int] = ..., step_bars: _Optional[int] = ..., purge_bars: _Optional[int] = ..., embargo_bars: _Optional[int] = ..., training_overrides: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., backtest: _Optional[_Union[RunBacktestRequest, _Mapping]] = ..., max_windows: _Optional[int] = ...) -> None: ...

class WalkForwardWindow(_message.Message):
    __slots__ = ("index", "train_start", "train_end", "test_start", "test_end", "model", "backtest")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TRAIN_START_FIELD_NUMBER: _ClassVar[int]
    TRAIN_END_FIELD_NUMBER: _ClassVar[int]
    TEST_START_FIELD_NUMBER: _ClassVar[int]
    TEST_END_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BACKTEST_FIELD_NUMBER: _ClassVar[int]
    index: int
    train_start: _timestamp_pb2.Timestamp
    train_end: _timestamp_pb2.Timestamp
    test_start: _timestamp_pb2.Timestamp
    test_end: _timestamp_pb2.Timestamp
    model: str
    backtest: Backtest
    def __init__(self, index: _Optional[int] = ..., train_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., train_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., test_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., test_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[str] = ..., backtest: _Optional[_Union[Backtest, _Mapping]] = ...) -> None: ...

class RunWalkForwardResponse(_message.Message):
    __slots__ = ("walk_forward_id", "stage", "window", "windows", "progress_pct", "message", "completed", "aggregate")
    WALK_FORWARD_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PCT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    walk_forward_id: str
    stage: str
    window: int
    windows: int
    progress_pct: float
    message: str
    completed: _containers.RepeatedCompositeFieldContainer[WalkForwardWindow]
    aggregate: Backtest
    def __init__(self, walk_forward_id: _Optional[str] = ..., stage: _Optional[str] = ..., window: _Optional[int] = ..., windows: _Optional[int] = ..., progress_pct: _Optional[float] = ..., message: _Optional[str] = ..., completed: _Optional[_Iterable[_Union[WalkForwardWindow, _Mapping]]] = ..., aggregate: _Optional[_Union[Backtest, _Mapping]] = ...) -> None: ...

class ListBacktestsRequest(_message.Message):
    __slots__ = ("strategy_id", "page_size", "page_token")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    page_size: int
    page_token: str
    def __init__(self, strategy_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBacktestsResponse(_message.Message):
    __slots__ = ("backtests", "next_page_token", "total_size")
    BACKTESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    backtests: _containers.RepeatedCompositeFieldContainer[Backtest]
    next_page_token: str
    total_size: int
    def __init__(self, backtests: _Optional[_Iterable[_Union[Backtest, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetBacktestRequest(_message.Message):
    __slots__ = ("backtest_id",)
    BACKTEST_ID_FIELD_NUMBER: _ClassVar[int]
    backtest_id: str
    def __init__(self, backtest_id: _Optional[str] = ...) -> None: ...

class GetBacktestResponse(_message.Message):
    __slots__ = ("backtest",)
    BACKTEST_FIELD_NUMBER: _ClassVar[int]
    backtest: Backtest
    def __init__(self, backtest: _Optional[_Union[Backtest, _Mapping]] = ...) -> None: ...

class ClassProbabilities(_message.Message):
    __slots__ = ("buy", "hold", "sell")
    BUY_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    SELL_FIELD_NUMBER: _ClassVar[int]
    buy: float
    hold: float
    sell: float
    def __init__(self, buy: _Optional[float] = ..., hold: _Optional[float] = ..., sell: _Optional[float] = ...) -> None: ...

class FeatureValue(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class DecisionTrace(_message.Message):
    __slots__ = ("bar", "timestamp", "signal", "probabilities", "confidence", "features")
    BAR_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    bar: int
    timestamp: _timestamp_pb2.Timestamp
    signal: str
    probabilities: ClassProbabilities
    confidence: float
    features: _containers.RepeatedCompositeFieldContainer[FeatureValue]
    def __init__(self, bar: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signal: _Optional[str] = ..., probabilities: _Optional[_Union[ClassProbabilities, _Mapping]] = ..., confidence: _Optional[float] = ..., features: _Optional[_Iterable[_Union[FeatureValue, _Mapping]]] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("side", "entry_time", "exit_time", "entry_price", "exit_price", "quantity", "pnl", "return_pct", "commission", "exit_reason", "entry_quote", "exit_quote", "spread_cost", "slippage_cost", "gross_pnl", "entry_bar", "exit_bar", "stop_price", "target_price", "entry_probabilities", "exit_probabilities", "entry_decision", "exit_decision")
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_TIME_FIELD_NUMBER: _ClassVar[int]
    EXIT_TIME_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PRICE_FIELD_NUMBER: _ClassVar[int]
    EXIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PNL_FIELD_NUMBER: _ClassVar[int]
    RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    EXIT_REASON_FIELD_NUMBER: _ClassVar[int]
    ENTRY_QUOTE_FIELD_NUMBER: _ClassVar[int]
    EXIT_QUOTE_FIELD_NUMBER: _ClassVar[int]
    SPREAD_COST_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_COST_FIELD_NUMBER: _ClassVar[int]
    GROSS_PNL_FIELD_NUMBER: _ClassVar[int]
    ENTRY_BAR_FIELD_NUMBER: _ClassVar[int]
    EXIT_BAR_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    TARGET_PRICE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    EXIT_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    ENTRY_DECISION_FIELD_NUMBER: _ClassVar[int]
    EXIT_DECISION_FIELD_NUMBER: _ClassVar[int]
    side: Side
    entry_time: _timestamp_pb2.Timestamp
    exit_time: _timestamp_pb2.Timestamp
    entry_price: float
    exit_price: float
    quantity: float
    pnl: float
    return_pct: float
    commission: float
    exit_reason: ExitReason
    entry_quote: float
    exit_quote: float
    spread_cost: float
    slippage_cost: float
    gross_pnl: float
    entry_bar: int
    exit_bar: int
    stop_price: float
    target_price: float
    entry_probabilities: ClassProbabilities
    exit_probabilities: ClassProbabilities
    entry_decision: DecisionTrace
    exit_decision: DecisionTrace
    def __init__(self, side: _Optional[_Union[Side, str]] = ..., entry_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entry_price: _Optional[float] = ..., exit_price: _Optional[float] = ..., quantity: _Optional[float] = ..., pnl: _Optional[float] = ..., return_pct: _Optional[float] = ..., commission: _Optional[float] = ..., exit_reason: _Optional[_Union[ExitReason, str]] = ..., entry_quote: _Optional[float] = ..., exit_quote: _Optional[float] = ..., spread_cost: _Optional[float] = ..., slippage_cost: _Optional[float] = ..., gross_pnl: _Optional[float] = ..., entry_bar: _Optional[int] = ..., exit_bar: _Optional[int] = ..., stop_price: _Optional[float] = ..., target_price: _Optional[float] = ..., entry_probabilities: _Optional[_Union[ClassProbabilities, _Mapping]] = ..., exit_probabilities: _Optional[_Union[ClassProbabilities, _Mapping]] = ..., entry_decision: _Optional[_Union[DecisionTrace, _Mapping]] = ..., exit_decision: _Optional[_Union[DecisionTrace, _Mapping]] = ...) -> None: ...

class ListTradesRequest(_message.Message):
    __slots__ = ("backtest_id", "page_size", "page_token")
    BACKTEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backtest_id: str
    page_size: int
    page_token: str
    def __init__(self, backtest_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTradesResponse(_message.Message):
    __slots__ = ("trades", "next_page_token", "total_size")
    TRADES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    trades: _containers.RepeatedCompositeFieldContainer[Trade]
    next_page_token: str
    total_size: int
    def __init__(self, trades: _Optional[_Iterable[_Union[Trade, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class EquityPoint(_message.Message):
    __slots__ = ("timestamp", "equity", "drawdown_pct", "gross_equity", "bar")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    DRAWDOWN_PCT_FIELD_NUMBER: _ClassVar[int]
    GROSS_EQUITY_FIELD_NUMBER: _ClassVar[int]
    BAR_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    equity: float
    drawdown_pct: float
    gross_equity: float
    bar: int
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., equity: _Optional[float] = ..., drawdown_pct: _Optional[float] = ..., gross_equity: _Optional[float] = ..., bar: _Optional[int] = ...) -> None: ...

class GetEquityCurveRequest(_message.Message):
    __slots__ = ("backtest_id", "page_size", "page_token")
    BACKTEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backtest_id: str
    page_size: int
    page_token: str
    def __init__(self, backtest_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetEquityCurveResponse(_message.Message):
    __slots__ = ("points", "next_page_token", "total_size")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[EquityPoint]
    next_page_token: str
    total_size: int
    def __init__(self, points: _Optional[_Iterable[_Union[EquityPoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetStrategyPerformanceRequest(_message.Message):
    __slots__ = ("strategy_id",)
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    def __init__(self, strategy_id: _Optional[str] = ...) -> None: ...

class GetStrategyPerformanceResponse(_message.Message):
    __slots__ = ("strategy_id", "backtests", "latest", "runs", "succeeded_runs", "failed_runs", "best_total_return_pct", "worst_total_return_pct", "mean_total_return_pct", "mean_sharpe_ratio")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    BACKTESTS_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_RUNS_FIELD_NUMBER: _ClassVar[int]
    FAILED_RUNS_FIELD_NUMBER: _ClassVar[int]
    BEST_TOTAL_RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    WORST_TOTAL_RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    MEAN_TOTAL_RETURN_PCT_FIELD_NUMBER: _ClassVar[int]
    MEAN_SHARPE_RATIO_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    backtests: _containers.RepeatedCompositeFieldContainer[Backtest]
    latest: PerformanceMetrics
    runs: int
    succeeded_runs: int
    failed_runs: int
    best_total_return_pct: float
    worst_total_return_pct: float
    mean_total_return_pct: float
    mean_sharpe_ratio: float
    def __init__(self, strategy_id: _Optional[str] = ..., backtests: _Optional[_Iterable[_Union[Backtest, _Mapping]]] = ..., latest: _Optional[_Union[PerformanceMetrics, _Mapping]] = ..., runs: _Optional[int] = ..., succeeded_runs: _Optional[int] = ..., failed_runs: _Optional[int] = ..., best_total_return_pct: _Optional[float] = ..., worst_total_return_pct: _Optional[float] = ..., mean_total_return_pct: _Optional[float] = ..., mean_sharpe_ratio: _Optional[float] = ...) -> None: ...
