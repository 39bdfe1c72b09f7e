"""Live bars as a stream: keep-up-to-date bars and IB's 5-second real-time bars.

A bar is sent once it has closed: for keep-up-to-date bars when IB starts the next one, for
real-time bars as each arrives (IB sends them complete). Subscriptions outlive the connection:
after every reconnection they are renewed, and a renewed keep-up-to-date subscription first
sends the bars that closed while the connection was down (from the history IB sends when it
starts), so the stream has no hole and no duplicate. IB's real-time bars have no history: bars
of an outage are lost, and the stream resumes with the next bar.

Stall alarm: when no bar arrives within ``stall_factor`` (2) times the bar interval (times the
time scale), the subscription is marked stalled - a warning in the log, the
``live_stalled`` metric and ``stalled`` in GetStatus - until the next bar.

Bounds: at most ``max_subscriptions`` streams at once (``IB-014``), and at most
:data:`QUEUE_LIMIT` undelivered batches per stream (the oldest is dropped, with a warning).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence

import structlog

from ktrdr_core.errors import KtrdrError, ResourceExhaustedError
from ktrdr_ib_gateway.domain import errors as codes
from ktrdr_ib_gateway.domain.bars import BarBatch, to_batch
from ktrdr_ib_gateway.domain.chunks import REALTIME_5S, BarSize
from ktrdr_ib_gateway.domain.contracts import ContractSpec, QualifiedContract
from ktrdr_ib_gateway.domain.errors import IbRequestError
from ktrdr_ib_gateway.domain.historical import ContractBook, IbContext
from ktrdr_ib_gateway.domain.pacing import PacedRequest
from ktrdr_ib_gateway.domain.ports import LiveHandle, RawBar
from ktrdr_ib_gateway.domain.timestamps import bar_open_us

log = structlog.get_logger(__name__)

QUEUE_LIMIT = 10_000
_NEVER = -(2**63)
_FOREVER = 2**63 - 1


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LiveQuery:
    spec: ContractSpec
    bar: BarSize
    what_to_show: str
    use_rth: bool = False


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LiveInfo:
    """One subscription, for status."""

    symbol: str
    timeframe: str
    last_bar_us: int | None
    stalled: bool
    resubscriptions: int


class _Subscription:
    """One stream's state: what it asked for, what it sent, its queue of closed bars."""

    def __init__(self, query: LiveQuery, contract: QualifiedContract) -> None:
        self.query = query
        self.contract = contract
        self.queue: asyncio.Queue[BarBatch | KtrdrError] = asyncio.Queue()
        self.last_us: int | None = None
        self.started = False  # the first history arrived (later ones fill outages)
        self.opened = False  # subscribed at least once (so renewed after a reconnection)
        self.stalled = False
        self.resubscriptions = 0
        self.handle: LiveHandle | None = None

    def info(self) -> LiveInfo:
        return LiveInfo(
            symbol=self.query.spec.symbol,
            timeframe=self.query.bar.timeframe,
            last_bar_us=self.last_us,
            stalled=self.stalled,
            resubscriptions=self.resubscriptions,
        )

    def emit(self, bars: Sequence[RawBar]) -> None:
        batch = to_batch(
            bars,
            bar=self.query.bar,
            sec_type=self.query.spec.sec_type,
            start_us=_NEVER,
            end_us=_FOREVER,
            after_us=self.last_us,
        )
        if not len(batch):
            return
        self.last_us = int(batch.timestamps_us[-1])
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.queue.get_nowait()
            log.warning("live_queue_full", symbol=self.query.spec.symbol, dropped_batches=1)
        self.queue.put_nowait(batch)

    def on_history(self, history: Sequence[RawBar]) -> None:
        """Bars IB sent when the subscription (re)started; all but the last have closed."""
        closed = list(history[:-1])
        if self.started:
            self.emit(closed)  # bars that closed while disconnected
        elif closed:  # a new stream starts with the next bar to close: skip the history
            q = self.query
            self.last_us = bar_open_us(closed[-1].stamp, bar=q.bar, sec_type=q.spec.sec_type)
        self.started = True

    def on_update(self, tail: Sequence[RawBar], has_new_bar: bool) -> None:
        if has_new_bar and len(tail) >= 2:
            self.emit([tail[-2]])

    def on_realtime(self, bar: RawBar) -> None:
        self.started = True
        self.emit([bar])

    def on_error(self, req_id: int, code: int, message: str) -> None:
        if 2100 <= code < 2200:
            return
        error = codes.to_domain_error(
            IbRequestError(code, message), contract=self.contract.spec.display, what="live bars"
        )
        self.queue.put_nowait(error)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


class LiveService:
    """Serves StreamLiveBars (see the module docstring)."""

    def __init__(
        self,
        ctx: IbContext,
        contracts: ContractBook,
        *,
        time_scale: float = 1.0,
        stall_factor: float = 2.0,
        max_subscriptions: int = 20,
    ) -> None:
        if max_subscriptions < 1:
            raise ValueError("max_subscriptions was < 1")
        self._ctx = ctx
        self._contracts = contracts
        self._time_scale = time_scale
        self._stall_factor = stall_factor
        self._max = max_subscriptions
        self._subs: list[_Subscription] = []
        ctx.connection.add_listener(self._resubscribe_all)

    def subscriptions(self) -> list[LiveInfo]:
        return [s.info() for s in self._subs]

    async def stream(self, query: LiveQuery) -> AsyncIterator[BarBatch]:
        """Closed bars of ``query`` as they come, until the caller stops listening."""
        if len(self._subs) >= self._max:
            raise ResourceExhaustedError(
                codes.TOO_MANY_SUBSCRIPTIONS,
                f"{len(self._subs)} live streams are open; the limit is {self._max}.",
            )
        contract = await self._contracts.qualify(query.spec)
        sub = _Subscription(query, contract)
        self._subs.append(sub)
        try:
            await self._open(sub)
            async for batch in self._drain(sub):
                yield batch
        finally:
            self._subs.remove(sub)
            sub.cancel()

    async def _open(self, sub: _Subscription) -> None:
        await self._ctx.connection.ready(self._ctx.policy.connect_wait_seconds)
        query, contract = sub.query, sub.contract
        if query.bar is REALTIME_5S:
            sub.handle = self._ctx.api.realtime_bars(
                contract,
                what_to_show=query.what_to_show,
                use_rth=query.use_rth,
                on_bar=sub.on_realtime,
                on_error=sub.on_error,
            )
            sub.opened = True
            return
        identity = f"live|{contract.pacing_id}|{query.bar.ib_setting}|{query.what_to_show}"
        request = PacedRequest(
            contract=contract.pacing_id, tick_type=query.what_to_show, identity=identity
        )
        duration = f"{query.bar.chunk_days} D" if query.bar.intraday else "1 Y"
        timeout = self._ctx.policy.historical_timeout_seconds
        what = f"live {query.bar.timeframe} bars"
        with codes.ib_call(contract=contract.spec.display, what=what, timeout=timeout):
            async with self._ctx.limiter.slot(request) as waited:
                self._ctx.telemetry.pacing_waited(waited)
                self._ctx.telemetry.request_sent("live")
                start = await self._ctx.api.keep_up_to_date(
                    contract,
                    duration=duration,
                    bar_size=query.bar.ib_setting,
                    what_to_show=query.what_to_show,
                    use_rth=query.use_rth,
                    timeout=timeout,
                    on_bars=sub.on_update,
                )
        sub.handle = start.handle
        sub.opened = True
        sub.on_history(start.history)

    async def _resubscribe_all(self) -> None:
        for sub in [s for s in self._subs if s.opened]:
            sub.cancel()
            try:
                await self._open(sub)
            except KtrdrError as exc:
                sub.queue.put_nowait(exc)
                continue
            sub.resubscriptions += 1
            log.info(
                "live_resubscribed",
                symbol=sub.query.spec.symbol,
                timeframe=sub.query.bar.timeframe,
                resubscriptions=sub.resubscriptions,
            )

    async def _drain(self, sub: _Subscription) -> AsyncIterator[BarBatch]:
        stall_after = self._stall_factor * sub.query.bar.seconds * self._time_scale
        while True:
            try:
                item = await asyncio.wait_for(sub.queue.get(), stall_after)
            except TimeoutError:
                self._set_stalled(sub, True, stall_after)
                continue
            if isinstance(item, KtrdrError):
                raise item
            self._set_stalled(sub, False, stall_after)
            yield item

    def _set_stalled(self, sub: _Subscription, stalled: bool, after: float) -> None:
        if sub.stalled == stalled:
            return
        sub.stalled = stalled
        symbol, timeframe = sub.query.spec.symbol, sub.query.bar.timeframe
        self._ctx.telemetry.live_stalled(symbol=symbol, timeframe=timeframe, stalled=stalled)
        if stalled:
            log.warning("live_bars_stalled", symbol=symbol, timeframe=timeframe, no_bar_for_s=after)
        else:
            log.info("live_bars_resumed", symbol=symbol, timeframe=timeframe)
