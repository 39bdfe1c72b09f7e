"""Settings of the indicators service (environment variables KTRDR_INDICATORS_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class IndicatorsSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "indicators"
    pass
