"""Settings of the backtest service (environment variables KTRDR_BACKTEST_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class BacktestSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "backtest"
    strategies_dir_name: str = "strategies"
