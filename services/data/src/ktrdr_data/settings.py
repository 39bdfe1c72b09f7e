"""Settings of the data service (environment variables KTRDR_DATA_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class DataSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "data"
    pass
