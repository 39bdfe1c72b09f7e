"""Settings of the backtest service (environment variables KTRDR_BACKTEST_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_backtest.store.database import default_url, normalise_url
from ktrdr_core.errors import ValidationError
from ktrdr_runtime.settings import ServiceSettings, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class BacktestSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "backtest"
    strategies_dir_name: str = "strategies"
    # Results database; empty means SQLite at $KTRDR_HOME/backtest/results.db. PostgreSQL:
    # postgresql://user:password@host:5432/ktrdr (shared by replicas). Never logged whole.
    database_url: str = env_field("KTRDR_DATABASE_URL", "")
    # Bring the schema to the newest revision at start-up.
    migrate_on_start: bool = True

    @property
    def results_database_url(self) -> str:
        return self.database_url or default_url(self.home)

    def validate(self) -> list[str]:
        problems = super().validate()
        if self.database_url:
            try:
                normalise_url(self.database_url)
            except ValidationError as exc:
                problems.append(exc.message)
        return problems
