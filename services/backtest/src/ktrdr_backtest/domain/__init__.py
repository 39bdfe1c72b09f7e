"""The backtest domain: decisions, the engine, metrics (pure Python and NumPy; no grpc).

Run a backtest::

    from ktrdr_backtest.domain import (
        BacktestEngine, DecisionConfig, EngineConfig, ModelOutput, compute_metrics,
    )
    from ktrdr_core.bars import Bars

    engine = BacktestEngine(EngineConfig(initial_cash=10_000), DecisionConfig())
    engine.feed(Bars(ts_us, open_, high, low, close, volume), ModelOutput(signals, probabilities))
    result = engine.finish()
    report = compute_metrics(result, periods_per_year=252)
"""

from ktrdr_backtest.domain.costs import (
    Costs,
    FixedPlusRateCommission,
    PerShareCommission,
    RateCommission,
    SpreadCharging,
)
from ktrdr_backtest.domain.decisions import (
    DecisionConfig,
    ExitRule,
    ExitUnit,
    ShortSelling,
    Signal,
    parse_decisions,
)
from ktrdr_backtest.domain.engine import (
    MAX_BATCH_BARS,
    MAX_TOTAL_BARS,
    BacktestEngine,
    BacktestResult,
    EndOfData,
    EngineConfig,
    EngineProgress,
    ExitReason,
    FillTiming,
    FixedUnits,
    FractionOfEquity,
    SizingConvention,
    Trade,
)
from ktrdr_backtest.domain.errors import ConfigProblems
from ktrdr_backtest.domain.inputs import ModelOutput, check_bars, crossover_signals
from ktrdr_backtest.domain.metrics import (
    Annualised,
    Metrics,
    MetricsReport,
    TradeStats,
    calendar_periods_per_year,
    compute_metrics,
    observed_periods_per_year,
)
from ktrdr_backtest.domain.parity import BacktestingPyStats, backtesting_py_stats
from ktrdr_backtest.domain.runner import run_backtest, settings_summary

__all__ = [
    "MAX_BATCH_BARS",
    "MAX_TOTAL_BARS",
    "Annualised",
    "BacktestEngine",
    "BacktestResult",
    "BacktestingPyStats",
    "ConfigProblems",
    "Costs",
    "DecisionConfig",
    "EndOfData",
    "EngineConfig",
    "EngineProgress",
    "ExitReason",
    "ExitRule",
    "ExitUnit",
    "FillTiming",
    "FixedPlusRateCommission",
    "FixedUnits",
    "FractionOfEquity",
    "Metrics",
    "MetricsReport",
    "ModelOutput",
    "PerShareCommission",
    "RateCommission",
    "ShortSelling",
    "Signal",
    "SizingConvention",
    "SpreadCharging",
    "Trade",
    "TradeStats",
    "backtesting_py_stats",
    "calendar_periods_per_year",
    "check_bars",
    "compute_metrics",
    "crossover_signals",
    "observed_periods_per_year",
    "parse_decisions",
    "run_backtest",
    "settings_summary",
]
