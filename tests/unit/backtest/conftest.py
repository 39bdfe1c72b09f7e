from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import sqlalchemy as sa
from pg_server import PostgresServer, require_bin_dir

from ktrdr_backtest.store import ResultStore, create_engine, migrate


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the session; missing PostgreSQL skips, but fails in CI."""
    server = PostgresServer(require_bin_dir())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def _fresh_database(server: PostgresServer) -> Iterator[str]:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.url_for(name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty results database: a SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'results.db'}"
        return
    with _fresh_database(request.getfixturevalue("postgres")) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgres(postgres) -> Iterator[sa.Engine]:
    """One migrated PostgreSQL results database for the session (emptied by ``store``)."""
    with _fresh_database(postgres) as url:
        engine = create_engine(url)
        migrate(engine)
        yield engine
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Iterator[ResultStore]:
    """An empty, migrated results store on SQLite or on the PostgreSQL server."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'results.db'}")
        migrate(engine)
        yield ResultStore(engine)
        engine.dispose()
        return
    engine = request.getfixturevalue("migrated_postgres")
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE backtest_runs CASCADE"))
    yield ResultStore(engine)


@pytest.fixture(scope="session")
def bt_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KTRDR home with the bundled bars and a tiny model of rsi_trend_eurusd_1h (trained
    in-process, two epochs), shared by the session's backtest runs."""
    from run_testutil import RSI, bundled_home, train_sync

    home = bundled_home(tmp_path_factory.mktemp("bt-home"))
    train_sync(home, RSI)
    return home
