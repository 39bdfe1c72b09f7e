"""The ib_gateway domain: pure rules for talking to IB (no grpc, no ib_async).

Public API: :class:`IbGateway` (the facade the servicer calls) with :class:`GatewayConfig`,
the request builders :func:`historical_query` / :func:`live_query`, and the Protocols an IB
adapter implements (:class:`IbApi`). Modules: ``contracts`` (symbol -> contract), ``chunks``
(bar sizes, request plan), ``timestamps`` (IB stamps -> bar open UTC), ``pacing`` (IB's
historical pacing rules), ``connection`` (reconnect, breaker, farms), ``historical``, ``live``,
``errors`` (the ``IB-*`` catalogue).
"""

from ktrdr_ib_gateway.domain.connection import Backoff, ConnectionConfig
from ktrdr_ib_gateway.domain.gateway import (
    ContractRequest,
    GatewayConfig,
    GatewayStatus,
    HealthReport,
    IbGateway,
    historical_query,
    live_query,
)
from ktrdr_ib_gateway.domain.historical import RequestPolicy
from ktrdr_ib_gateway.domain.pacing import PacingRules
from ktrdr_ib_gateway.domain.ports import IbApi

__all__ = [
    "Backoff",
    "ConnectionConfig",
    "ContractRequest",
    "GatewayConfig",
    "GatewayStatus",
    "HealthReport",
    "IbApi",
    "IbGateway",
    "PacingRules",
    "RequestPolicy",
    "historical_query",
    "live_query",
]
