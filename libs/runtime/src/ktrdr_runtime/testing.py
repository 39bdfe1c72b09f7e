"""Test helpers: run a service in-process on port 0 (used by every servicer's tests)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from grpc import aio

from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.server import RunningServer, ServiceSpec, create_server


@contextlib.asynccontextmanager
async def serve_in_process(
    spec: ServiceSpec,  # type: ignore[type-arg]
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> AsyncIterator[tuple[RunningServer, aio.Channel]]:
    """Start ``spec`` on 127.0.0.1:0 with settings from ``environ`` (default: none) + overrides.

    Yields the running server and a channel to it (made by the runtime's channel factory).
    """
    settings = spec.settings_cls.from_env(environ or {}, **overrides)
    running = await create_server(spec, settings, address="127.0.0.1:0")
    channel = open_channel(running.address, services=spec.services, timeout_seconds=60)
    try:
        yield running, channel
    finally:
        await channel.close()
        await running.stop()
