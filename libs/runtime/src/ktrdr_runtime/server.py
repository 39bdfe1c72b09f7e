"""The one bootstrap every KTRDR service runs.

``create_server`` builds a started grpc.aio server (health, reflection, interceptors) and is what
tests use, binding port 0. ``main`` is what ``python -m ktrdr_<service>`` calls: JSON logs,
settings validated from the environment, Prometheus metrics, and SIGTERM/SIGINT ->
NOT_SERVING -> ``stop(grace)``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog
from google.protobuf.descriptor import ServiceDescriptor
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from ktrdr_runtime.interceptors import ServerInterceptor
from ktrdr_runtime.limits import MAX_MESSAGE_BYTES, MAX_METADATA_BYTES
from ktrdr_runtime.logging import configure_logging
from ktrdr_runtime.settings import ServiceSettings, SettingsError

log = structlog.get_logger("ktrdr.server")

S = TypeVar("S", bound=ServiceSettings)
Cleanup = Callable[[], Awaitable[None]]
# Registers the servicers on the server; may return a coroutine function run at shutdown.
Setup = Callable[[aio.Server, S], Awaitable[Cleanup | None]]


@dataclasses.dataclass(frozen=True)
class ServiceSpec(Generic[S]):
    """What a service is: its name, settings class, contracts and servicer setup."""

    name: str
    settings_cls: type[S]
    services: Sequence[ServiceDescriptor]
    setup: Setup[S]


@dataclasses.dataclass
class RunningServer:
    server: aio.Server
    port: int
    health: health_aio.HealthServicer
    spec: ServiceSpec  # type: ignore[type-arg]
    grace_seconds: float
    cleanup: Cleanup | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """NOT_SERVING first (so balancers drain), then stop with the grace period."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.grace_seconds)
        if self.cleanup is not None:
            await self.cleanup()


class StartupError(Exception):
    """The service cannot start (port in use, bad settings); the message says why."""


async def create_server(
    spec: ServiceSpec[S], settings: S, *, address: str | None = None
) -> RunningServer:
    """Build and start the server; ``address`` defaults to the settings' host:port."""
    server = aio.server(
        interceptors=[ServerInterceptor(spec.name)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.so_reuseport", 0),
            # Clients re-resolve and rebalance after this; calls in flight are not cut short.
            ("grpc.max_connection_age_ms", int(settings.max_connection_age_seconds * 1000)),
        ],
    )
    cleanup = await spec.setup(server, settings)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    names = [s.full_name for s in spec.services]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    bind = address or f"{settings.host}:{settings.port}"
    try:
        port = server.add_insecure_port(bind)
    except RuntimeError as exc:
        raise StartupError(f"{spec.name}: cannot listen on {bind} (port in use?): {exc}") from exc
    if port == 0:
        raise StartupError(f"{spec.name}: cannot listen on {bind} (port in use?)")
    await server.start()
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, health, spec, settings.grace_seconds, cleanup)


def _start_metrics(settings: ServiceSettings) -> int | None:
    from prometheus_client import start_http_server

    try:
        httpd, _ = start_http_server(settings.metrics_port, addr=settings.host)
    except OSError as exc:
        raise StartupError(
            f"metrics: cannot listen on {settings.host}:{settings.metrics_port}: {exc}"
        ) from exc
    return int(httpd.server_port)


async def serve(spec: ServiceSpec[S], settings: S) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    running = await create_server(spec, settings)
    metrics_port = _start_metrics(settings)
    log.info(
        "service_started",
        address=f"{settings.host}:{running.port}",
        metrics_port=metrics_port,
        services=[s.full_name for s in spec.services],
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server_done = asyncio.ensure_future(running.server.wait_for_termination())
    stop_wait = asyncio.ensure_future(stop.wait())
    await asyncio.wait({server_done, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    log.info("service_stopping", grace_seconds=settings.grace_seconds)
    await running.stop()
    server_done.cancel()
    stop_wait.cancel()
    log.info("service_stopped")


def main(spec: ServiceSpec[S]) -> None:
    """Entry point of ``python -m ktrdr_<service>``; exits 2 on bad settings, 3 on start-up."""
    try:
        settings = spec.settings_cls.from_env()
    except SettingsError as exc:
        configure_logging(spec.name)
        log.error("invalid_settings", error=str(exc))
        sys.exit(2)
    configure_logging(spec.name, settings.log_level)
    try:
        asyncio.run(serve(spec, settings))
    except StartupError as exc:
        log.error("startup_failed", error=str(exc))
        sys.exit(3)
