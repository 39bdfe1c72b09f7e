"""The fake TWS's market: scripted contracts and deterministic bars for any range.

Prices are a deterministic function of time per contract (slow waves plus hashed noise), so
the same bar asked twice, or by two overlapping requests, is always identical. Sessions:

* ``fx``: Sunday 17:00 to Friday 17:00 America/New_York;
* ``us_equity``: Monday-Friday 09:30-16:00 New York (regular hours) or 04:00-20:00 (all hours);
* ``cme``: Sunday 18:00 to Friday 17:00 New York with a daily 17:00-18:00 break;
* ``always``: around the clock (for live tests that must not meet a weekend).

Intraday bars are epoch-aligned and exist when the market is open at their open time. Daily
bars exist for every weekday (every day for ``always``) and are dated ``YYYYMMDD``; weekly and
monthly bars are dated with the last trading day of their period, as IB does. A daily bar's
time, used only to decide which bars a request's window contains, is its session open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from tests.faketws.wire import ContractFields

NEW_YORK = ZoneInfo("America/New_York")
DAY = 86_400
# IB bar size setting -> seconds (monthly bars: 0, handled by calendar).
BAR_SECONDS: dict[str, int] = {
    "1 secs": 1,
    "5 secs": 5,
    "10 secs": 10,
    "15 secs": 15,
    "30 secs": 30,
    "1 min": 60,
    "2 mins": 120,
    "3 mins": 180,
    "5 mins": 300,
    "10 mins": 600,
    "15 mins": 900,
    "20 mins": 1_200,
    "30 mins": 1_800,
    "1 hour": 3_600,
    "2 hours": 7_200,
    "3 hours": 10_800,
    "4 hours": 14_400,
    "8 hours": 28_800,
    "1 day": DAY,
    "1 week": 7 * DAY,
    "1 month": 30 * DAY,
}


@dataclasses.dataclass(frozen=True)
class FakeContract:
    """One instrument the fake TWS knows."""

    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    currency: str
    session: str = "us_equity"
    head: dt.datetime = dt.datetime(2000, 1, 3, tzinfo=dt.UTC)
    base_price: float = 100.0
    primary_exchange: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    long_name: str = ""
    last_trade_date: str = ""
    multiplier: str = ""
    min_tick: float = 0.01

    @property
    def time_zone(self) -> str:
        return "UTC" if self.session == "always" else "US/Eastern"

    def matches(self, c: ContractFields) -> bool:
        if c.con_id:
            return c.con_id == self.con_id
        if c.symbol != self.symbol or (c.sec_type and c.sec_type != self.sec_type):
            return False
        if c.exchange and c.exchange not in (self.exchange, "SMART"):
            return False
        if c.currency and c.currency != self.currency:
            return False
        return not c.month or self.last_trade_date.startswith(c.month)


def default_contracts() -> list[FakeContract]:
    """A small universe: FX pairs, US stocks, two E-mini futures months."""
    utc = dt.UTC
    return [
        FakeContract(12087792, "EUR", "CASH", "IDEALPRO", "USD", "fx",
                     dt.datetime(2005, 1, 3, tzinfo=utc), 1.10, local_symbol="EUR.USD",
                     trading_class="EUR.USD", long_name="European Monetary Union Euro",
                     min_tick=0.00005),
        FakeContract(12087797, "GBP", "CASH", "IDEALPRO", "USD", "fx",
                     dt.datetime(2005, 1, 3, tzinfo=utc), 1.27, local_symbol="GBP.USD",
                     trading_class="GBP.USD", long_name="British pound", min_tick=0.00005),
        FakeContract(15016059, "USD", "CASH", "IDEALPRO", "JPY", "fx",
                     dt.datetime(2005, 1, 3, tzinfo=utc), 145.0, local_symbol="USD.JPY",
                     trading_class="USD.JPY", long_name="US Dollar", min_tick=0.005),
        FakeContract(265598, "AAPL", "STK", "SMART", "USD", "us_equity",
                     dt.datetime(1980, 12, 12, 14, 30, tzinfo=utc), 180.0, "NASDAQ", "AAPL",
                     "NMS", "APPLE INC"),
        FakeContract(208813720, "GOOG", "STK", "SMART", "USD", "us_equity",
                     dt.datetime(2004, 8, 19, 13, 30, tzinfo=utc), 140.0, "NASDAQ", "GOOG",
                     "NMS", "ALPHABET INC-CL C"),
        FakeContract(272093, "MSFT", "STK", "SMART", "USD", "us_equity",
                     dt.datetime(1986, 3, 13, 14, 30, tzinfo=utc), 400.0, "NASDAQ", "MSFT",
                     "NMS", "MICROSOFT CORP"),
        FakeContract(495512557, "ES", "FUT", "CME", "USD", "cme",
                     dt.datetime(2025, 9, 19, tzinfo=utc), 5000.0, local_symbol="ESZ6",
                     trading_class="ES", long_name="E-mini S&P 500",
                     last_trade_date="20261218", multiplier="50", min_tick=0.25),
        FakeContract(620731015, "ES", "FUT", "CME", "USD", "cme",
                     dt.datetime(2025, 12, 19, tzinfo=utc), 5050.0, local_symbol="ESH7",
                     trading_class="ES", long_name="E-mini S&P 500",
                     last_trade_date="20270319", multiplier="50", min_tick=0.25),
    ]  # fmt: skip


def _local(ts: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ts.astype("datetime64[s]")).tz_localize("UTC").tz_convert(NEW_YORK)


def is_open(session: str, ts: np.ndarray, *, use_rth: bool = False) -> np.ndarray:
    """Mask: is ``session`` open at each epoch second in ``ts``?"""
    if session == "always":
        return np.ones(len(ts), dtype=bool)
    local = _local(ts)
    minute = (local.hour * 60 + local.minute).to_numpy()
    wd = local.day_of_week.to_numpy()  # Monday = 0
    if session == "us_equity":
        lo, hi = (570, 960) if use_rth else (240, 1_200)
        return (wd < 5) & (minute >= lo) & (minute < hi)
    open_minute = 1_080 if session == "cme" else 1_020
    if session == "cme":
        weekday_open = (wd < 4) & ((minute < 1_020) | (minute >= 1_080))
        friday = (wd == 4) & (minute < 1_020)
    else:
        weekday_open = wd < 4
        friday = (wd == 4) & (minute < 1_020)
    sunday = (wd == 6) & (minute >= open_minute)
    return weekday_open | friday | sunday


def price(contract: FakeContract, ts: np.ndarray) -> np.ndarray:
    """The fake's price at each epoch second (deterministic per contract)."""
    t = ts.astype(np.float64)
    phase = (contract.con_id % 997) / 997 * 2 * np.pi
    waves = 0.08 * np.sin(2 * np.pi * t / (97 * DAY) + phase) + 0.02 * np.sin(
        2 * np.pi * t / (5.3 * DAY) + phase
    )
    return contract.base_price * np.exp(waves + 0.002 * _noise(contract, ts))


def _noise(contract: FakeContract, keys: np.ndarray) -> np.ndarray:
    """Hashed noise in [-1, 1) per integer key."""
    h = (keys.astype(np.uint64) + np.uint64(contract.con_id)) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    return (h % np.uint64(2_000_003)).astype(np.float64) / 1_000_001.5 - 1.0


@dataclasses.dataclass(frozen=True)
class Bars:
    """Bars of one answer: ``stamps`` are epoch seconds (intraday) or ``YYYYMMDD`` texts."""

    stamps: list[str]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.stamps)


def _ohlc(contract: FakeContract, opens: np.ndarray, closes: np.ndarray) -> tuple[np.ndarray, ...]:
    o, c = price(contract, opens), price(contract, np.maximum(closes - 1, opens))
    wiggle = 0.001 * contract.base_price * (1.0 + _noise(contract, opens + 7))
    tick = contract.min_tick

    def snap(x: np.ndarray) -> np.ndarray:
        return np.round(np.round(x / tick) * tick, 10)

    o, c = snap(o), snap(c)
    high, low = snap(np.maximum(o, c) + wiggle), snap(np.minimum(o, c) - wiggle)
    volume = (1_000 + 500 * (1.0 + _noise(contract, opens + 13))).astype(np.int64)
    return o, high, low, c, volume


def intraday_bars(
    contract: FakeContract, bar_seconds: int, *, start: int, end: int, use_rth: bool
) -> Bars:
    """Epoch-aligned bars opening in ``[start, end)`` while the market is open."""
    first = -(-start // bar_seconds) * bar_seconds
    opens = np.arange(first, end, bar_seconds, dtype=np.int64)
    head = int(contract.head.timestamp())
    opens = opens[(opens >= head) & is_open(contract.session, opens, use_rth=use_rth)]
    o, h, lo, c, v = _ohlc(contract, opens, opens + bar_seconds)
    return Bars([str(int(t)) for t in opens], o, h, lo, c, v)


def daily_open(contract: FakeContract, day: dt.date) -> int:
    """Epoch second at which the daily bar of trading date ``day`` opens."""
    if contract.session in ("fx", "cme"):
        hour = 17 if contract.session == "fx" else 18
        local = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(hour), NEW_YORK)
        return int(local.timestamp())
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _trading_days(contract: FakeContract, first: dt.date, last: dt.date) -> list[dt.date]:
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    head = contract.head.date()
    return [d for d in days if d >= head and (contract.session == "always" or d.weekday() < 5)]


def _period_key(day: dt.date, bar_size: str) -> dt.date:
    if bar_size == "1 week":
        return day - dt.timedelta(days=day.weekday())
    if bar_size == "1 month":
        return day.replace(day=1)
    return day


def long_bars(contract: FakeContract, bar_size: str, *, start: int, end: int) -> Bars:
    """Daily, weekly or monthly bars whose period opens in ``[start, end)``.

    Weekly and monthly bars are dated with the last trading day of their period.
    """
    first = dt.datetime.fromtimestamp(start, dt.UTC).date() - dt.timedelta(days=40)
    last = dt.datetime.fromtimestamp(end, dt.UTC).date() + dt.timedelta(days=40)
    periods: dict[dt.date, list[dt.date]] = {}
    for day in _trading_days(contract, first, last):
        periods.setdefault(_period_key(day, bar_size), []).append(day)
    chosen = [
        (days[0], days[-1])
        for key, days in sorted(periods.items())
        if start <= daily_open(contract, key) < end
    ]
    opens = np.array([daily_open(contract, a) for a, _ in chosen], dtype=np.int64)
    closes = np.array([daily_open(contract, b) + DAY for _, b in chosen], dtype=np.int64)
    o, h, lo, c, v = _ohlc(contract, opens, closes)
    return Bars([b.strftime("%Y%m%d") for _, b in chosen], o, h, lo, c, v)


def bars_for(contract: FakeContract, bar_size: str, *, start: int, end: int, use_rth: bool) -> Bars:
    seconds = BAR_SECONDS[bar_size]
    if seconds < DAY:
        return intraday_bars(contract, seconds, start=start, end=end, use_rth=use_rth)
    return long_bars(contract, bar_size, start=start, end=end)


def find(contracts: Sequence[FakeContract], fields: ContractFields) -> list[FakeContract]:
    return [c for c in contracts if c.matches(fields)]
