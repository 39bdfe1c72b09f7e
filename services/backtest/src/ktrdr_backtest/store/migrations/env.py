"""Alembic environment of the results database; run through ``ktrdr_backtest.store.database``.

The caller passes an open connection in ``config.attributes["connection"]`` (migrations run in
its transaction); there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from ktrdr_backtest.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
