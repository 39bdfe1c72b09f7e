"""The results database: one row per backtest run, its metrics, trades and equity curve.

Bar times (trades, equity) are int64 microseconds since the epoch, UTC, as on the wire
(``timestamps_us``); run times are timezone-aware timestamps. Metrics are rows
``(run, basis, name) -> value, formula`` so new metrics need no migration. Changing this module
needs a new Alembic revision in ``migrations/versions`` (a test compares the two).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a UTC-aware one")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class RunRow(Base):
    __tablename__ = "backtest_runs"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    strategy_id: Mapped[str] = mapped_column(sa.String(200), index=True)
    symbol: Mapped[str] = mapped_column(sa.String(64))
    timeframe: Mapped[str] = mapped_column(sa.String(8))
    model: Mapped[str] = mapped_column(sa.String(200), default="")
    state: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_bar_us: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    last_bar_us: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    bars: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    trades: Mapped[int] = mapped_column(sa.Integer, default=0)
    initial_equity: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    final_equity: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    periods_per_year: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    periods_per_year_source: Mapped[str] = mapped_column(sa.String(200), default="")
    risk_free_rate: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    signal_counts: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    # Revision 0002: warm-up, walk-forward membership, the model's own figures, feature names.
    warmup_bars: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    walk_forward_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    model_metrics: Mapped[dict[str, float] | None] = mapped_column(sa.JSON, nullable=True)
    feature_names: Mapped[list[str] | None] = mapped_column(sa.JSON, nullable=True)


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("backtest_runs.id", ondelete="CASCADE")


class MetricRow(Base):
    __tablename__ = "backtest_metrics"

    run_id: Mapped[str] = mapped_column(sa.String(32), _run_fk(), primary_key=True)
    basis: Mapped[str] = mapped_column(sa.String(8), primary_key=True)  # net | gross
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(sa.Float, nullable=True)  # NULL is NaN
    formula: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class TradeRow(Base):
    __tablename__ = "backtest_trades"

    run_id: Mapped[str] = mapped_column(sa.String(32), _run_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    side: Mapped[int] = mapped_column(sa.SmallInteger)
    units: Mapped[float] = mapped_column(sa.Float)
    entry_bar: Mapped[int] = mapped_column(sa.BigInteger)
    exit_bar: Mapped[int] = mapped_column(sa.BigInteger)
    entry_time_us: Mapped[int] = mapped_column(sa.BigInteger)
    exit_time_us: Mapped[int] = mapped_column(sa.BigInteger)
    entry_quote: Mapped[float] = mapped_column(sa.Float)
    entry_price: Mapped[float] = mapped_column(sa.Float)
    exit_quote: Mapped[float] = mapped_column(sa.Float)
    exit_price: Mapped[float] = mapped_column(sa.Float)
    exit_reason: Mapped[str] = mapped_column(sa.String(16))
    commission: Mapped[float] = mapped_column(sa.Float)
    spread_cost: Mapped[float] = mapped_column(sa.Float)
    slippage_cost: Mapped[float] = mapped_column(sa.Float)
    gross_pnl: Mapped[float] = mapped_column(sa.Float)
    pnl: Mapped[float] = mapped_column(sa.Float)
    return_pct: Mapped[float] = mapped_column(sa.Float)
    stop_price: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    target_price: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    entry_p_buy: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    entry_p_hold: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    entry_p_sell: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    exit_p_buy: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    exit_p_hold: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    exit_p_sell: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    entry_signal_bar: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    exit_signal_bar: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)


class DecisionRow(Base):
    """An acted decision: what the model saw (features, in ``RunRow.feature_names`` order) and
    said (class probabilities) at the bar whose close took it."""

    __tablename__ = "backtest_decisions"

    run_id: Mapped[str] = mapped_column(sa.String(32), _run_fk(), primary_key=True)
    bar: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    time_us: Mapped[int] = mapped_column(sa.BigInteger)
    signal: Mapped[int] = mapped_column(sa.SmallInteger)
    p_buy: Mapped[float] = mapped_column(sa.Float)
    p_hold: Mapped[float] = mapped_column(sa.Float)
    p_sell: Mapped[float] = mapped_column(sa.Float)
    features: Mapped[list[float | None]] = mapped_column(sa.JSON)


class EquityChunkRow(Base):
    """A stretch of a run's equity curve: ``bars`` bars from ``first_bar``, packed (revision
    0002) as little-endian arrays one after the other: ``time_us`` int64, ``equity``,
    ``gross_equity`` and ``drawdown_pct`` float64 (32 bytes a bar; a 1M-bar curve is 100 rows,
    written and read in milliseconds, where one row per bar took seconds)."""

    __tablename__ = "backtest_equity_chunks"

    run_id: Mapped[str] = mapped_column(sa.String(32), _run_fk(), primary_key=True)
    first_bar: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    bars: Mapped[int] = mapped_column(sa.Integer)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
