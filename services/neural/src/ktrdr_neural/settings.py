"""Settings of the neural service (environment variables KTRDR_NEURAL_*)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from ktrdr_neural.domain.device import DEVICE_SETTINGS
from ktrdr_runtime.settings import ServiceSettings, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class NeuralSettings(ServiceSettings):
    """Bounds: 1-64 concurrent trainings, 0-1000 queued, 1-1024 cached models, 1-256 threads."""

    SERVICE: ClassVar[str] = "neural"
    models_dir_name: str = "models"
    # Strategy files; empty means $KTRDR_HOME/strategies (the fuzzy service reads the same).
    strategies_dir: Path | None = env_field("KTRDR_STRATEGIES_DIR", None)
    data_address: str = env_field("KTRDR_DATA_ADDRESS", "127.0.0.1:50051")
    fuzzy_address: str = env_field("KTRDR_FUZZY_ADDRESS", "127.0.0.1:50053")
    # auto (CUDA when present, else CPU), cpu or cuda.
    device: str = "auto"
    max_concurrent_trainings: int = 1
    max_queued_trainings: int = 8
    model_cache_size: int = 16
    # Torch threads of each training worker (fixed, so trainings are reproducible).
    torch_threads: int = 1
    # Keep one training worker started in advance (torch imports take seconds).
    prewarm_worker: bool = True
    # Deadline of the feature and bar calls a training or range prediction makes.
    feature_timeout_seconds: float = 600.0

    @property
    def strategies(self) -> Path:
        return self.strategies_dir if self.strategies_dir is not None else self.home / "strategies"

    @property
    def models_dir(self) -> Path:
        return self.home / self.models_dir_name

    def validate(self) -> list[str]:
        problems = super().validate()
        checks = [
            ("device", self.device in DEVICE_SETTINGS, f"one of {', '.join(DEVICE_SETTINGS)}"),
            ("max_concurrent_trainings", 1 <= self.max_concurrent_trainings <= 64, "in [1, 64]"),
            ("max_queued_trainings", 0 <= self.max_queued_trainings <= 1000, "in [0, 1000]"),
            ("model_cache_size", 1 <= self.model_cache_size <= 1024, "in [1, 1024]"),
            ("torch_threads", 1 <= self.torch_threads <= 256, "in [1, 256]"),
            ("feature_timeout_seconds", self.feature_timeout_seconds > 0, "> 0"),
        ]
        for name, ok, rule in checks:
            if not ok:
                problems.append(f"{self._env_name(name)}={getattr(self, name)!r} must be {rule}")
        if not self.models_dir_name or "/" in self.models_dir_name:
            problems.append(f"{self._env_name('models_dir_name')} must be a directory name")
        return problems
