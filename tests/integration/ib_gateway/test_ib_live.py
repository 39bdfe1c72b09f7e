"""Live bars through the gateway: keep-up-to-date and 5-second bars survive a reconnect, and a
silent feed raises the stall alarm."""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
import pytest

from ktrdr.ib_gateway.v1 import ib_gateway_pb2 as pb
from tests.faketws import FakeContract, FakeTws
from tests.integration.ib_gateway.support import eventually, ib_gateway, status

pytestmark = pytest.mark.integration

# A market open around the clock, so that no weekend interrupts fast-running live time.
ALWAYS = [
    FakeContract(1, "EUR", "CASH", "IDEALPRO", "USD", "always", base_price=1.1,
                 local_symbol="EUR.USD", min_tick=0.00005),
]  # fmt: skip


class Listener:
    """Reads a live stream in the background and keeps every bar stamp."""

    def __init__(self, call) -> None:
        self.call = call
        self.stamps: list[int] = []
        self.batches: list[int] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            async for reply in self.call:
                self.stamps.extend(reply.bars.timestamps_us)
                self.batches.append(len(reply.bars.timestamps_us))

    async def until(self, count: int) -> None:
        async def enough() -> bool:
            return len(self.stamps) >= count

        await eventually(enough, within=30)

    async def stop(self) -> None:
        self.call.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@contextlib.asynccontextmanager
async def live(scale: float, timeframe: str, *, reconnect_after: float = 0.05):
    async with (
        FakeTws(ALWAYS, time_scale=scale) as tws,
        ib_gateway(tws.port, time_scale=scale, reconnect_initial_seconds=reconnect_after) as stub,
    ):
        request = pb.StreamLiveBarsRequest(symbol="EURUSD", timeframe=timeframe)
        listener = Listener(stub.StreamLiveBars(request, timeout=60))
        try:
            yield tws, stub, listener
        finally:
            await listener.stop()


async def test_live_minute_bars_continue_after_a_reconnect_without_hole_or_duplicate():
    # The outage (0.3 s at 500x) lasts about 2.5 market minutes: bars close while disconnected.
    async with live(0.002, "1m", reconnect_after=0.3) as (tws, stub, listener):
        await listener.until(3)
        await tws.drop_connections()
        seen = len(listener.batches)
        await listener.until(len(listener.stamps) + 5)
        state = await status(stub)
    steps = np.diff(listener.stamps)
    assert (steps == 60_000_000).all(), steps  # every minute once, across the reconnect
    assert max(listener.batches[seen:]) >= 2  # the bars of the outage came in one batch
    assert state.reconnects == 1
    assert state.live_subscriptions[0].resubscriptions == 1


async def test_real_time_bars_resume_after_a_reconnect():
    async with live(0.02, "5s") as (tws, stub, listener):
        await listener.until(3)
        await tws.drop_connections()
        seen = len(listener.stamps)
        await listener.until(seen + 3)
        state = await status(stub)
    steps = np.diff(listener.stamps)
    assert (steps > 0).all() and (steps % 5_000_000 == 0).all()  # in order, on 5 s bars
    assert state.reconnects == 1 and state.live_subscriptions[0].resubscriptions == 1


async def test_a_silent_feed_raises_the_stall_alarm_until_bars_return():
    async with live(0.005, "1m") as (tws, stub, listener):
        await listener.until(1)
        tws.live_paused = True

        async def stalled() -> bool:
            subs = (await status(stub)).live_subscriptions
            return bool(subs) and subs[0].stalled

        await eventually(stalled)
        tws.live_paused = False
        seen = len(listener.stamps)
        await listener.until(seen + 1)

        async def resumed() -> bool:
            return not (await status(stub)).live_subscriptions[0].stalled

        await eventually(resumed)
