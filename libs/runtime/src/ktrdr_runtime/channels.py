"""Client channels: one factory, with deadlines, request-id propagation and safe retries.

An address is ``host:port`` or a gRPC target such as ``dns:///data:50051``. Calls are spread
over every address it resolves to (``round_robin``): a Kubernetes headless Service name resolves
to one address per ready pod, and each pod gets its own HTTP/2 connection. Servers close
connections older than ``KTRDR_MAX_CONNECTION_AGE_SECONDS`` (calls in flight finish), so clients
re-resolve the name and find the pods added since.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from google.api import annotations_pb2
from google.protobuf.descriptor import ServiceDescriptor
from grpc import aio

from ktrdr_runtime.interceptors import client_interceptors
from ktrdr_runtime.limits import MAX_MESSAGE_BYTES, MAX_METADATA_BYTES

__all__ = ["MAX_MESSAGE_BYTES", "idempotent_methods", "open_channel", "service_config"]

# Re-resolve a name at most this often (gRPC's default, 30 s, is slow to see new pods).
DNS_MIN_SECONDS_BETWEEN_RESOLUTIONS = 5


def idempotent_methods(services: Sequence[ServiceDescriptor]) -> list[dict[str, str]]:
    """Methods safe to retry: those the contract exposes as HTTP GET (reads)."""
    names = []
    for service in services:
        for method in service.methods:
            options = method.GetOptions()
            if options.HasExtension(annotations_pb2.http):
                rule = options.Extensions[annotations_pb2.http]
                if rule.WhichOneof("pattern") == "get":
                    names.append({"service": service.full_name, "method": method.name})
    return names


def service_config(services: Sequence[ServiceDescriptor]) -> str:
    """gRPC service config: round robin over the addresses; reads retried on UNAVAILABLE."""
    retryable = idempotent_methods(services)
    config: dict[str, object] = {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": []}
    if retryable:
        config["methodConfig"] = [
            {
                "name": retryable,
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    return json.dumps(config)


def open_channel(
    address: str,
    *,
    services: Sequence[ServiceDescriptor] = (),
    timeout_seconds: float = 30.0,
    stream_timeout_seconds: float | None = None,
) -> aio.Channel:
    """An insecure aio channel to a KTRDR service (the mesh runs on a private network).

    Every unary call gets ``timeout_seconds`` as its deadline unless it sets one; streams get
    ``stream_timeout_seconds`` when given (none by default: a replay may run for hours). Every
    call carries the current request id. Reads (HTTP GET in the contract) are retried on
    UNAVAILABLE; a dependency that died is reconnected to within 2 s of its return.
    """
    options = [
        ("grpc.service_config", service_config(services)),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.dns_min_time_between_resolutions_ms", DNS_MIN_SECONDS_BETWEEN_RESOLUTIONS * 1000),
        ("grpc.max_metadata_size", MAX_METADATA_BYTES),
        ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        # A dependency that restarts is found again within a second or two (gRPC's default
        # backoff grows to two minutes while it is down).
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ]
    return aio.insecure_channel(
        address,
        options=options,
        interceptors=client_interceptors(timeout_seconds, stream_timeout_seconds),
    )


# How long a caller waits for a dependency that is reconnecting (a restarted service is found
# again within the channels' 2 s reconnect backoff) before a call that would otherwise fail at
# once; past it the call is made and fails with UNAVAILABLE naming the dependency.
CONNECT_WAIT_SECONDS = 5.0


async def wait_connected(
    channels: Sequence[aio.Channel], *, seconds: float = CONNECT_WAIT_SECONDS
) -> None:
    """Wait (at most ``seconds``) until every channel is connected; never fails by itself."""
    waits = [asyncio.wait_for(c.channel_ready(), seconds) for c in channels]
    await asyncio.gather(*waits, return_exceptions=True)
