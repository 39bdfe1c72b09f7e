"""Settings of the neural service (environment variables KTRDR_NEURAL_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class NeuralSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "neural"
    models_dir_name: str = "models"
