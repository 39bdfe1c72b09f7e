"""Results database: runs, metrics, trades, equity.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ktrdr_backtest.store.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("backtest_runs.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("strategy_id", sa.String(200), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("first_bar_us", sa.BigInteger, nullable=True),
        sa.Column("last_bar_us", sa.BigInteger, nullable=True),
        sa.Column("bars", sa.BigInteger, nullable=False),
        sa.Column("trades", sa.Integer, nullable=False),
        sa.Column("initial_equity", sa.Float, nullable=True),
        sa.Column("final_equity", sa.Float, nullable=True),
        sa.Column("periods_per_year", sa.Float, nullable=True),
        sa.Column("periods_per_year_source", sa.String(200), nullable=False),
        sa.Column("risk_free_rate", sa.Float, nullable=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("signal_counts", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backtest_runs"),
    )
    op.create_index("ix_backtest_runs_strategy_id", "backtest_runs", ["strategy_id"])
    op.create_index("ix_backtest_runs_created_at", "backtest_runs", ["created_at"])
    op.create_table(
        "backtest_metrics",
        sa.Column("run_id", sa.String(32), _run_fk(), nullable=False),
        sa.Column("basis", sa.String(8), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("formula", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("run_id", "basis", "name", name="pk_backtest_metrics"),
    )
    probabilities = [f"{when}_p_{c}" for when in ("entry", "exit") for c in ("buy", "hold", "sell")]
    op.create_table(
        "backtest_trades",
        sa.Column("run_id", sa.String(32), _run_fk(), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("side", sa.SmallInteger, nullable=False),
        sa.Column("units", sa.Float, nullable=False),
        sa.Column("entry_bar", sa.BigInteger, nullable=False),
        sa.Column("exit_bar", sa.BigInteger, nullable=False),
        sa.Column("entry_time_us", sa.BigInteger, nullable=False),
        sa.Column("exit_time_us", sa.BigInteger, nullable=False),
        sa.Column("entry_quote", sa.Float, nullable=False),
        sa.Column("entry_price", sa.Float, nullable=False),
        sa.Column("exit_quote", sa.Float, nullable=False),
        sa.Column("exit_price", sa.Float, nullable=False),
        sa.Column("exit_reason", sa.String(16), nullable=False),
        sa.Column("commission", sa.Float, nullable=False),
        sa.Column("spread_cost", sa.Float, nullable=False),
        sa.Column("slippage_cost", sa.Float, nullable=False),
        sa.Column("gross_pnl", sa.Float, nullable=False),
        sa.Column("pnl", sa.Float, nullable=False),
        sa.Column("return_pct", sa.Float, nullable=False),
        sa.Column("stop_price", sa.Float, nullable=True),
        sa.Column("target_price", sa.Float, nullable=True),
        *[sa.Column(name, sa.Float, nullable=True) for name in probabilities],
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_backtest_trades"),
    )
    op.create_table(
        "backtest_equity",
        sa.Column("run_id", sa.String(32), _run_fk(), nullable=False),
        sa.Column("bar", sa.BigInteger, nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("equity", sa.Float, nullable=False),
        sa.Column("gross_equity", sa.Float, nullable=False),
        sa.Column("drawdown_pct", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "bar", name="pk_backtest_equity"),
    )


def downgrade() -> None:
    op.drop_table("backtest_equity")
    op.drop_table("backtest_trades")
    op.drop_table("backtest_metrics")
    op.drop_index("ix_backtest_runs_created_at", "backtest_runs")
    op.drop_index("ix_backtest_runs_strategy_id", "backtest_runs")
    op.drop_table("backtest_runs")
