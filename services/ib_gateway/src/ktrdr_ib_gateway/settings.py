"""Settings of the ib_gateway service (environment variables KTRDR_IB_GATEWAY_*)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_runtime.settings import ServiceSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class IbGatewaySettings(ServiceSettings):
    SERVICE: ClassVar[str] = "ib_gateway"
    ib_port: int = 4002
