"""Settings of the backtest service (environment variables KTRDR_BACKTEST_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_backtest.store.database import default_url, normalise_url
from ktrdr_core.errors import ValidationError
from ktrdr_runtime.secrets import Secret
from ktrdr_runtime.settings import ServiceSettings, secret_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class BacktestSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "backtest"
    strategies_dir_name: str = "strategies"
    # Results database; empty means SQLite at $KTRDR_HOME/backtest/results.db. PostgreSQL:
    # postgresql://user:password@host:5432/ktrdr (shared by replicas). A secret: read from the
    # file KTRDR_DATABASE_URL_FILE names (or KTRDR_DATABASE_URL), redacted from logs and errors.
    database_url: Secret | None = secret_field("KTRDR_DATABASE_URL")
    # Bring the schema to the newest revision at start-up.
    migrate_on_start: bool = True

    @property
    def results_database_url(self) -> str:
        return self.database_url.reveal() if self.database_url else default_url(self.home)

    def validate(self) -> list[str]:
        problems = super().validate()
        if self.database_url:
            try:
                normalise_url(self.database_url.reveal())
            except ValidationError as exc:
                problems.append(exc.message)
        return problems
