"""Settings of the indicator service (environment variables KTRDR_INDICATORS_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class IndicatorsSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "indicators"
    # Where stored bars come from (CalculateIndicator with a "source").
    data_address: str = env_field("KTRDR_DATA_ADDRESS", "127.0.0.1:50051")
