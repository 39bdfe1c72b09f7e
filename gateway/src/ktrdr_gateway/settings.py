"""Settings of the edge (environment variables ``KTRDR_GATEWAY_*``), read by the runtime's one
settings abstraction; secrets (the encryption key) come from files or the environment.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from ktrdr_runtime.settings import EncryptionSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class GatewaySettings(EncryptionSettings):
    """Bounds: rate limit 1..1,000,000 a minute (burst as much), body 1 KiB..1 GiB, 1..64
    Envoy workers."""

    SERVICE: ClassVar[str] = "gateway"
    rate_limit_per_minute: int = 100
    rate_limit_burst: int = 100
    # Comma-separated CORS allow-list.
    cors_origins: str = "http://localhost:5173"
    max_request_bytes: int = 4 * 1024 * 1024
    # HTTPS: PEM certificate (chain) and private key; replaced files are served without a
    # restart (rename new files into place).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Envoy worker threads.
    concurrency: int = 2
    # With encryption at rest, the decrypted key table Envoy reads lives in this memory-backed
    # directory (default: /dev/shm, else $XDG_RUNTIME_DIR), never on disk.
    runtime_dir: Path | None = None

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in self.cors_origins.split(",") if o.strip())

    def validate(self) -> list[str]:
        problems = super().validate()
        if (self.tls_cert is None) != (self.tls_key is None):
            problems.append("KTRDR_GATEWAY_TLS_CERT and KTRDR_GATEWAY_TLS_KEY go together")
        bounds = {
            "rate_limit_per_minute": (1, 1_000_000),
            "rate_limit_burst": (1, 1_000_000),
            "max_request_bytes": (1024, 1024**3),
            "concurrency": (1, 64),
        }
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if not low <= value <= high:
                problems.append(f"{self._env_name(name)}={value} must be in {low}..{high}")
        return problems
