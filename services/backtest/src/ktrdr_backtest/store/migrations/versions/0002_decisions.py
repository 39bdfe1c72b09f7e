"""Decision traces, warm-up, walk-forward membership, model figures, trades' signal bars;
the equity curve packed in chunks of 10,000 bars (one row per bar took seconds per run).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from alembic import op

from ktrdr_backtest.store.packing import CHUNK_BARS, pack, unpack

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


_ROW_COLUMNS = ("bar", "time_us", "equity", "gross_equity", "drawdown_pct")
_CHUNK_COLUMNS = ("run_id", "first_bar", "bars", "data")


def _equity_rows_to_chunks() -> None:
    connection = op.get_bind()
    old = sa.table("backtest_equity", *(sa.column(c) for c in ("run_id", *_ROW_COLUMNS)))
    new = sa.table("backtest_equity_chunks", *(sa.column(c) for c in _CHUNK_COLUMNS))
    runs = connection.execute(sa.select(old.c.run_id).distinct()).scalars().all()
    for run_id in runs:
        rows = connection.execute(
            sa.select(*(old.c[c] for c in _ROW_COLUMNS))
            .where(old.c.run_id == run_id)
            .order_by(old.c.bar)
        ).all()
        cols = [np.array(c) for c in zip(*rows, strict=True)]
        for lo in range(0, len(rows), CHUNK_BARS):
            bar, ts, equity, gross, drawdown = (c[lo : lo + CHUNK_BARS] for c in cols)
            connection.execute(
                new.insert().values(
                    run_id=run_id,
                    first_bar=int(bar[0]),
                    bars=len(bar),
                    data=pack(ts, equity, gross, drawdown),
                )
            )


def _equity_chunks_to_rows() -> None:
    connection = op.get_bind()
    old = sa.table("backtest_equity", *(sa.column(c) for c in ("run_id", *_ROW_COLUMNS)))
    new = sa.table("backtest_equity_chunks", *(sa.column(c) for c in _CHUNK_COLUMNS))
    chunks = connection.execute(sa.select(*(new.c[c] for c in _CHUNK_COLUMNS))).all()
    for run_id, first, n, data in chunks:
        ts, equity, gross, drawdown = unpack(data, n)
        connection.execute(
            old.insert(),
            [
                {
                    "run_id": run_id,
                    "bar": first + i,
                    "time_us": int(ts[i]),
                    "equity": float(equity[i]),
                    "gross_equity": float(gross[i]),
                    "drawdown_pct": float(drawdown[i]),
                }
                for i in range(n)
            ],
        )


# Columns are added and dropped in place (recreate="never": SQLite >= 3.35 alters them): a
# recreated backtest_runs would be dropped, and with foreign keys on, its ON DELETE CASCADE would
# take every run's trades, metrics and equity with it.


def upgrade() -> None:
    with op.batch_alter_table("backtest_runs", recreate="never") as batch:
        batch.add_column(
            sa.Column("warmup_bars", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("walk_forward_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("model_metrics", sa.JSON, nullable=True))
        batch.add_column(sa.Column("feature_names", sa.JSON, nullable=True))
    op.create_index("ix_backtest_runs_walk_forward_id", "backtest_runs", ["walk_forward_id"])
    with op.batch_alter_table("backtest_trades", recreate="never") as batch:
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
    op.create_table(
        "backtest_equity_chunks",
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("backtest_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("first_bar", sa.BigInteger, nullable=False),
        sa.Column("bars", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "first_bar", name="pk_backtest_equity_chunks"),
    )
    _equity_rows_to_chunks()
    op.drop_table("backtest_equity")


def downgrade() -> None:
    op.create_table(
        "backtest_equity",
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("backtest_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("bar", sa.BigInteger, nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("equity", sa.Float, nullable=False),
        sa.Column("gross_equity", sa.Float, nullable=False),
        sa.Column("drawdown_pct", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "bar", name="pk_backtest_equity"),
    )
    _equity_chunks_to_rows()
    op.drop_table("backtest_equity_chunks")
    op.drop_table("backtest_decisions")
    with op.batch_alter_table("backtest_trades", recreate="never") as batch:
        batch.drop_column("exit_signal_bar")
        batch.drop_column("entry_signal_bar")
    op.drop_index("ix_backtest_runs_walk_forward_id", "backtest_runs")
    with op.batch_alter_table("backtest_runs", recreate="never") as batch:
        batch.drop_column("feature_names")
        batch.drop_column("model_metrics")
        batch.drop_column("walk_forward_id")
        batch.drop_column("warmup_bars")
