"""A fake TWS / IB Gateway speaking the real socket protocol on 127.0.0.1.

The real, unmodified ib_async client connects to it. It answers the start-up requests,
contract details, historical bars (with IB's per-bar-size duration limits and pacing rules),
head timestamps, keep-up-to-date bars, 5-second real-time bars and the current time, and
offers hooks to script failures: dropped connections, a TWS that goes down and comes back,
errors and delays for the next historical requests, farm-status messages, a client id already
in use, paused live data.

Time: the fake's clock is ``wall time at start + elapsed / time_scale``, so with
``time_scale=0.01`` a minute of market passes in 0.6 s; its pacing windows shrink by the same
factor. Message formats follow /work/shared/reference/ib-tws-wire-protocol.md (server version
176).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence

from tests.faketws.market import (
    BAR_SECONDS,
    DAY,
    Bars,
    FakeContract,
    bars_for,
    default_contracts,
    find,
    intraday_bars,
)
from tests.faketws.pacing import FakePacing
from tests.faketws.wire import (
    API_PREFIX,
    MIN_CLIENT_VERSION,
    ContractFields,
    frame,
    parse_versions,
    read_message,
)

HMDS = "Historical Market Data Service error message:"
PACING_TEXT = HMDS + "Historical data request pacing violation"
DURATION_UNITS = {"S": 1, "D": DAY, "W": 7 * DAY, "M": 30 * DAY, "Y": 365 * DAY}
CONNECT_FARMS = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)


def duration_seconds(text: str) -> int:
    """``"3 D"`` -> 259200; raises ValueError for anything IB would reject."""
    number, unit = text.split(" ")
    return int(number) * DURATION_UNITS[unit]


def max_duration_seconds(bar_seconds: int) -> int:
    """IB's longest request per bar size (its step table): 1 min 1 D, 3-20 mins 1 W ..."""
    if bar_seconds < 60:
        return 8 * 3600
    if bar_seconds < 120:
        return DAY
    if bar_seconds < 180:
        return 2 * DAY
    if bar_seconds < 1_800:
        return 7 * DAY
    if bar_seconds < DAY:
        return 31 * DAY
    return 366 * DAY


@dataclasses.dataclass
class HistoricalRecord:
    """One historical request as the fake received it."""

    at: float
    symbol: str
    end: str
    duration: str
    bar_size: str
    what_to_show: str
    use_rth: bool
    keep_up_to_date: bool
    outcome: str = ""


@dataclasses.dataclass
class Scripted:
    """Failures scripted for the next historical requests (consumed in order)."""

    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    ignore: int = 0
    disconnect_after: int | None = None  # drop the connection when this many more arrive
    delay_seconds: float = 0.0


class FakeClock:
    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self._wall = time.time()
        self._mono = time.monotonic()

    def now(self) -> float:
        """Market time, epoch seconds."""
        return self._wall + (time.monotonic() - self._mono) / self.time_scale


class FakeTws:
    """The fake server. ``await start()``, script it, ``await stop()``."""

    def __init__(
        self,
        contracts: Sequence[FakeContract] | None = None,
        *,
        time_scale: float = 1.0,
        pacing: bool = True,
        server_version: int = 176,
        accounts: Sequence[str] = ("DU1234567",),
    ) -> None:
        self.contracts = list(contracts if contracts is not None else default_contracts())
        self.clock = FakeClock(time_scale)
        self.time_scale = time_scale
        self.pacing = FakePacing(time_scale=time_scale, enabled=pacing)
        self.server_version = server_version
        self.accounts = list(accounts)
        self.client_ids_in_use: set[int] = set()
        self.script = Scripted()
        self.live_paused = False
        self.history: list[HistoricalRecord] = []
        self.received: list[list[str]] = []
        self.connections_accepted = 0
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int | None = None) -> int:
        """Listen (on ``port``, the previous port, or a free one); returns the port."""
        chosen = self.port if port is None else port
        self._server = await asyncio.start_server(self._accept, host, chosen)
        self.host = host
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and drop every connection (TWS shut down)."""
        if self._server is not None:
            self._server.close()
        for session in list(self._sessions):
            await session.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def __aenter__(self) -> FakeTws:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_accepted += 1
        session = _Session(self, reader, writer)
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)
            await session.close()

    # --- hooks for tests ----------------------------------------------------------------
    @property
    def connected_clients(self) -> int:
        return sum(1 for s in self._sessions if s.ready)

    async def drop_connections(self) -> None:
        """Close every client connection now (the listener stays up)."""
        for session in list(self._sessions):
            await session.close()

    def send_farm_status(self, code: int, message: str) -> None:
        """Send a farm message (e.g. 2105 "HMDS data farm connection is broken:ushmds")."""
        for session in self._sessions:
            session.send(4, 2, -1, code, message, "")

    def fail_next_historical(self, code: int, message: str, count: int = 1) -> None:
        self.script.errors.extend([(code, message)] * count)

    @property
    def historical_requests(self) -> list[HistoricalRecord]:
        return [r for r in self.history if not r.keep_up_to_date]


class _Session:
    """One client connection."""

    def __init__(
        self, tws: FakeTws, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.tws = tws
        self.reader = reader
        self.writer = writer
        self.ready = False
        self.version = tws.server_version
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self._closed = False
        self.handlers: dict[str, Callable[[list[str]], None]] = {
            "71": self._start_api,
            "61": lambda f: self.send(62, 1),
            "5": lambda f: self.send(53, 1),
            "99": lambda f: self.send(102),
            "6": lambda f: self.send(54, 1, f[3]),
            "76": lambda f: self.send(74, 1, f[2]),
            "7": lambda f: self.send(55, 1, f[2]),
            "17": lambda f: self.send(15, 1, ",".join(self.tws.accounts)),
            "49": lambda f: self.send(49, 1, int(self.tws.clock.now())),
            "9": self._contract_details,
            "20": self._historical,
            "87": self._head_timestamp,
            "25": self._cancel,
            "50": self._realtime,
            "51": self._cancel,
        }

    def send(self, *fields: object) -> None:
        if not self._closed:
            self.writer.write(frame(fields))

    def error(self, req_id: int | str, code: int, message: str) -> None:
        self.send(4, 2, req_id, code, message, "")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.ready = False
        for task in self.tasks.values():
            task.cancel()
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()

    async def run(self) -> None:
        try:
            if await self.reader.readexactly(4) != API_PREFIX:
                return
            _, high = parse_versions((await read_message(self.reader))[0])
            if high < MIN_CLIENT_VERSION:
                return
            self.version = min(high, self.tws.server_version)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d %H:%M:%S UTC")
            self.send(self.version, stamp)
            while not self._closed:
                fields = await read_message(self.reader)
                self.tws.received.append(fields)
                handler = self.handlers.get(fields[0])
                if handler is not None:
                    handler(fields)
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass

    # --- start-up -----------------------------------------------------------------------
    def _start_api(self, f: list[str]) -> None:
        client_id = int(f[2])
        if client_id in self.tws.client_ids_in_use:
            self.error(-1, 326, "Unable to connect as the client id is already in use. "
                                "Retry with a unique client id.")  # fmt: skip
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.close()))
            return
        self.send(15, 1, ",".join(self.tws.accounts))
        self.send(9, 1, 1)
        for code, message in CONNECT_FARMS:
            self.error(-1, code, message)
        self.ready = True

    # --- contracts ----------------------------------------------------------------------
    def _contract_details(self, f: list[str]) -> None:
        req_id, asked = f[2], ContractFields.parse(f, 3)
        found = find(self.tws.contracts, asked)
        if not found:
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        for c in found:
            self.send(*self._details_fields(req_id, c, asked.exchange or c.exchange))
        self.send(52, 1, req_id)

    @staticmethod
    def _details_fields(req_id: str, c: FakeContract, exchange: str) -> list[object]:
        hours = "20240102:0930-20240102:1600" if c.sec_type == "STK" else ""
        return [
            10, req_id, c.symbol, c.sec_type, c.last_trade_date, "0", "", exchange, c.currency,
            c.local_symbol or c.symbol, c.trading_class, c.trading_class, c.con_id, c.min_tick,
            c.multiplier, "LMT,MKT", c.exchange, "1", "0", c.long_name, c.primary_exchange,
            c.last_trade_date[:6], "", "", "", c.time_zone, hours, hours, "", "", 0,
            "1", "", "", "26", c.last_trade_date, "COMMON" if c.sec_type == "STK" else "",
            "1", "1", "1",
        ]  # fmt: skip

    def _contract(self, f: list[str], start: int) -> FakeContract | None:
        found = find(self.tws.contracts, ContractFields.parse(f, start))
        return found[0] if len(found) == 1 else None

    # --- historical ---------------------------------------------------------------------
    def _paced(self, contract: FakeContract, what: str, identity: tuple[str, ...]) -> bool:
        weight = 2 if what == "BID_ASK" else 1
        group = (str(contract.con_id), contract.exchange, what)
        return self.tws.pacing.admit(group=group, identity=identity, weight=weight)

    def _historical(self, f: list[str]) -> None:
        req_id, contract = f[1], self._contract(f, 2)
        end, bar_size, duration, rth, what = f[15], f[16], f[17], f[18] == "1", f[19]
        keep = len(f) > 21 and f[21] == "1"
        record = HistoricalRecord(time.monotonic(), f[3], end, duration, bar_size, what, rth, keep)
        self.tws.history.append(record)
        if contract is None:
            record.outcome = "200"
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        problem = self._invalid_historical(contract, end, bar_size, duration, what, keep)
        if problem is not None:
            record.outcome = str(problem[0])
            self.error(req_id, *problem)
            return
        if not self._paced(contract, what, tuple(f[2:20])):
            record.outcome = "pacing"
            self.error(req_id, 162, PACING_TEXT)
            return
        self.tws.pacing.open_requests += 1
        task = asyncio.ensure_future(self._answer(req_id, contract, f, record))
        self.tasks[int(req_id)] = task

    def _invalid_historical(
        self, c: FakeContract, end: str, bar_size: str, duration: str, what: str, keep: bool
    ) -> tuple[int, str] | None:
        if bar_size not in BAR_SECONDS:
            return 321, ("Error validating request.-'bP' : cause - Historical data bar size "
                         "setting is invalid.")  # fmt: skip
        try:
            seconds = duration_seconds(duration)
        except (ValueError, KeyError):
            return 321, "Error validating request.-'bP' : cause - Invalid duration format."
        if seconds > max_duration_seconds(BAR_SECONDS[bar_size]):
            return 162, HMDS + "Time length exceed max."
        if keep and end:
            return 321, ("Error validating request.-'bP' : cause - End date not supported "
                         "with live updates.")  # fmt: skip
        if c.sec_type == "CASH" and what == "TRADES":
            return 162, (HMDS + "No data of type TRADES is available for the exchange "
                         "'IDEALPRO' and the security type 'Forex'")  # fmt: skip
        return None

    def _end_seconds(self, end: str) -> int:
        if not end:
            return int(self.tws.clock.now())
        parsed = dt.datetime.strptime(end.removesuffix(" UTC"), "%Y%m%d %H:%M:%S")
        return int(parsed.replace(tzinfo=dt.UTC).timestamp())

    async def _answer(
        self, req_id: str, contract: FakeContract, f: list[str], record: HistoricalRecord
    ) -> None:
        script = self.tws.script
        try:
            if script.disconnect_after is not None:
                script.disconnect_after -= 1
                if script.disconnect_after <= 0:
                    script.disconnect_after = None
                    record.outcome = "disconnected"
                    await self.close()
                    return
            if script.errors:
                code, message = script.errors.pop(0)
                record.outcome = str(code)
                self.error(req_id, code, message)
                return
            if script.ignore > 0:
                script.ignore -= 1
                record.outcome = "ignored"
                return
            if script.delay_seconds:
                await asyncio.sleep(script.delay_seconds)
            self._send_bars(req_id, contract, f, record)
        finally:
            self.tws.pacing.open_requests -= 1
            if not record.keep_up_to_date:
                self.tasks.pop(int(req_id), None)

    def _send_bars(
        self, req_id: str, contract: FakeContract, f: list[str], record: HistoricalRecord
    ) -> None:
        end = self._end_seconds(record.end)
        if record.keep_up_to_date:
            end = end - end % BAR_SECONDS[record.bar_size] + BAR_SECONDS[record.bar_size]
        start = end - duration_seconds(record.duration)
        bars = bars_for(contract, record.bar_size, start=start, end=end, use_rth=record.use_rth)
        if not len(bars):
            record.outcome = "no data"
            what = record.what_to_show.title()
            self.error(req_id, 162, f"{HMDS}HMDS query returned no data: "
                                    f"{contract.local_symbol or contract.symbol}@"
                                    f"{contract.exchange} {what}")  # fmt: skip
            return
        record.outcome = f"{len(bars)} bars"
        self.send(*_historical_fields(req_id, bars, record.what_to_show, start, end))
        if record.keep_up_to_date:
            self.tasks[int(req_id)] = asyncio.ensure_future(
                self._keep_up_to_date(req_id, contract, record)
            )

    # --- live ---------------------------------------------------------------------------
    async def _keep_up_to_date(
        self, req_id: str, contract: FakeContract, record: HistoricalRecord
    ) -> None:
        seconds = BAR_SECONDS[record.bar_size]
        if seconds >= DAY:
            return  # live updates are scripted for intraday bars only
        tick = max(0.01, seconds * self.tws.time_scale / 4)
        current = int(self.tws.clock.now()) // seconds * seconds  # the bar in progress
        while not self._closed:
            await asyncio.sleep(tick)
            if self.tws.live_paused:
                continue
            now = self.tws.clock.now()
            opening = int(now) - int(now) % seconds
            for closed in range(current, opening, seconds):  # every bar that closed since
                self._send_update(req_id, contract, closed, closed + seconds, seconds)
            current = opening
            self._send_update(req_id, contract, opening, int(now) + 1, seconds)

    def _send_update(
        self, req_id: str, contract: FakeContract, opening: int, upto: int, seconds: int
    ) -> None:
        bars = intraday_bars(contract, seconds, start=opening, end=opening + 1, use_rth=False)
        if not len(bars):
            return
        partial = intraday_bars(contract, 1, start=max(opening, upto - 1), end=upto, use_rth=False)
        close = float(partial.close[-1]) if len(partial) else float(bars.close[0])
        high, low = max(float(bars.high[0]), close), min(float(bars.low[0]), close)
        self.send(90, req_id, -1, opening, bars.open[0], close, high, low, -1, bars.volume[0])

    def _realtime(self, f: list[str]) -> None:
        req_id, contract = f[2], self._contract(f, 3)
        if contract is None:
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        self.tasks[int(req_id)] = asyncio.ensure_future(self._realtime_loop(req_id, contract))

    async def _realtime_loop(self, req_id: str, contract: FakeContract) -> None:
        clock = self.tws.clock
        sent = int(clock.now()) // 5 * 5  # the bar in progress is sent once complete
        while not self._closed:
            due = sent + 10  # the next bar [sent + 5, sent + 10) completes at sent + 10
            await asyncio.sleep(max(0.0, (due - clock.now()) * self.tws.time_scale))
            sent += 5
            if self.tws.live_paused:
                continue
            bars = intraday_bars(contract, 5, start=sent, end=sent + 1, use_rth=False)
            if len(bars):
                self.send(50, 3, req_id, sent, bars.open[0], bars.high[0], bars.low[0],
                          bars.close[0], bars.volume[0], bars.close[0], 10)  # fmt: skip

    def _cancel(self, f: list[str]) -> None:
        task = self.tasks.pop(int(f[2]), None)
        if task is not None:
            task.cancel()

    # --- head timestamp -----------------------------------------------------------------
    def _head_timestamp(self, f: list[str]) -> None:
        req_id, contract = f[1], self._contract(f, 2)
        if contract is None:
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        what, fmt = f[16], f[17]
        if not self._paced(contract, what, ("head", *f[2:17])):
            self.error(req_id, 162, PACING_TEXT)
            return
        head = contract.head
        text = str(int(head.timestamp())) if fmt == "2" else head.strftime("%Y%m%d-%H:%M:%S")
        self.send(88, req_id, text)


def _historical_fields(req_id: str, bars: Bars, what: str, start: int, end: int) -> list[object]:
    quoted = what != "TRADES"
    fmt = "%Y%m%d %H:%M:%S"
    fields: list[object] = [
        17,
        req_id,
        dt.datetime.fromtimestamp(start, dt.UTC).strftime(fmt),
        dt.datetime.fromtimestamp(end, dt.UTC).strftime(fmt),
        len(bars),
    ]
    for i, stamp in enumerate(bars.stamps):
        volume = -1 if quoted else int(bars.volume[i])
        wap = -1 if quoted else round(float(bars.close[i]), 6)
        fields += [stamp, bars.open[i], bars.high[i], bars.low[i], bars.close[i], volume, wap,
                   -1 if quoted else 100]  # fmt: skip
    return fields
