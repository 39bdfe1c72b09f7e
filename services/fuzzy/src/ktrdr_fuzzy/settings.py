"""Settings of the fuzzy service (environment variables KTRDR_FUZZY_*)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class FuzzySettings(ServiceSettings):
    SERVICE: ClassVar[str] = "fuzzy"
    # Strategy files; empty means $KTRDR_HOME/strategies.
    strategies_dir: Path | None = env_field("KTRDR_STRATEGIES_DIR", None)
    indicators_address: str = env_field("KTRDR_INDICATORS_ADDRESS", "127.0.0.1:50052")

    @property
    def strategies(self) -> Path:
        return self.strategies_dir if self.strategies_dir is not None else self.home / "strategies"
