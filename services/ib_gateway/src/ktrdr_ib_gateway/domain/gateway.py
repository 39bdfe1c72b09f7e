"""The IB gateway as one object: connection, pacing, contracts, historical and live bars.

:class:`IbGateway` is what the gRPC servicer calls. Requests arrive as plain values
(:func:`historical_query`, :func:`live_query` validate them); every error is a domain error
with an ``IB-*`` code. ``status`` never raises and never waits, so it keeps answering while
TWS is down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import AsyncIterator

from ktrdr_core.dates import parse_date, to_us
from ktrdr_core.errors import ValidationError
from ktrdr_ib_gateway.domain import errors as codes
from ktrdr_ib_gateway.domain.bars import BarBatch
from ktrdr_ib_gateway.domain.chunks import REALTIME_5S, bar_size_for
from ktrdr_ib_gateway.domain.connection import (
    BreakerState,
    ConnectionConfig,
    ConnectionManager,
    ConnectionStatus,
)
from ktrdr_ib_gateway.domain.contracts import (
    ContractSpec,
    QualifiedContract,
    SecType,
    check_what_to_show,
    resolve,
)
from ktrdr_ib_gateway.domain.errors import IbDisconnectedError, IbRequestError, IbTimeoutError
from ktrdr_ib_gateway.domain.historical import (
    ContractBook,
    HistoricalQuery,
    HistoricalService,
    IbContext,
    RequestPolicy,
)
from ktrdr_ib_gateway.domain.live import LiveInfo, LiveQuery, LiveService
from ktrdr_ib_gateway.domain.pacing import PacingBudget, PacingLimiter, PacingRules
from ktrdr_ib_gateway.domain.ports import IbApi
from ktrdr_ib_gateway.domain.telemetry import NullTelemetry, Telemetry

HEALTH_TIMEOUT_SECONDS = 5.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ContractRequest:
    """A symbol and the optional fields that pin down its IB contract."""

    symbol: str
    sec_type: SecType | None = None
    exchange: str = ""
    currency: str = ""
    contract_month: str = ""

    def spec(self) -> ContractSpec:
        return resolve(
            self.symbol,
            self.sec_type,
            exchange=self.exchange,
            currency=self.currency,
            contract_month=self.contract_month,
        )


def historical_query(
    contract: ContractRequest,
    timeframe: str,
    *,
    start_date: str,
    end_date: str = "",
    what_to_show: str = "",
    use_rth: bool = False,
    now: dt.datetime | None = None,
) -> HistoricalQuery:
    """A validated historical request; ``end_date`` defaults to now.

    Raises
    ------
    ValidationError
        ``IB-007`` bad timeframe, ``IB-008`` bad or empty range, ``IB-010`` bad contract fields.
    """
    spec = contract.spec()
    bar = bar_size_for(timeframe)
    start = parse_date(start_date, "start_date", code=codes.INVALID_RANGE)
    if start is None:
        raise ValidationError(
            codes.INVALID_RANGE, "'start_date' is required for historical bars.", field="start_date"
        )
    end = parse_date(end_date, "end_date", code=codes.INVALID_RANGE)
    end = end or now or dt.datetime.now(dt.UTC)
    if start >= end:
        raise ValidationError(
            codes.INVALID_RANGE,
            f"'start_date' {start.isoformat()} is not before 'end_date' {end.isoformat()}.",
            field="start_date",
        )
    return HistoricalQuery(
        spec=spec,
        bar=bar,
        start_us=to_us(start),
        end_us=to_us(end),
        what_to_show=check_what_to_show(what_to_show, spec.sec_type),
        use_rth=use_rth,
    )


def live_query(
    contract: ContractRequest, timeframe: str, *, what_to_show: str = "", use_rth: bool = False
) -> LiveQuery:
    """A validated live request (``5s`` real-time bars or keep-up-to-date bars)."""
    spec = contract.spec()
    bar = bar_size_for(timeframe, live=True)
    what = check_what_to_show(what_to_show, spec.sec_type)
    if bar is REALTIME_5S and what == "BID_ASK":
        raise ValidationError(
            codes.INVALID_CONTRACT,
            "IB's 5-second real-time bars offer TRADES, MIDPOINT, BID or ASK, not BID_ASK.",
            field="what_to_show",
            suggestions=["MIDPOINT"],
        )
    return LiveQuery(spec=spec, bar=bar, what_to_show=what, use_rth=use_rth)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GatewayConfig:
    connection: ConnectionConfig
    policy: RequestPolicy = dataclasses.field(default_factory=RequestPolicy)
    pacing: PacingRules = dataclasses.field(default_factory=PacingRules)
    time_scale: float = 1.0
    max_live_subscriptions: int = 20


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GatewayStatus:
    connection: ConnectionStatus
    pacing: PacingBudget
    live: tuple[LiveInfo, ...]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    healthy: bool
    message: str
    round_trip_ms: float
    breaker: BreakerState


class IbGateway:
    """Connection, pacing, contracts, historical and live bars over one :class:`IbApi`."""

    def __init__(
        self, api: IbApi, config: GatewayConfig, *, telemetry: Telemetry | None = None
    ) -> None:
        telemetry = telemetry or NullTelemetry()
        self._api = api
        self._health_lock = asyncio.Lock()  # ib_async keys its time request by name: one at a time
        self.config = config
        self.connection = ConnectionManager(api, config.connection, telemetry=telemetry)
        self.limiter = PacingLimiter(
            config.pacing.scaled(config.time_scale), time_scale=config.time_scale
        )
        ctx = IbContext(
            api=api,
            connection=self.connection,
            limiter=self.limiter,
            policy=config.policy,
            telemetry=telemetry,
        )
        self.contracts = ContractBook(ctx)
        self.historical = HistoricalService(ctx, self.contracts)
        self.live = LiveService(
            ctx,
            self.contracts,
            time_scale=config.time_scale,
            max_subscriptions=config.max_live_subscriptions,
        )

    def start(self) -> None:
        """Start connecting in the background."""
        self.connection.start()

    async def stop(self) -> None:
        await self.connection.stop()

    def status(self) -> GatewayStatus:
        return GatewayStatus(
            connection=self.connection.status(),
            pacing=self.limiter.budget(),
            live=tuple(self.live.subscriptions()),
        )

    async def health(self) -> HealthReport:
        """A round trip to TWS; never raises."""
        status = self.connection.status()
        if not status.connected:
            last = f": {status.last_error.message}" if status.last_error else ""
            return self._unhealthy(f"not connected to TWS{last}", status)
        async with self._health_lock:
            started = time.perf_counter()
            try:
                await self._api.current_time(timeout=HEALTH_TIMEOUT_SECONDS)
            except (IbTimeoutError, IbDisconnectedError, IbRequestError) as exc:
                return self._unhealthy(f"TWS did not answer ({type(exc).__name__})", status)
            round_trip = (time.perf_counter() - started) * 1000
        problems = [
            f"{f.kind} farm {f.name} broken" for f in status.farms if f.state.value == "broken"
        ]
        if not status.ib_servers_reachable:
            problems.insert(0, "TWS has lost IB's servers (1100)")
        message = "; ".join(problems) or "ok"
        return HealthReport(
            healthy=not problems, message=message, round_trip_ms=round_trip, breaker=status.breaker
        )

    @staticmethod
    def _unhealthy(message: str, status: ConnectionStatus) -> HealthReport:
        return HealthReport(
            healthy=False, message=message, round_trip_ms=0.0, breaker=status.breaker
        )

    async def qualify(self, contract: ContractRequest) -> QualifiedContract:
        return await self.contracts.qualify(contract.spec())

    async def head_timestamp(
        self, contract: ContractRequest, *, what_to_show: str = "", use_rth: bool = False
    ) -> dt.datetime:
        spec = contract.spec()
        qualified = await self.contracts.qualify(spec)
        what = check_what_to_show(what_to_show, spec.sec_type)
        return await self.contracts.head_timestamp(qualified, what_to_show=what, use_rth=use_rth)

    def stream_historical(self, query: HistoricalQuery) -> AsyncIterator[BarBatch]:
        return self.historical.stream(query)

    def stream_live(self, query: LiveQuery) -> AsyncIterator[BarBatch]:
        return self.live.stream(query)
