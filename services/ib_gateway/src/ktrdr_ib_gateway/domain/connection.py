"""The connection to TWS: reconnect with backoff and jitter, a circuit breaker, farm status.

:class:`ConnectionManager` keeps one connection up for the life of the service: it connects
with a timeout, and after a failure or a dropped connection tries again after
``initial * 2**n`` seconds (1 s, 2 s, 4 s ... capped), each delay scaled by a random factor
in ``[1 - jitter, 1 + jitter]`` so that many gateways do not retry in step. After
``breaker_failures`` consecutive failed attempts the circuit breaker opens: requests fail at
once with ``IB-002`` and no attempt is made for ``breaker_reset_seconds``; then one trial
attempt (half-open) closes it again or reopens it.

TWS's farm messages (2103-2108, 2157, 2158) and its own link to IB (1100 lost, 1101/1102
restored) are tracked for status; while the link is lost requests fail with ``IB-003``.
The manager never stops serving status, whatever TWS does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import random
import re
import time
from collections.abc import Awaitable, Callable

import structlog

from ktrdr_core.errors import UnavailableError
from ktrdr_ib_gateway.domain import errors as codes
from ktrdr_ib_gateway.domain.ports import IbConnectError, IbConnection
from ktrdr_ib_gateway.domain.telemetry import NullTelemetry, Telemetry

log = structlog.get_logger(__name__)


class ConnectionState(enum.StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class FarmState(enum.StrEnum):
    OK = "ok"
    BROKEN = "broken"
    INACTIVE = "inactive"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Exponential backoff with jitter: ``min(cap, initial * 2**attempt) * U(1-j, 1+j)``."""

    initial_seconds: float = 1.0
    cap_seconds: float = 60.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial_seconds <= 0:
            raise ValueError("initial_seconds was <= 0")
        if self.cap_seconds < self.initial_seconds:
            raise ValueError("cap_seconds was < initial_seconds")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter was not in [0, 1)")

    def delay(self, attempt: int, unit_random: float) -> float:
        """The wait before retry number ``attempt`` (0-based); ``unit_random`` in [0, 1)."""
        base = min(self.cap_seconds, self.initial_seconds * 2.0 ** min(attempt, 62))
        return base * (1 - self.jitter + 2 * self.jitter * unit_random)


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; half-open after ``reset_seconds``.

    Pure: every method takes the current (monotonic) time.
    """

    def __init__(self, *, failure_threshold: int = 5, reset_seconds: float = 30.0) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold was < 1")
        if reset_seconds <= 0:
            raise ValueError("reset_seconds was <= 0")
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.consecutive_failures = 0
        self.opened_at: float | None = None

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now < self.opened_at + self.reset_seconds:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def retry_at(self) -> float | None:
        """When an open breaker lets the next (trial) attempt through."""
        return None if self.opened_at is None else self.opened_at + self.reset_seconds

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self.opened_at = None

    def record_failure(self, now: float) -> None:
        self.consecutive_failures += 1
        if self.consecutive_failures >= self.failure_threshold:
            self.opened_at = now


_FARM_CODES: dict[int, tuple[str, FarmState]] = {
    2103: ("market data", FarmState.BROKEN),
    2104: ("market data", FarmState.OK),
    2105: ("historical data", FarmState.BROKEN),
    2106: ("historical data", FarmState.OK),
    2107: ("historical data", FarmState.INACTIVE),
    2108: ("market data", FarmState.INACTIVE),
    2157: ("security definitions", FarmState.BROKEN),
    2158: ("security definitions", FarmState.OK),
}
_FARM_NAME = re.compile(r"(?::|demand\.)\s*([\w.]+)\s*$")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FarmStatus:
    name: str
    kind: str
    state: FarmState
    code: int
    updated_at: dt.datetime


def parse_farm(code: int, message: str, at: dt.datetime) -> FarmStatus | None:
    """The farm a TWS farm message (2103-2108, 2157, 2158) reports on, else None."""
    known = _FARM_CODES.get(code)
    if known is None:
        return None
    match = _FARM_NAME.search(message)
    name = match.group(1) if match else known[0]
    return FarmStatus(name=name, kind=known[0], state=known[1], code=code, updated_at=at)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class IbErrorInfo:
    code: int
    message: str
    at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionConfig:
    """Where TWS is and how hard to try (validated by the service settings)."""

    host: str
    port: int
    client_id: int
    connect_timeout_seconds: float = 5.0
    backoff: Backoff = dataclasses.field(default_factory=Backoff)
    breaker_failures: int = 5
    breaker_reset_seconds: float = 30.0

    @property
    def trading_mode(self) -> str:
        """``paper`` or ``live`` from IB's default ports; never from the account."""
        return {7497: "paper", 4002: "paper", 7496: "live", 4001: "live"}.get(self.port, "unknown")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionStatus:
    state: ConnectionState
    host: str
    port: int
    client_id: int
    trading_mode: str
    server_version: int
    connected_since: dt.datetime | None
    breaker: BreakerState
    consecutive_failures: int
    next_attempt_at: dt.datetime | None
    reconnects: int
    ib_servers_reachable: bool
    farms: tuple[FarmStatus, ...]
    last_error: IbErrorInfo | None

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED


Listener = Callable[[], Awaitable[None]]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ConnectionManager:
    """Keeps the connection to TWS up (see the module docstring)."""

    def __init__(
        self,
        session: IbConnection,
        config: ConnectionConfig,
        *,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = _utcnow,
        unit_random: Callable[[], float] = random.random,
    ) -> None:
        self.session = session
        self.config = config
        self.breaker = CircuitBreaker(
            failure_threshold=config.breaker_failures, reset_seconds=config.breaker_reset_seconds
        )
        self._telemetry = telemetry or NullTelemetry()
        self._clock = clock
        self._wall = wall
        self._random = unit_random
        self.state = ConnectionState.DISCONNECTED
        self.server_version = 0
        self.connected_since: dt.datetime | None = None
        self.reconnects = 0
        self.ib_servers_reachable = True
        self.farms: dict[str, FarmStatus] = {}
        self.last_error: IbErrorInfo | None = None
        self._next_attempt: float | None = None
        self._ready = asyncio.Event()
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        session.on_error(self.handle_error)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start connecting in the background (returns at once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ib-connection")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.session.disconnect()
        self._set_state(ConnectionState.DISCONNECTED)

    def add_listener(self, listener: Listener) -> None:
        """Await ``listener()`` after every successful (re)connection."""
        self._listeners.append(listener)

    async def _run(self) -> None:
        attempt = 0
        while True:
            retry_at = self.breaker.retry_at()
            if self.breaker.state(self._clock()) is BreakerState.OPEN and retry_at is not None:
                await self._sleep_until(retry_at)
                continue
            if await self._attempt(attempt):
                attempt = 0
                await self._serve_connection()
                delay = self.config.backoff.delay(0, self._random())
            else:
                delay = self.config.backoff.delay(attempt, self._random())
                attempt += 1
            await self._sleep_until(self._clock() + delay)

    async def _attempt(self, attempt: int) -> bool:
        cfg = self.config
        self._set_state(ConnectionState.CONNECTING)
        try:
            self.server_version = await self.session.connect(
                host=cfg.host,
                port=cfg.port,
                client_id=cfg.client_id,
                timeout=cfg.connect_timeout_seconds,
            )
        except Exception as exc:  # IbConnectError, or anything unforeseen: never stop retrying
            code = exc.code if isinstance(exc, IbConnectError) else 0
            self.breaker.record_failure(self._clock())
            self._set_state(ConnectionState.DISCONNECTED)
            self._record_error(code, str(exc) or repr(exc))
            log.warning(
                "ib_connect_failed",
                host=cfg.host,
                port=cfg.port,
                client_id=cfg.client_id,
                attempt=attempt + 1,
                breaker=self.breaker.state(self._clock()).value,
                error=str(exc),
            )
            return False
        self.breaker.record_success()
        return True

    async def _serve_connection(self) -> None:
        cfg = self.config
        if self.connected_since is not None:
            self.reconnects += 1
        self.connected_since = self._wall()
        self.ib_servers_reachable = True
        self._set_state(ConnectionState.CONNECTED)
        log.info(
            "ib_connected",
            host=cfg.host,
            port=cfg.port,
            client_id=cfg.client_id,
            server_version=self.server_version,
            reconnects=self.reconnects,
        )
        for listener in list(self._listeners):
            try:
                await listener()
            except Exception as exc:  # a listener must not take the connection down
                log.warning("ib_reconnect_listener_failed", error=repr(exc))
        await self.session.wait_disconnected()
        self._set_state(ConnectionState.DISCONNECTED)
        self._record_error(0, "the connection to TWS closed")
        log.warning("ib_disconnected", host=cfg.host, port=cfg.port)

    async def _sleep_until(self, at: float) -> None:
        self._next_attempt = at
        try:
            await asyncio.sleep(max(0.0, at - self._clock()))
        finally:
            self._next_attempt = None

    def _set_state(self, state: ConnectionState) -> None:
        changed = (state is ConnectionState.CONNECTED) != (self.state is ConnectionState.CONNECTED)
        self.state = state
        if state is ConnectionState.CONNECTED:
            self._ready.set()
        else:
            self._ready.clear()
        if changed:
            self._telemetry.connection_changed(connected=state is ConnectionState.CONNECTED)

    # --- TWS messages -----------------------------------------------------------------------
    def handle_error(self, req_id: int, code: int, message: str) -> None:
        """Record farm status, IB link state and the last error from one TWS message."""
        farm = parse_farm(code, message, self._wall())
        if farm is not None:
            self.farms[farm.name] = farm
            return
        if code == codes.IB_CONNECTIVITY_LOST:
            self.ib_servers_reachable = False
        elif code in (codes.IB_CONNECTIVITY_RESTORED, codes.IB_CONNECTIVITY_RESTORED_DATA_LOST):
            self.ib_servers_reachable = True
            return
        if 2100 <= code < 2200:
            return  # other notices, not errors
        self._record_error(code, message)

    def _record_error(self, code: int, message: str) -> None:
        self.last_error = IbErrorInfo(code=code, message=message, at=self._wall())

    # --- for requests ---------------------------------------------------------------------
    async def ready(self, wait_seconds: float) -> None:
        """Return once connected to TWS with IB reachable, waiting up to ``wait_seconds``.

        Fails at once when no connection attempt is due within ``wait_seconds``.

        Raises
        ------
        UnavailableError
            ``IB-002`` at once while the breaker is open; ``IB-003`` when TWS has lost IB;
            ``IB-001`` when no connection came up in time.
        """
        if self.breaker.state(self._clock()) is BreakerState.OPEN:
            raise self._unavailable(codes.CIRCUIT_OPEN)
        due = self._next_attempt_seconds()
        if self.state is ConnectionState.DISCONNECTED and due is not None and due > wait_seconds:
            raise self._unavailable(codes.NOT_CONNECTED)  # no attempt before the wait ends
        try:
            await asyncio.wait_for(self._ready.wait(), wait_seconds)
        except TimeoutError:
            code = codes.CIRCUIT_OPEN if self._breaker_open() else codes.NOT_CONNECTED
            raise self._unavailable(code) from None
        if not self.ib_servers_reachable:
            raise UnavailableError(
                codes.CONNECTION_LOST,
                "TWS has lost its connection to IB's servers (IB error 1100); requests resume "
                "once TWS reports it restored.",
                details={"dependency": "tws"},
            )

    def _breaker_open(self) -> bool:
        return self.breaker.state(self._clock()) is BreakerState.OPEN

    def _unavailable(self, code: str) -> UnavailableError:
        cfg = self.config
        last = f" Last error: {self.last_error.message}." if self.last_error else ""
        due = self._next_attempt_seconds()
        retry = f" Next attempt in {due:.1f} s." if due is not None else ""
        if code == codes.CIRCUIT_OPEN:
            head = (
                f"The IB connection is suspended after {self.breaker.consecutive_failures} "
                f"failed attempts to reach TWS at {cfg.host}:{cfg.port} (circuit open)."
            )
        else:
            head = (
                f"Not connected to TWS / IB Gateway at {cfg.host}:{cfg.port} "
                f"(client id {cfg.client_id})."
            )
        return UnavailableError(code, head + last + retry, details={"dependency": "tws"})

    def _next_attempt_seconds(self) -> float | None:
        at = self._next_attempt
        if at is None and self._breaker_open():
            at = self.breaker.retry_at()
        return None if at is None else max(0.0, at - self._clock())

    def status(self) -> ConnectionStatus:
        cfg = self.config
        due = self._next_attempt_seconds()
        up = self.state is ConnectionState.CONNECTED
        return ConnectionStatus(
            state=self.state,
            host=cfg.host,
            port=cfg.port,
            client_id=cfg.client_id,
            trading_mode=cfg.trading_mode,
            server_version=self.server_version if up else 0,
            connected_since=self.connected_since if up else None,
            breaker=self.breaker.state(self._clock()),
            consecutive_failures=self.breaker.consecutive_failures,
            next_attempt_at=None if due is None else self._wall() + dt.timedelta(seconds=due),
            reconnects=self.reconnects,
            ib_servers_reachable=self.ib_servers_reachable,
            farms=tuple(sorted(self.farms.values(), key=lambda f: f.name)),
            last_error=self.last_error,
        )
