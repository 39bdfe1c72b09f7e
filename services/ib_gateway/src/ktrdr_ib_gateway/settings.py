"""Settings of the ib_gateway service (environment variables KTRDR_IB_GATEWAY_*).

Where TWS is: ``ib_host``/``ib_port`` (TWS 7497 paper / 7496 live, IB Gateway 4002 paper /
4001 live) and ``ib_client_id``. The TWS login (user name, password) is TWS's or IB Gateway's
own, never KTRDR's. The account the session is for, when one must be chosen, is a secret:
``KTRDR_IB_GATEWAY_IB_ACCOUNT_FILE`` (or ``KTRDR_IB_GATEWAY_IB_ACCOUNT``), redacted from every
log and error.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ktrdr_ib_gateway.domain import (
    Backoff,
    ConnectionConfig,
    GatewayConfig,
    PacingRules,
    RequestPolicy,
)
from ktrdr_runtime.secrets import Secret
from ktrdr_runtime.settings import ServiceSettings, secret_field

_POSITIVE = (
    "connect_timeout_seconds",
    "request_timeout_seconds",
    "historical_timeout_seconds",
    "connect_wait_seconds",
    "reconnect_wait_seconds",
    "reconnect_initial_seconds",
    "breaker_reset_seconds",
    "cache_seconds",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class IbGatewaySettings(ServiceSettings):
    SERVICE: ClassVar[str] = "ib_gateway"
    ib_host: str = "127.0.0.1"
    ib_port: int = 4002
    ib_client_id: int = 1
    ib_account: Secret | None = secret_field("KTRDR_IB_GATEWAY_IB_ACCOUNT")
    # Socket connect plus API handshake.
    connect_timeout_seconds: float = 5.0
    # Contract details and head timestamps.
    request_timeout_seconds: float = 30.0
    # One historical request (ib_async's own timeout; an empty answer after it is a timeout).
    historical_timeout_seconds: float = 60.0
    # How long a request waits for a connection before answering UNAVAILABLE.
    connect_wait_seconds: float = 2.0
    # How long a backfill waits for the reconnection after the connection dropped.
    reconnect_wait_seconds: float = 30.0
    # Reconnect backoff: 1 s, 2 s, 4 s ... capped, each +-20 % jitter.
    reconnect_initial_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0
    # Circuit breaker: open after this many failed attempts in a row, half-open after reset.
    breaker_failures: int = 5
    breaker_reset_seconds: float = 30.0
    # Retries after an IB pacing violation (162) before RESOURCE_EXHAUSTED.
    pacing_retries: int = 3
    # Added to every pacing window against clock differences with IB.
    pacing_margin_seconds: float = 0.25
    # Qualified contracts and head timestamps are cached this long.
    cache_seconds: float = 3600.0
    max_live_subscriptions: int = 20
    # Multiplies IB's pacing windows and the live stall interval. 1 against a real TWS; below 1
    # only against the fake TWS of the test suite, which scales its own rules the same way.
    time_scale: float = 1.0

    def validate(self) -> list[str]:
        problems = super().validate()
        if not 1 <= self.ib_port <= 65535:
            problems.append(f"KTRDR_IB_GATEWAY_IB_PORT={self.ib_port} is not a port (1-65535)")
        if not 0 <= self.ib_client_id <= 2_147_483_647:
            problems.append(f"KTRDR_IB_GATEWAY_IB_CLIENT_ID={self.ib_client_id} must be >= 0")
        for name in _POSITIVE:
            if getattr(self, name) <= 0:
                problems.append(f"{self._env_name(name)}={getattr(self, name)} must be > 0")
        if self.reconnect_max_seconds < self.reconnect_initial_seconds:
            problems.append(
                "KTRDR_IB_GATEWAY_RECONNECT_MAX_SECONDS must be >= "
                "KTRDR_IB_GATEWAY_RECONNECT_INITIAL_SECONDS"
            )
        for name in ("breaker_failures", "pacing_retries", "pacing_margin_seconds"):
            least = 1 if name == "breaker_failures" else 0
            if getattr(self, name) < least:
                problems.append(f"{self._env_name(name)}={getattr(self, name)} must be >= {least}")
        if not 1 <= self.max_live_subscriptions <= 100:
            problems.append("KTRDR_IB_GATEWAY_MAX_LIVE_SUBSCRIPTIONS must be in 1..100")
        if not 0 < self.time_scale <= 1:
            problems.append(f"KTRDR_IB_GATEWAY_TIME_SCALE={self.time_scale} must be in (0, 1]")
        return problems

    def gateway_config(self) -> GatewayConfig:
        """The domain's configuration from these settings."""
        return GatewayConfig(
            connection=ConnectionConfig(
                host=self.ib_host,
                port=self.ib_port,
                client_id=self.ib_client_id,
                connect_timeout_seconds=self.connect_timeout_seconds,
                backoff=Backoff(
                    initial_seconds=self.reconnect_initial_seconds,
                    cap_seconds=self.reconnect_max_seconds,
                ),
                breaker_failures=self.breaker_failures,
                breaker_reset_seconds=self.breaker_reset_seconds,
            ),
            policy=RequestPolicy(
                request_timeout_seconds=self.request_timeout_seconds,
                historical_timeout_seconds=self.historical_timeout_seconds,
                connect_wait_seconds=self.connect_wait_seconds,
                reconnect_wait_seconds=self.reconnect_wait_seconds,
                pacing_retries=self.pacing_retries,
                cache_seconds=self.cache_seconds,
            ),
            pacing=PacingRules(margin_seconds=self.pacing_margin_seconds),
            time_scale=self.time_scale,
            max_live_subscriptions=self.max_live_subscriptions,
        )
