"""The results database (SQLAlchemy 2, Alembic): SQLite embedded or PostgreSQL."""

from ktrdr_backtest.store.database import (
    create_engine,
    current_revision,
    default_url,
    head_revision,
    migrate,
    safe_url,
)
from ktrdr_backtest.store.repository import (
    EquityCurve,
    MetricValue,
    Page,
    ResultStore,
    RunInfo,
    RunRecord,
    StrategyPerformance,
)

__all__ = [
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
