"""IB's bar stamps normalised to KTRDR's convention: the bar's **open** time in UTC.

What IB sends (requests use ``formatDate=2``):

* intraday bars: epoch seconds of the bar **open** -> kept as they are;
* daily bars: a date only (``YYYYMMDD``), the trading date;
* weekly and monthly bars: a date that is the **end** of the period (its last trading day).

What every stored bar uses, from the core's own calendars (``ktrdr_core.calendars``
``TradingCalendar.period_open_us``, as ``ktrdr_core.resample.period_keys`` stamps resampled
bars), so IB's bars match the data service's exactly:

* daily bar of trading date D: 00:00 UTC of D for stocks and indices (the bundled GOOG data);
  the session open for instruments whose session starts the previous evening - FX D-1 17:00
  and CME futures D-1 18:00 America/New_York (so 21:00/22:00 and 22:00/23:00 UTC);
* weekly bar: stamped like the daily bar of the **Monday** of its week;
* monthly bar: stamped like the daily bar of the **1st** of its month.

So a weekly bar IB dates Friday 2024-01-12 is the week of Monday 2024-01-08 and, for FX, opens
Sunday 2024-01-07 17:00 New York (22:00 UTC). Nothing here ever moves a bar later than its
open, so aligning higher timeframes by close time stays free of look-ahead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.dates import to_us
from ktrdr_ib_gateway.domain.chunks import BarSize
from ktrdr_ib_gateway.domain.contracts import SecType

# The trading calendar whose daily stamp each security type's daily bars take.
CALENDARS: dict[SecType, str] = {
    SecType.CASH: "fx_24_5",
    SecType.FUT: "cme_globex",
    SecType.STK: "us_equity",
    SecType.IND: "us_equity",
}


def _calendar(sec_type: SecType) -> TradingCalendar:
    return get_calendar(CALENDARS[sec_type])


def daily_open_us(day: dt.date, sec_type: SecType) -> int:
    """Timestamp (epoch us) of the daily bar of trading date ``day`` (module docstring)."""
    return int(_calendar(sec_type).period_open_us(np.array([day], dtype="datetime64[D]"))[0])


def period_day(day: dt.date, bar: BarSize) -> dt.date:
    """The trading date whose daily stamp a bar dated ``day`` takes (Monday, 1st, or itself)."""
    if bar.timeframe == "1w":
        return day - dt.timedelta(days=day.weekday())
    if bar.timeframe == "1M":
        return day.replace(day=1)
    return day


def _check(stamp: dt.date | dt.datetime, bar: BarSize) -> None:
    if isinstance(stamp, dt.datetime):
        if stamp.tzinfo is None:
            raise ValueError(f"naive IB bar time {stamp.isoformat()}: request formatDate=2")
        if not bar.intraday:
            raise ValueError(f"IB sent a time ({stamp.isoformat()}) for {bar.timeframe} bars")
    elif bar.intraday:
        raise ValueError(f"IB sent a date ({stamp.isoformat()}) for {bar.timeframe} bars")


def bar_open_us(stamp: dt.date | dt.datetime, *, bar: BarSize, sec_type: SecType) -> int:
    """The open time (epoch us, UTC) of one IB bar stamp.

    Raises
    ------
    ValueError
        For a naive datetime (``formatDate=2`` always gives aware ones), an intraday bar
        stamped with a date only, or a daily-or-longer bar stamped with a time.
    """
    return int(bar_opens_us([stamp], bar=bar, sec_type=sec_type)[0])


def bar_opens_us(
    stamps: Sequence[dt.date | dt.datetime], *, bar: BarSize, sec_type: SecType
) -> np.ndarray:
    """:func:`bar_open_us` of each stamp as an int64 array (one calendar call for all)."""
    for stamp in stamps:
        _check(stamp, bar)
    if bar.intraday:
        return np.fromiter((to_us(s) for s in stamps), dtype=np.int64, count=len(stamps))  # type: ignore[arg-type]
    days = np.array([period_day(s, bar) for s in stamps], dtype="datetime64[D]")
    if not len(days):
        return np.empty(0, dtype=np.int64)
    return _calendar(sec_type).period_open_us(days).astype(np.int64)
