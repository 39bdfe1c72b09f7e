"""Settings of the backtest service (environment variables KTRDR_BACKTEST_*)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from ktrdr_backtest.store.database import default_url, normalise_url
from ktrdr_core.errors import ValidationError
from ktrdr_runtime.secrets import Secret
from ktrdr_runtime.settings import ServiceSettings, env_field, secret_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class BacktestSettings(ServiceSettings):
    """Bounds: stream and training deadlines > 0 (seconds)."""

    SERVICE: ClassVar[str] = "backtest"
    strategies_dir_name: str = "strategies"
    # Strategy files; empty means $KTRDR_HOME/strategies (the fuzzy and neural services read
    # the same).
    strategies_dir: Path | None = env_field("KTRDR_STRATEGIES_DIR", None)
    data_address: str = env_field("KTRDR_DATA_ADDRESS", "127.0.0.1:50051")
    indicators_address: str = env_field("KTRDR_INDICATORS_ADDRESS", "127.0.0.1:50052")
    fuzzy_address: str = env_field("KTRDR_FUZZY_ADDRESS", "127.0.0.1:50053")
    neural_address: str = env_field("KTRDR_NEURAL_ADDRESS", "127.0.0.1:50054")
    # Deadline of one backtest's streams (bars, indicators, fuzzy, predictions).
    stream_timeout_seconds: float = 3600.0
    # Deadline of one walk-forward window's training.
    training_timeout_seconds: float = 7200.0
    # Results database; empty means SQLite at $KTRDR_HOME/backtest/results.db. PostgreSQL:
    # postgresql://user:password@host:5432/ktrdr (shared by replicas). A secret: read from the
    # file KTRDR_DATABASE_URL_FILE names (or KTRDR_DATABASE_URL), redacted from logs and errors.
    database_url: Secret | None = secret_field("KTRDR_DATABASE_URL")
    # Bring the schema to the newest revision at start-up.
    migrate_on_start: bool = True

    @property
    def strategies(self) -> Path:
        if self.strategies_dir is not None:
            return self.strategies_dir
        return self.home / self.strategies_dir_name

    @property
    def results_database_url(self) -> str:
        return self.database_url.reveal() if self.database_url else default_url(self.home)

    def validate(self) -> list[str]:
        problems = super().validate()
        for name in ("stream_timeout_seconds", "training_timeout_seconds"):
            if getattr(self, name) <= 0:
                problems.append(f"{self._env_name(name)}={getattr(self, name)} must be > 0")
        if self.database_url:
            try:
                normalise_url(self.database_url.reveal())
            except ValidationError as exc:
                problems.append(exc.message)
        return problems
