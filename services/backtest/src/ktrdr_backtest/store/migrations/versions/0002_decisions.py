"""Decision traces, warm-up, walk-forward membership, model figures, trades' signal bars.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backtest_runs") as batch:
        batch.add_column(
            sa.Column("warmup_bars", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("walk_forward_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("model_metrics", sa.JSON, nullable=True))
        batch.add_column(sa.Column("feature_names", sa.JSON, nullable=True))
    op.create_index("ix_backtest_runs_walk_forward_id", "backtest_runs", ["walk_forward_id"])
    with op.batch_alter_table("backtest_trades") as batch:
        batch.add_column(sa.Column("entry_signal_bar", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("exit_signal_bar", sa.BigInteger, nullable=True))
    op.create_table(
        "backtest_decisions",
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("backtest_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("bar", sa.BigInteger, nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("signal", sa.SmallInteger, nullable=False),
        sa.Column("p_buy", sa.Float, nullable=False),
        sa.Column("p_hold", sa.Float, nullable=False),
        sa.Column("p_sell", sa.Float, nullable=False),
        sa.Column("features", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "bar", name="pk_backtest_decisions"),
    )


def downgrade() -> None:
    op.drop_table("backtest_decisions")
    with op.batch_alter_table("backtest_trades") as batch:
        batch.drop_column("exit_signal_bar")
        batch.drop_column("entry_signal_bar")
    op.drop_index("ix_backtest_runs_walk_forward_id", "backtest_runs")
    with op.batch_alter_table("backtest_runs") as batch:
        batch.drop_column("feature_names")
        batch.drop_column("model_metrics")
        batch.drop_column("walk_forward_id")
        batch.drop_column("warmup_bars")
