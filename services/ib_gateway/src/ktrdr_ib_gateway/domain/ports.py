"""What the domain needs from IB, declared as Protocols (the ib_async adapter implements them).

Failures cross this boundary as the domain's own exceptions (``errors.IbRequestError``,
``IbTimeoutError``, ``IbDisconnectedError``, :class:`IbConnectError`), never as ib_async types,
so every rule about pacing, chunking, retries and stamps is testable without a socket.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from ktrdr_ib_gateway.domain.contracts import ContractSpec, QualifiedContract


class RawBar(NamedTuple):
    """One bar as IB sent it: ``stamp`` is a date (daily and longer) or an aware datetime."""

    stamp: dt.date | dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class IbConnectError(Exception):
    """A connection attempt failed; ``code`` is IB's error code when TWS gave one (e.g. 326)."""

    def __init__(self, message: str, *, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


# (request id, IB error code, message) for every error or notice TWS sends.
ErrorCallback = Callable[[int, int, str], None]


class IbConnection(Protocol):
    """The socket to TWS / IB Gateway."""

    async def connect(self, *, host: str, port: int, client_id: int, timeout: float) -> int:
        """Connect and complete the API handshake; return the server version.

        Raises :class:`IbConnectError` (refused, timed out, client id in use).
        """
        ...

    def disconnect(self) -> None: ...

    def is_connected(self) -> bool: ...

    async def wait_disconnected(self) -> None:
        """Return once the current connection has closed (immediately when not connected)."""
        ...

    def on_error(self, callback: ErrorCallback) -> None:
        """Call ``callback`` for every error, warning and farm message TWS sends."""
        ...


class LiveHandle(Protocol):
    """A running subscription; ``cancel`` is safe to call when already disconnected."""

    def cancel(self) -> None: ...


# Keep-up-to-date: (the last bars, True when the newest is a new bar).
BarsCallback = Callable[[Sequence[RawBar], bool], None]
# Real-time bars: one completed 5-second bar.
BarCallback = Callable[[RawBar], None]


@dataclasses.dataclass(frozen=True, slots=True)
class LiveStart:
    """A keep-up-to-date subscription and the history IB sent when it started."""

    handle: LiveHandle
    history: Sequence[RawBar]


class IbMarketData(Protocol):
    """Contract details, historical and live bars. Every call has a timeout."""

    async def contract_details(
        self, spec: ContractSpec, *, timeout: float
    ) -> list[QualifiedContract]: ...

    async def head_timestamp(
        self, contract: QualifiedContract, *, what_to_show: str, use_rth: bool, timeout: float
    ) -> dt.datetime: ...

    async def historical_bars(
        self,
        contract: QualifiedContract,
        *,
        end: dt.datetime | None,
        duration: str,
        bar_size: str,
        what_to_show: str,
        use_rth: bool,
        timeout: float,
    ) -> list[RawBar]:
        """Bars of one request; ``end=None`` means now.

        Raises ``IbTimeoutError`` when IB does not answer in ``timeout`` (ib_async's empty
        list), ``IbRequestError`` when TWS refuses, ``IbDisconnectedError`` on a closed socket.
        """
        ...

    async def current_time(self, *, timeout: float) -> dt.datetime: ...

    async def keep_up_to_date(
        self,
        contract: QualifiedContract,
        *,
        duration: str,
        bar_size: str,
        what_to_show: str,
        use_rth: bool,
        timeout: float,
        on_bars: BarsCallback,
    ) -> LiveStart: ...

    def realtime_bars(
        self,
        contract: QualifiedContract,
        *,
        what_to_show: str,
        use_rth: bool,
        on_bar: BarCallback,
        on_error: ErrorCallback,
    ) -> LiveHandle: ...


class IbApi(IbConnection, IbMarketData, Protocol):
    """Everything the gateway domain uses (one adapter implements it)."""
