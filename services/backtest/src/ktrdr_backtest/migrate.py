"""python -m ktrdr_backtest.migrate: migrate the results database (what start-up does).

    python -m ktrdr_backtest.migrate              # upgrade to the newest revision
    python -m ktrdr_backtest.migrate current      # print the database's revision
    python -m ktrdr_backtest.migrate downgrade REV
    python -m ktrdr_backtest.migrate --url postgresql://user@host/db

The database is KTRDR_DATABASE_URL, else SQLite under KTRDR_HOME. Exit 0 on success, 1 on a
database error, 2 on bad settings.
"""

from __future__ import annotations

import argparse
import sys

import structlog

from ktrdr_backtest.settings import BacktestSettings
from ktrdr_backtest.store import database
from ktrdr_core.errors import KtrdrError
from ktrdr_runtime.logging import configure_logging
from ktrdr_runtime.settings import SettingsError

log = structlog.get_logger("ktrdr.backtest.migrate")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ktrdr_backtest.migrate")
    parser.add_argument(
        "action", nargs="?", default="upgrade", choices=["upgrade", "current", "downgrade"]
    )
    parser.add_argument("revision", nargs="?", default="")
    parser.add_argument("--url", default="", help="database URL (default: the settings')")
    args = parser.parse_args(argv)
    configure_logging("backtest")
    try:
        settings = BacktestSettings.from_env()
    except SettingsError as exc:
        log.error("invalid_settings", error=str(exc))
        return 2
    url = args.url or settings.results_database_url
    try:
        engine = database.create_engine(url)
        if args.action == "current":
            revision = database.current_revision(engine) or "base"
        elif args.action == "downgrade":
            if not args.revision:
                parser.error("downgrade needs a revision (or 'base')")
            revision = database.downgrade(engine, args.revision)
        else:
            revision = database.migrate(engine, args.revision or "head")
    except KtrdrError as exc:
        log.error("migration_failed", code=exc.code, error=exc.full_message)
        return 1
    sys.stdout.write(f"{revision}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
