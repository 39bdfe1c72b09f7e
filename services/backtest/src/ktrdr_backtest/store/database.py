"""Connecting to the results database and migrating its schema (Alembic, no alembic.ini).

SQLite (embedded, the default: ``$KTRDR_HOME/backtest/results.db``) or PostgreSQL
(``postgresql://user:password@host:5432/db``, driven by psycopg 3; what Kubernetes replicas
share). ``migrate`` brings the schema to the newest revision: at service start-up and with
``python -m ktrdr_backtest.migrate``. On PostgreSQL it holds an advisory lock, so replicas
starting together migrate one after the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from ktrdr_backtest.domain import errors as codes
from ktrdr_core.errors import FailedPreconditionError, UnavailableError, ValidationError

log = structlog.get_logger(__name__)

_MIGRATIONS = "ktrdr_backtest.store:migrations"
_LOCK_KEY = 0x6B747264  # "ktrd": one advisory lock for the results schema
SCHEMES = ("sqlite", "postgresql")


def default_url(home: Path) -> str:
    """The embedded database under ``home`` (``$KTRDR_HOME``)."""
    return f"sqlite:///{home / 'backtest' / 'results.db'}"


def normalise_url(url: str) -> sa.URL:
    """Parse ``url``; ``postgresql://`` uses psycopg 3.

    Raises
    ------
    ValidationError
        ``BACKTEST-012`` for a malformed URL or another database.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValidationError(
            codes.BAD_DATABASE_URL,
            "KTRDR_DATABASE_URL is not a database URL (e.g. postgresql://user@host/db).",
            field="KTRDR_DATABASE_URL",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SCHEMES:
        raise ValidationError(
            codes.BAD_DATABASE_URL,
            f"KTRDR_DATABASE_URL names '{backend}'; use sqlite or postgresql.",
            field="KTRDR_DATABASE_URL",
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: sa.URL | str) -> str:
    """The URL as it may be logged (password hidden)."""
    parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
    return parsed.render_as_string(hide_password=True)


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite gets its directory, WAL, foreign keys and a busy timeout."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The database's schema revision (``None`` for an empty database)."""
    with unavailable_as_error(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: sa.Engine, revision: str = "head") -> str:
    """Upgrade the schema to ``revision`` (default the newest); return the revision reached.

    Raises
    ------
    UnavailableError
        ``BACKTEST-010`` when the database cannot be reached.
    FailedPreconditionError
        ``BACKTEST-011`` when the database holds a revision this code does not know (newer
        code wrote it) or a migration fails.
    """
    with unavailable_as_error(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        before = MigrationContext.configure(connection).get_current_revision()
        try:
            command.upgrade(_config(connection), revision)
        except CommandError as exc:
            raise FailedPreconditionError(
                codes.SCHEMA_MISMATCH,
                f"The results database (revision {before}) cannot be migrated to {revision}: "
                f"{exc}. Is it newer than this code?",
            ) from exc
        after = MigrationContext.configure(connection).get_current_revision()
    log.info("results_schema", url=safe_url(engine.url), before=before, after=after)
    return after or ""


def downgrade(engine: sa.Engine, revision: str) -> str:
    """Downgrade the schema to ``revision`` (``base`` empties it)."""
    with unavailable_as_error(engine), engine.begin() as connection:
        command.downgrade(_config(connection), revision)
        return MigrationContext.configure(connection).get_current_revision() or "base"


@contextlib.contextmanager
def unavailable_as_error(engine: sa.Engine) -> Iterator[None]:
    """Turn a connection failure into ``BACKTEST-010`` naming the database (no password)."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise UnavailableError(
            codes.DATABASE_UNAVAILABLE,
            f"The results database {safe_url(engine.url)} is unavailable: {reason}",
            details={"dependency": "results database"},
        ) from exc
