"""Helpers of the IB gateway integration tests (the fake TWS and the service in-process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ktrdr.ib_gateway.v1 import ib_gateway_pb2, ib_gateway_pb2_grpc
from ktrdr_ib_gateway.app import SPEC
from ktrdr_runtime.testing import serve_in_process

# Market time runs 100x fast and IB's pacing windows shrink 100x (10 minutes -> 6 s), in the
# fake and in the gateway alike.
SCALE = 0.01
FAST = {
    "time_scale": SCALE,
    "pacing_margin_seconds": 0.005,
    "reconnect_initial_seconds": 0.05,
    "reconnect_max_seconds": 0.5,
    "connect_timeout_seconds": 2.0,
    "historical_timeout_seconds": 10.0,
}


class GatewayStub(ib_gateway_pb2_grpc.IbGatewayServiceStub):
    """The service's stub, and its address for other services to call."""

    def __init__(self, channel: Any, address: str) -> None:
        super().__init__(channel)
        self.address = address


@contextlib.asynccontextmanager
async def ib_gateway(port: int, **overrides: Any) -> AsyncIterator[GatewayStub]:
    """The gateway service in-process on a free port, pointed at TWS on ``port``."""
    settings = {**FAST, "ib_host": "127.0.0.1", "ib_port": port, **overrides}
    async with serve_in_process(SPEC, **settings) as (running, channel):
        yield GatewayStub(channel, running.address)


async def status(stub: Any) -> ib_gateway_pb2.GetStatusResponse:
    return await stub.GetStatus(ib_gateway_pb2.GetStatusRequest(), timeout=5)


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 20.0) -> None:
    """Poll ``check`` until it holds; fail (not on timing, on the outcome) after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def connected(stub: Any) -> None:
    async def up() -> bool:
        return (await status(stub)).connected

    await eventually(up)
