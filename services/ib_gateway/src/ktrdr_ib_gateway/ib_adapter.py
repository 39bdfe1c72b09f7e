"""The domain's :class:`~ktrdr_ib_gateway.domain.ports.IbApi` over ib_async (the only module
that imports it).

* Only ib_async's ``*Async`` methods, awaited on the service's own event loop (never the sync
  API, never nest_asyncio).
* ``RaiseRequestErrors`` is on, so TWS's refusals arrive as ``RequestError`` and become
  :class:`~ktrdr_ib_gateway.domain.errors.IbRequestError`; a closed socket
  (``ConnectionError``) becomes ``IbDisconnectedError``.
* ``reqHistoricalDataAsync`` returns an empty list when its timeout expires (it cancels the
  request itself); an empty answer that took the whole timeout becomes ``IbTimeoutError`` -
  a real "no data" arrives as IB error 162 instead. Calls without a timeout of their own
  (contract details, head timestamp, current time) are wrapped in ``asyncio.wait_for``.
* The connection is read-only and fetches nothing at start-up but positions (no account
  updates, orders or executions), so no account id is ever sent. ib_async's loggers are
  filtered so that an account id (``U1234567``, ``DU1234567`` ...) never reaches a log, and they
  never log below WARNING (their DEBUG lines echo every message, accounts included).
* A client id already in use (IB 326) fails the connect at once instead of waiting out the
  connect timeout (ib_async otherwise waits).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from ib_async import IB, BarDataList, Contract, ContractDetails, RealTimeBarList, RequestError
from ib_async.ib import StartupFetch

from ktrdr_ib_gateway.domain.contracts import ContractSpec, QualifiedContract, SecType
from ktrdr_ib_gateway.domain.errors import (
    IB_CLIENT_ID_IN_USE,
    IbDisconnectedError,
    IbRequestError,
    IbTimeoutError,
)
from ktrdr_ib_gateway.domain.ports import (
    BarCallback,
    BarsCallback,
    ErrorCallback,
    IbConnectError,
    LiveStart,
    RawBar,
)

IB_LOGGERS = ("ib_async", "ib_async.client", "ib_async.wrapper", "ib_async.ib", "ib_async.Decoder")
_ACCOUNT = re.compile(r"\b(?:DU|DF|DI|U|F|I)\d{5,9}\b")
_TIMED_OUT = 0.98  # an empty answer after this share of the timeout is a timeout


class AccountRedactor(logging.Filter):
    """Masks IB account ids (and any account TWS announced) in ib_async's log records."""

    def __init__(self) -> None:
        super().__init__()
        self.accounts: set[str] = set()

    def redact(self, text: str) -> str:
        for account in self.accounts:
            text = text.replace(account, "[ACCOUNT]")
        return _ACCOUNT.sub("[ACCOUNT]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        return True


def _install_redactor() -> AccountRedactor:
    redactor = AccountRedactor()
    for name in IB_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
        logger.addFilter(redactor)
    return redactor


def to_ib_contract(contract: QualifiedContract | ContractSpec) -> Contract:
    spec = contract.spec if isinstance(contract, QualifiedContract) else contract
    ib = Contract(
        secType=str(spec.sec_type),
        symbol=spec.symbol,
        exchange=spec.exchange,
        currency=spec.currency,
        lastTradeDateOrContractMonth=spec.contract_month,
    )
    if isinstance(contract, QualifiedContract):
        ib.conId = contract.con_id
        ib.localSymbol = contract.local_symbol
        ib.primaryExchange = contract.primary_exchange
        ib.lastTradeDateOrContractMonth = contract.last_trade_date or spec.contract_month
    return ib


def from_details(spec: ContractSpec, details: ContractDetails) -> QualifiedContract:
    c = details.contract
    assert c is not None
    resolved = ContractSpec(
        symbol=c.symbol or spec.symbol,
        sec_type=SecType(c.secType) if c.secType in SecType.__members__ else spec.sec_type,
        exchange=spec.exchange,
        currency=c.currency or spec.currency,
        contract_month=spec.contract_month,
    )
    return QualifiedContract(
        con_id=int(c.conId),
        spec=resolved,
        local_symbol=c.localSymbol,
        long_name=details.longName,
        time_zone=details.timeZoneId,
        trading_hours=details.tradingHours,
        last_trade_date=c.lastTradeDateOrContractMonth,
        primary_exchange=c.primaryExchange,
    )


def _raw(bar: Any) -> RawBar:
    if hasattr(bar, "open_"):  # RealTimeBar
        return RawBar(bar.time, bar.open_, bar.high, bar.low, bar.close, bar.volume)
    return RawBar(bar.date, bar.open, bar.high, bar.low, bar.close, bar.volume)


class _Subscription:
    def __init__(
        self,
        ib: IB,
        bars: BarDataList | RealTimeBarList,
        *,
        on_cancel: Callable[[], None] = lambda: None,
    ) -> None:
        self._ib = ib
        self._bars = bars
        self._on_cancel = on_cancel

    def cancel(self) -> None:
        self._on_cancel()
        try:
            if isinstance(self._bars, RealTimeBarList):
                self._ib.cancelRealTimeBars(self._bars)
            else:
                self._ib.cancelHistoricalData(self._bars)
        except ConnectionError:
            pass  # the connection is gone, and the subscription with it
        self._bars.updateEvent.clear()


class IbAsyncAdapter:
    """One ib_async ``IB`` client implementing the domain's ``IbApi``.

    ``account``: the IB account the session is for (a secret from the settings; empty lets TWS
    choose). Passed to ib_async, never logged.
    """

    def __init__(self, *, account: str = "") -> None:
        self._account = account
        self._ib = IB()
        self._ib.RaiseRequestErrors = True
        self._redactor = _install_redactor()
        self._callbacks: list[ErrorCallback] = []
        self._closed = asyncio.Event()
        self._closed.set()
        self._client_id_in_use: asyncio.Future[None] | None = None
        self._ib.errorEvent += self._on_error
        self._ib.disconnectedEvent += self._closed.set

    # --- connection -----------------------------------------------------------------------
    async def connect(self, *, host: str, port: int, client_id: int, timeout: float) -> int:
        loop = asyncio.get_running_loop()
        self._client_id_in_use = loop.create_future()
        self._closed.clear()  # a drop from here on, even during the handshake, is seen
        attempt = asyncio.ensure_future(
            self._ib.connectAsync(
                host,
                port,
                clientId=client_id,
                timeout=timeout,
                readonly=True,
                account=self._account,
                fetchFields=StartupFetch(0),
            )
        )
        try:
            await asyncio.wait(
                {attempt, self._client_id_in_use}, return_when=asyncio.FIRST_COMPLETED
            )
            if self._client_id_in_use.done():
                attempt.cancel()
                self._ib.client.disconnect()
                raise IbConnectError(
                    f"client id {client_id} is already in use at {host}:{port} (IB error 326); "
                    "set KTRDR_IB_GATEWAY_IB_CLIENT_ID to another id",
                    code=IB_CLIENT_ID_IN_USE,
                )
            attempt.result()
        except (OSError, TimeoutError, ConnectionError) as exc:
            raise IbConnectError(self._describe(exc, host, port, timeout)) from None
        finally:
            self._client_id_in_use = None
            if not attempt.done():
                attempt.cancel()
            if not self._ib.isConnected():
                self._closed.set()
        try:
            self._redactor.accounts.update(self._ib.client.getAccounts())
        except ConnectionError:
            raise IbConnectError(f"{host}:{port} closed the connection at once") from None
        return int(self._ib.client.serverVersion())

    @staticmethod
    def _describe(exc: BaseException, host: str, port: int, timeout: float) -> str:
        if isinstance(exc, ConnectionRefusedError):
            return f"connection refused by {host}:{port} (is TWS / IB Gateway running there?)"
        if isinstance(exc, TimeoutError):
            return f"no API handshake from {host}:{port} within {timeout:g} s"
        return f"cannot connect to {host}:{port}: {exc}"

    def disconnect(self) -> None:
        try:
            self._ib.disconnect()
        except ConnectionError:  # a handshake in progress: drop the socket only
            self._ib.client.disconnect()
        self._closed.set()

    def is_connected(self) -> bool:
        return bool(self._ib.isConnected())

    async def wait_disconnected(self) -> None:
        await self._closed.wait()

    def on_error(self, callback: ErrorCallback) -> None:
        self._callbacks.append(callback)

    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        waiting = self._client_id_in_use
        if code == IB_CLIENT_ID_IN_USE and waiting is not None and not waiting.done():
            waiting.set_result(None)
        text = self._redactor.redact(message)
        for callback in self._callbacks:
            callback(req_id, code, text)

    # --- requests -------------------------------------------------------------------------
    async def _call(self, awaitable: Any, timeout: float) -> Any:
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except RequestError as exc:
            raise IbRequestError(exc.code, self._redactor.redact(exc.message)) from None
        except TimeoutError:
            raise IbTimeoutError() from None
        except ConnectionError:
            raise IbDisconnectedError() from None

    async def contract_details(
        self, spec: ContractSpec, *, timeout: float
    ) -> list[QualifiedContract]:
        try:
            pending = self._ib.reqContractDetailsAsync(to_ib_contract(spec))
        except ConnectionError:
            raise IbDisconnectedError() from None
        details = await self._call(pending, timeout)
        return [from_details(spec, d) for d in details if d is not None and d.contract]

    async def head_timestamp(
        self, contract: QualifiedContract, *, what_to_show: str, use_rth: bool, timeout: float
    ) -> dt.datetime:
        pending = self._ib.reqHeadTimeStampAsync(
            to_ib_contract(contract), whatToShow=what_to_show, useRTH=use_rth, formatDate=2
        )
        head = await self._call(pending, timeout)
        if not isinstance(head, dt.datetime):
            head = dt.datetime(head.year, head.month, head.day, tzinfo=dt.UTC)
        return head if head.tzinfo else head.replace(tzinfo=dt.UTC)

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
        started = time.monotonic()
        pending = self._ib.reqHistoricalDataAsync(
            to_ib_contract(contract),
            endDateTime=end or "",
            durationStr=duration,
            barSizeSetting=bar_size,
            whatToShow=what_to_show,
            useRTH=use_rth,
            formatDate=2,
            timeout=timeout,
        )
        bars = await self._call(pending, timeout * 1.5 + 1)
        if not bars and time.monotonic() - started >= timeout * _TIMED_OUT:
            raise IbTimeoutError()
        return [_raw(b) for b in bars]

    async def current_time(self, *, timeout: float) -> dt.datetime:
        try:
            pending = self._ib.reqCurrentTimeAsync()
        except ConnectionError:
            raise IbDisconnectedError() from None
        result: dt.datetime = await self._call(pending, timeout)
        return result

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
    ) -> LiveStart:
        started = time.monotonic()
        pending = self._ib.reqHistoricalDataAsync(
            to_ib_contract(contract),
            endDateTime="",
            durationStr=duration,
            barSizeSetting=bar_size,
            whatToShow=what_to_show,
            useRTH=use_rth,
            formatDate=2,
            keepUpToDate=True,
            timeout=timeout,
        )
        bars: BarDataList = await self._call(pending, timeout * 1.5 + 1)
        if not bars and time.monotonic() - started >= timeout * _TIMED_OUT:
            raise IbTimeoutError()

        def update(latest: Sequence[Any], has_new_bar: bool) -> None:
            on_bars([_raw(b) for b in latest[-2:]], has_new_bar)

        bars.updateEvent += update
        return LiveStart(_Subscription(self._ib, bars), [_raw(b) for b in bars])

    def realtime_bars(
        self,
        contract: QualifiedContract,
        *,
        what_to_show: str,
        use_rth: bool,
        on_bar: BarCallback,
        on_error: ErrorCallback,
    ) -> _Subscription:
        try:
            bars = self._ib.reqRealTimeBars(to_ib_contract(contract), 5, what_to_show, use_rth)
        except ConnectionError:
            raise IbDisconnectedError() from None

        def update(latest: Sequence[Any], has_new_bar: bool) -> None:
            if has_new_bar and latest:
                on_bar(_raw(latest[-1]))

        def error(req_id: int, code: int, message: str) -> None:
            if req_id == bars.reqId:
                on_error(req_id, code, message)

        bars.updateEvent += update
        self._callbacks.append(error)

        def forget() -> None:
            if error in self._callbacks:
                self._callbacks.remove(error)

        return _Subscription(self._ib, bars, on_cancel=forget)
