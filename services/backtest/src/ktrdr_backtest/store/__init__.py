"""The results database (SQLAlchemy 2, Alembic): SQLite embedded or PostgreSQL."""

from ktrdr_backtest.domain.run import RunInfo
from ktrdr_backtest.store.database import (
    create_engine,
    current_revision,
    default_url,
    head_revision,
    migrate,
    safe_url,
)
from ktrdr_backtest.store.repository import (
    BUY_AND_HOLD,
    MAJORITY,
    EquityCurve,
    MetricValue,
    Page,
    ResultStore,
    RunRecord,
    StrategyPerformance,
)

__all__ = [
    "BUY_AND_HOLD",
    "MAJORITY",
    "EquityCurve",
    "MetricValue",
    "Page",
    "ResultStore",
    "RunInfo",
    "RunRecord",
    "StrategyPerformance",
    "create_engine",
    "current_revision",
    "default_url",
    "head_revision",
    "migrate",
    "safe_url",
]
