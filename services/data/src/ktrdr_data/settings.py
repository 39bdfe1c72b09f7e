"""Settings of the data service (environment variables KTRDR_DATA_*)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class DataSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "data"
    # Parquet store; empty means $KTRDR_HOME/data.
    dir: Path | None = None
    # Import the bundled sample data (GOOG daily, EURUSD hourly) on start when missing.
    import_bundled: bool = True
    # Where missing ranges are fetched from; empty means IB is not configured.
    ib_gateway_address: str = env_field("KTRDR_IB_GATEWAY_ADDRESS", "")
    # Deadline for one historical fetch from the IB gateway.
    ib_timeout_seconds: float = 120.0

    @property
    def data_dir(self) -> Path:
        return self.dir if self.dir is not None else self.home / "data"

    def validate(self) -> list[str]:
        problems = super().validate()
        if self.ib_timeout_seconds <= 0:
            problems.append(f"KTRDR_DATA_IB_TIMEOUT_SECONDS={self.ib_timeout_seconds} must be > 0")
        return problems
