"""Historical bars over any range: qualified contract, head timestamp, paced chunks, retries.

``HistoricalService.stream`` qualifies the contract (cached), looks up IB's head timestamp
(cached for ``cache_seconds``) and starts the range there, plans the requests
(:mod:`~ktrdr_ib_gateway.domain.chunks`), and sends them one after the other through the
pacing limiter, yielding each chunk's bars as soon as it arrives. Per chunk:

* IB 162 "no data" (weekends, holidays) -> the chunk is empty, the stream goes on;
* IB 162 pacing violation (it should not happen; it is counted) -> wait ``identical window *
  2**n`` and retry, up to ``pacing_retries`` times, then ``IB-004`` RESOURCE_EXHAUSTED;
* the connection drops -> wait for the reconnection (``reconnect_wait_seconds``) and send the
  chunk again, up to ``chunk_retries`` times; bars already streamed are never sent twice, so
  the caller's series has no hole and no duplicate;
* no answer within ``historical_timeout_seconds`` (ib_async's empty list) -> ``IB-009``
  DEADLINE_EXCEEDED, never "no data".
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable

import structlog

from ktrdr_core.dates import to_us
from ktrdr_core.errors import (
    KtrdrError,
    NotFoundError,
    UnavailableError,
    ValidationError,
    suggest,
)
from ktrdr_ib_gateway.domain import errors as codes
from ktrdr_ib_gateway.domain.bars import BarBatch, to_batch
from ktrdr_ib_gateway.domain.chunks import BarSize, Chunk, plan_chunks
from ktrdr_ib_gateway.domain.connection import ConnectionManager
from ktrdr_ib_gateway.domain.contracts import (
    ContractSpec,
    QualifiedContract,
    SecType,
    front_month,
)
from ktrdr_ib_gateway.domain.errors import (
    IbDisconnectedError,
    IbErrorKind,
    IbRequestError,
    IbTimeoutError,
)
from ktrdr_ib_gateway.domain.pacing import PacedRequest, PacingLimiter
from ktrdr_ib_gateway.domain.ports import IbMarketData, RawBar
from ktrdr_ib_gateway.domain.telemetry import NullTelemetry, Telemetry

log = structlog.get_logger(__name__)

# UTC weekdays (Monday = 0) with no bars at all, per security type (one-day chunks skip them).
CLOSED_WEEKDAYS: dict[SecType, frozenset[int]] = {
    SecType.CASH: frozenset({5}),
    SecType.FUT: frozenset({5}),
    SecType.STK: frozenset({6}),
    SecType.IND: frozenset({5, 6}),
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RequestPolicy:
    """Timeouts and retry budgets (from the service settings)."""

    request_timeout_seconds: float = 30.0
    historical_timeout_seconds: float = 60.0
    connect_wait_seconds: float = 2.0
    reconnect_wait_seconds: float = 30.0
    pacing_retries: int = 3
    chunk_retries: int = 5
    cache_seconds: float = 3_600.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalQuery:
    spec: ContractSpec
    bar: BarSize
    start_us: int
    end_us: int
    what_to_show: str
    use_rth: bool = False


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class IbContext:
    """What every part of the gateway talks to IB through."""

    api: IbMarketData
    connection: ConnectionManager
    limiter: PacingLimiter
    policy: RequestPolicy
    telemetry: Telemetry = dataclasses.field(default_factory=NullTelemetry)


class ContractBook:
    """Qualified contracts and head timestamps, cached for ``policy.cache_seconds``."""

    def __init__(
        self,
        ctx: IbContext,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self._ctx = ctx
        self._clock = clock
        self._wall = wall
        self._contracts: dict[ContractSpec, tuple[float, QualifiedContract]] = {}
        self._heads: dict[tuple[int, str, bool], tuple[float, dt.datetime]] = {}

    def known_symbols(self) -> list[str]:
        return sorted({spec.symbol for spec in self._contracts})

    async def qualify(self, spec: ContractSpec) -> QualifiedContract:
        """The one IB contract for ``spec`` (``IB-006`` unknown, ``IB-011`` ambiguous)."""
        cached = self._contracts.get(spec)
        if cached is not None and self._clock() - cached[0] < self._ctx.policy.cache_seconds:
            return cached[1]
        await self._ctx.connection.ready(self._ctx.policy.connect_wait_seconds)
        timeout = self._ctx.policy.request_timeout_seconds
        try:
            with codes.ib_call(contract=spec.display, what="contract details", timeout=timeout):
                found = await self._ctx.api.contract_details(spec, timeout=timeout)
        except NotFoundError as exc:
            hints = suggest(spec.symbol, self.known_symbols())
            raise NotFoundError(exc.code, exc.message, field="symbol", suggestions=hints) from None
        contract = self._choose(spec, found)
        self._contracts[spec] = (self._clock(), contract)
        return contract

    def _choose(self, spec: ContractSpec, found: list[QualifiedContract]) -> QualifiedContract:
        if not found:
            raise NotFoundError(
                codes.NO_SECURITY_DEFINITION,
                f"IB knows no contract {spec.display}; check the symbol, instrument type, "
                "exchange and currency.",
                field="symbol",
                suggestions=suggest(spec.symbol, self.known_symbols()),
            )
        if len(found) == 1:
            return found[0]
        if spec.sec_type is SecType.FUT and not spec.contract_month:
            return front_month(found, self._wall().date())
        names = sorted({c.local_symbol or str(c.con_id) for c in found})
        raise ValidationError(
            codes.AMBIGUOUS_CONTRACT,
            f"{spec.display} matches {len(found)} IB contracts ({', '.join(names[:8])}); "
            "give the exchange, currency or contract month.",
            field="symbol",
            suggestions=names[:8],
        )

    async def head_timestamp(
        self, contract: QualifiedContract, *, what_to_show: str, use_rth: bool
    ) -> dt.datetime:
        """The earliest time IB has ``what_to_show`` data for (``IB-005`` when none)."""
        key = (contract.con_id, what_to_show, use_rth)
        cached = self._heads.get(key)
        if cached is not None and self._clock() - cached[0] < self._ctx.policy.cache_seconds:
            return cached[1]
        display = contract.spec.display
        what = f"the head timestamp of {what_to_show} data"
        timeout = self._ctx.policy.request_timeout_seconds
        await self._ctx.connection.ready(self._ctx.policy.connect_wait_seconds)
        request = PacedRequest(
            contract=contract.pacing_id, tick_type=what_to_show, identity=f"head|{key}"
        )
        with codes.ib_call(contract=display, what=what, timeout=timeout):
            async with self._ctx.limiter.slot(request) as waited:
                self._ctx.telemetry.pacing_waited(waited)
                self._ctx.telemetry.request_sent("head_timestamp")
                head = await self._ctx.api.head_timestamp(
                    contract, what_to_show=what_to_show, use_rth=use_rth, timeout=timeout
                )
        self._heads[key] = (self._clock(), head)
        return head


class HistoricalService:
    """Streams historical bars for a range (see the module docstring)."""

    def __init__(
        self,
        ctx: IbContext,
        contracts: ContractBook,
        *,
        wall: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self._ctx = ctx
        self._contracts = contracts
        self._wall = wall

    async def stream(self, query: HistoricalQuery) -> AsyncIterator[BarBatch]:
        """Bars of ``[query.start_us, query.end_us)``, one batch per IB request that had any."""
        contract = await self._contracts.qualify(query.spec)
        head = await self._contracts.head_timestamp(
            contract, what_to_show=query.what_to_show, use_rth=query.use_rth
        )
        start = max(query.start_us, to_us(head))
        closed = CLOSED_WEEKDAYS.get(query.spec.sec_type, frozenset())
        if query.use_rth and query.spec.sec_type is SecType.STK:
            closed = closed | {5}
        plan = plan_chunks(
            start,
            query.end_us,
            bar=query.bar,
            now_us=to_us(self._wall()),
            closed_weekdays=closed,
        )
        log.info(
            "historical_plan",
            contract=contract.spec.display,
            timeframe=query.bar.timeframe,
            chunks=len(plan),
            head=head.isoformat(),
        )
        last: int | None = None
        for number, chunk in enumerate(plan, 1):
            raw = await self._fetch(contract, chunk, query)
            batch = to_batch(
                raw,
                bar=query.bar,
                sec_type=query.spec.sec_type,
                start_us=chunk.start_us,
                end_us=chunk.end_us,
                after_us=last,
            )
            if len(batch):
                last = int(batch.timestamps_us[-1])
                yield dataclasses.replace(batch, chunk=number, chunks=len(plan))

    async def _fetch(
        self, contract: QualifiedContract, chunk: Chunk, query: HistoricalQuery
    ) -> list[RawBar]:
        violations = disconnects = 0
        while True:
            await self._ctx.connection.ready(self._ctx.policy.connect_wait_seconds)
            try:
                return await self._send(contract, chunk, query)
            except IbRequestError as exc:
                kind = exc.kind
                if kind is IbErrorKind.NO_DATA:
                    return []
                if kind is IbErrorKind.PACING:
                    violations += 1
                    self._ctx.limiter.record_violation()
                    self._ctx.telemetry.pacing_violation()
                    if violations > self._ctx.policy.pacing_retries:
                        raise self._error(exc, contract) from None
                    await self._cool_down(violations, contract)
                    continue
                if kind is not IbErrorKind.CONNECTION:
                    raise self._error(exc, contract) from None
                disconnects = self._count_disconnect(disconnects, contract, chunk)
            except IbDisconnectedError:
                disconnects = self._count_disconnect(disconnects, contract, chunk)
            except IbTimeoutError:
                raise codes.timeout_error(
                    contract=contract.spec.display,
                    what=f"{query.bar.timeframe} bars",
                    seconds=self._ctx.policy.historical_timeout_seconds,
                ) from None
            await self._ctx.connection.ready(self._ctx.policy.reconnect_wait_seconds)

    async def _send(
        self, contract: QualifiedContract, chunk: Chunk, query: HistoricalQuery
    ) -> list[RawBar]:
        end = dt.datetime.fromtimestamp(chunk.request_end_us / 1e6, dt.UTC)
        identity = (
            f"{contract.pacing_id}|{chunk.request_end_us}|{chunk.duration}|"
            f"{query.bar.ib_setting}|{query.what_to_show}|{query.use_rth}"
        )
        request = PacedRequest(
            contract=contract.pacing_id, tick_type=query.what_to_show, identity=identity
        )
        async with self._ctx.limiter.slot(request) as waited:
            self._ctx.telemetry.pacing_waited(waited)
            self._ctx.telemetry.request_sent("historical")
            return await self._ctx.api.historical_bars(
                contract,
                end=end,
                duration=chunk.duration,
                bar_size=query.bar.ib_setting,
                what_to_show=query.what_to_show,
                use_rth=query.use_rth,
                timeout=self._ctx.policy.historical_timeout_seconds,
            )

    async def _cool_down(self, violations: int, contract: QualifiedContract) -> None:
        wait = self._ctx.limiter.rules.identical_seconds * 2 ** (violations - 1)
        log.warning(
            "ib_pacing_violation",
            contract=contract.spec.display,
            violations=violations,
            retry_in_seconds=round(wait, 3),
        )
        await asyncio.sleep(wait)

    def _count_disconnect(self, disconnects: int, contract: QualifiedContract, chunk: Chunk) -> int:
        if disconnects >= self._ctx.policy.chunk_retries:
            raise UnavailableError(
                codes.CONNECTION_LOST,
                f"The connection to TWS dropped {disconnects + 1} times while fetching "
                f"{contract.spec.display}; giving up on this range.",
                details={"dependency": "tws"},
            )
        log.warning(
            "ib_chunk_retry_after_disconnect",
            contract=contract.spec.display,
            chunk_end=dt.datetime.fromtimestamp(chunk.end_us / 1e6, dt.UTC).isoformat(),
        )
        return disconnects + 1

    @staticmethod
    def _error(exc: IbRequestError, contract: QualifiedContract) -> KtrdrError:
        return codes.to_domain_error(exc, contract=contract.spec.display, what="historical bars")
