"""IB's bar stamps normalised to KTRDR's convention: the bar's **open** time in UTC.

What IB sends (requests use ``formatDate=2``):

* intraday bars: epoch seconds of the bar **open** -> kept as they are;
* daily bars: a date only (``YYYYMMDD``), the trading date;
* weekly and monthly bars: a date that is the **end** of the period (its last trading day).

What the data service stores (``ktrdr_data.domain.calendars.TradingCalendar.period_open_us``
and ``resample.period_keys``), matched exactly here:

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
from zoneinfo import ZoneInfo

import numpy as np

from ktrdr_ib_gateway.domain.chunks import BarSize
from ktrdr_ib_gateway.domain.contracts import SecType
from ktrdr_runtime.dates import to_us

_NEW_YORK = ZoneInfo("America/New_York")
# Local session open on the evening before the trading date, per security type.
_EVENING_OPEN: dict[SecType, dt.time] = {SecType.CASH: dt.time(17), SecType.FUT: dt.time(18)}


def daily_open_us(day: dt.date, sec_type: SecType) -> int:
    """Timestamp (epoch us) of the daily bar of trading date ``day`` (module docstring)."""
    evening = _EVENING_OPEN.get(sec_type)
    if evening is None:
        return to_us(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
    before = day - dt.timedelta(days=1)
    local = dt.datetime.combine(before, evening, tzinfo=_NEW_YORK)
    return to_us(local.astimezone(dt.UTC))


def period_day(day: dt.date, bar: BarSize) -> dt.date:
    """The trading date whose daily stamp a bar dated ``day`` takes (Monday, 1st, or itself)."""
    if bar.timeframe == "1w":
        return day - dt.timedelta(days=day.weekday())
    if bar.timeframe == "1M":
        return day.replace(day=1)
    return day


def bar_open_us(stamp: dt.date | dt.datetime, *, bar: BarSize, sec_type: SecType) -> int:
    """The open time (epoch us, UTC) of one IB bar stamp.

    Raises
    ------
    ValueError
        For a naive datetime (``formatDate=2`` always gives aware ones), an intraday bar
        stamped with a date only, or a daily-or-longer bar stamped with a time.
    """
    if isinstance(stamp, dt.datetime):
        if stamp.tzinfo is None:
            raise ValueError(f"naive IB bar time {stamp.isoformat()}: request formatDate=2")
        if not bar.intraday:
            raise ValueError(f"IB sent a time ({stamp.isoformat()}) for {bar.timeframe} bars")
        return to_us(stamp.astimezone(dt.UTC))
    if bar.intraday:
        raise ValueError(f"IB sent a date ({stamp.isoformat()}) for {bar.timeframe} bars")
    return daily_open_us(period_day(stamp, bar), sec_type)


def bar_opens_us(
    stamps: Sequence[dt.date | dt.datetime], *, bar: BarSize, sec_type: SecType
) -> np.ndarray:
    """:func:`bar_open_us` of each stamp as an int64 array."""
    return np.fromiter(
        (bar_open_us(s, bar=bar, sec_type=sec_type) for s in stamps),
        dtype=np.int64,
        count=len(stamps),
    )
