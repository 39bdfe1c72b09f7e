"""Settings of the fuzzy service (environment variables KTRDR_FUZZY_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class FuzzySettings(ServiceSettings):
    SERVICE: ClassVar[str] = "fuzzy"
    pass
