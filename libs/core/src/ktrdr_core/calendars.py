"""Trading calendars: when a market is open, computed by rule (no data files).

Calendars (``name`` -> description):

* ``fx_24_5`` — spot FX. Session for trading date D runs from D-1 17:00 to D 17:00
  America/New_York, Monday to Friday (so the week opens Sunday 17:00 NY and closes Friday 17:00
  NY). Closed on 1 January and 25 December (simplification of the thin holiday market).
* ``us_equity`` — NYSE/Nasdaq regular session 09:30-16:00 America/New_York, Monday-Friday, NYSE
  holidays by rule (New Year, MLK, Presidents, Good Friday, Memorial, Juneteenth from 2022,
  Independence, Labor, Thanksgiving, Christmas, with Saturday->Friday / Sunday->Monday
  observance; New Year on a Saturday is not observed) plus a short list of known special
  closures (e.g. 2012-10-29/30 Sandy). Early closes at 13:00 on 3 July, the day after
  Thanksgiving and 24 December when those are regular sessions.
* ``cme_globex`` — CME equity-index futures: D-1 18:00 to D 17:00 America/New_York (Sunday
  18:00 open, Friday 17:00 close, daily 17:00-18:00 break); closed on NYSE holiday dates
  (simplification: CME really trades a shortened session on most of them).
* ``crypto_24_7`` — always open; sessions are UTC calendar days.

Daily-bar conventions shared with ``gaps`` and ``resample``:

* :meth:`TradingCalendar.session_label` maps a timestamp to its trading date. For calendars
  whose session opens the previous evening (FX, CME) it is the local date of
  ``timestamp + (24h - open time)`` (so FX local times ``[D-1 17:00, D 17:00)`` map to D; a daily
  bar stamped 00:00 UTC of D, i.e. 19:00/20:00 NY of D-1, maps to D too). Otherwise it is the
  local date, except that a timestamp at exactly 00:00 UTC is taken as a date-stamped daily bar
  and maps to its UTC date (IB/Yahoo daily convention, as the bundled GOOG data).
* :meth:`TradingCalendar.period_open_us` is the timestamp of a daily bar of date D: the session
  open for calendars whose session starts the previous evening (FX, CME), 00:00 UTC of D
  otherwise (equities, crypto).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from ktrdr_core import codes
from ktrdr_core.errors import ValidationError, suggest

US_PER_DAY = 86_400_000_000


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


NYSE_SPECIAL_CLOSURES: frozenset[dt.date] = frozenset(
    dt.date.fromisoformat(d)
    for d in (
        *("2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14"),  # 9/11
        "2004-06-11",  # Reagan funeral
        "2007-01-02",  # Ford funeral
        *("2012-10-29", "2012-10-30"),  # hurricane Sandy
        "2018-12-05",  # G. H. W. Bush funeral
        "2025-01-09",  # Carter funeral
    )
)


@lru_cache(maxsize=512)
def nyse_holidays(year: int) -> frozenset[dt.date]:
    """NYSE full-day holidays of ``year`` by rule, plus known special closures."""
    days = set()
    ny = dt.date(year, 1, 1)
    if ny.weekday() == 6:
        days.add(ny + dt.timedelta(days=1))
    elif ny.weekday() < 5:
        days.add(ny)
    if year >= 1998:
        days.add(_nth_weekday(year, 1, 0, 3))  # MLK
    days.add(_nth_weekday(year, 2, 0, 3))  # Presidents
    days.add(easter_sunday(year) - dt.timedelta(days=2))  # Good Friday
    days.add(_last_weekday(year, 5, 0))  # Memorial
    if year >= 2022:
        days.add(_observed(dt.date(year, 6, 19)))  # Juneteenth
    days.add(_observed(dt.date(year, 7, 4)))
    days.add(_nth_weekday(year, 9, 0, 1))  # Labor
    days.add(_nth_weekday(year, 11, 3, 4))  # Thanksgiving
    days.add(_observed(dt.date(year, 12, 25)))
    days.update(d for d in NYSE_SPECIAL_CLOSURES if d.year == year)
    return frozenset(days)


def nyse_early_closes(year: int) -> frozenset[dt.date]:
    """Regular 13:00 early closes: 3 July, day after Thanksgiving, 24 December (weekdays)."""
    hol = nyse_holidays(year)
    cands = {
        dt.date(year, 7, 3),
        _nth_weekday(year, 11, 3, 4) + dt.timedelta(days=1),
        dt.date(year, 12, 24),
    }
    return frozenset(d for d in cands if d.weekday() < 5 and d not in hol)


def fx_holidays(year: int) -> frozenset[dt.date]:
    return frozenset({dt.date(year, 1, 1), dt.date(year, 12, 25)})


def _no_days(year: int) -> frozenset[dt.date]:
    return frozenset()


@dataclasses.dataclass(frozen=True)
class TradingCalendar:
    """A rule-based session calendar.

    A trading date D has one session ``[open, close)`` with open at local
    ``D + open_day_offset`` days ``open_time`` and close at local ``D + close_day_offset`` days
    ``close_time`` (local = ``tz``).
    """

    name: str
    tz: str
    weekmask: str  # "1111100" = Mon..Fri trading dates
    open_time: dt.time
    close_time: dt.time
    open_day_offset: int = 0
    close_day_offset: int = 0
    holiday_rule: Callable[[int], frozenset[dt.date]] = _no_days
    early_close_rule: Callable[[int], frozenset[dt.date]] = _no_days
    early_close_time: dt.time | None = None
    description: str = ""

    @property
    def overnight_open(self) -> bool:
        """True when the session opens the evening before its trading date (FX, CME)."""
        return self.open_day_offset < 0

    def holidays(self, start: dt.date, end: dt.date) -> np.ndarray:
        """Holiday dates in ``[start, end]`` as sorted ``datetime64[D]``."""
        days = sorted(
            d
            for y in range(start.year, end.year + 1)
            for d in self.holiday_rule(y)
            if start <= d <= end
        )
        return np.array(days, dtype="datetime64[D]")

    def session_dates(self, start: dt.date, end: dt.date) -> np.ndarray:
        """Trading dates in ``[start, end]`` as ``datetime64[D]``."""
        all_days = np.arange(
            np.datetime64(start, "D"), np.datetime64(end, "D") + 1, dtype="datetime64[D]"
        )
        mask = np.is_busday(all_days, weekmask=self.weekmask, holidays=self.holidays(start, end))
        return all_days[mask]

    def _local_to_utc_us(self, days: np.ndarray, offset: int, t: dt.time) -> np.ndarray:
        micros = ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000
        naive = (days + np.timedelta64(offset, "D")).astype("datetime64[us]") + np.timedelta64(
            micros, "us"
        )
        if self.tz == "UTC":
            return naive.astype(np.int64)
        idx = pd.DatetimeIndex(naive).tz_localize(
            self.tz, nonexistent="shift_forward", ambiguous=False
        )
        return idx.as_unit("us").asi8

    def sessions(self, start: dt.date, end: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sessions of trading dates in ``[start, end]``: ``(dates, opens_us, closes_us)``.

        Opens/closes are int64 epoch microseconds (UTC), sorted and non-overlapping.
        """
        dates = self.session_dates(start, end)
        opens = self._local_to_utc_us(dates, self.open_day_offset, self.open_time)
        closes = self._local_to_utc_us(dates, self.close_day_offset, self.close_time)
        if self.early_close_time is not None:
            early = np.array(
                sorted(
                    d for y in range(start.year, end.year + 1) for d in self.early_close_rule(y)
                ),
                dtype="datetime64[D]",
            )
            is_early = np.isin(dates, early)
            if is_early.any():
                closes[is_early] = self._local_to_utc_us(
                    dates[is_early], self.close_day_offset, self.early_close_time
                )
        return dates, opens, closes

    def session_label(self, ts_us: np.ndarray) -> np.ndarray:
        """Trading date (``datetime64[D]``) of timestamps (see module docstring)."""
        ts = np.asarray(ts_us, dtype=np.int64)
        if self.tz == "UTC":
            local = ts
        else:
            idx = pd.DatetimeIndex(ts.view("datetime64[us]")).tz_localize("UTC")
            local = idx.tz_convert(self.tz).tz_localize(None).as_unit("us").asi8
        if self.overnight_open:
            t = self.open_time
            shift = US_PER_DAY - ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000
            return ((local + shift) // US_PER_DAY).astype("datetime64[D]")
        midnight_utc = ts % US_PER_DAY == 0
        return np.where(midnight_utc, ts // US_PER_DAY, local // US_PER_DAY).astype("datetime64[D]")

    def period_open_us(self, dates: np.ndarray) -> np.ndarray:
        """Timestamp (epoch us) of the daily bar of each trading date (see module docstring)."""
        dates = np.asarray(dates, dtype="datetime64[D]")
        if self.overnight_open:
            return self._local_to_utc_us(dates, self.open_day_offset, self.open_time)
        return dates.astype("datetime64[us]").astype(np.int64)

    def open_us_between(self, start_us: npt.ArrayLike, end_us: npt.ArrayLike) -> np.ndarray:
        """Microseconds the market is open in each ``[start, end)`` (element-wise, epoch us).

        Empty or reversed intervals give 0.
        """
        s = np.atleast_1d(np.asarray(start_us, dtype=np.int64))
        e = np.atleast_1d(np.asarray(end_us, dtype=np.int64))
        if len(s) == 0:
            return np.zeros(0, dtype=np.int64)
        lo, hi = _date_bounds(int(min(s.min(), e.min())), int(max(s.max(), e.max())))
        _, opens, closes = self.sessions(lo, hi)
        if len(opens) == 0:
            return np.zeros(len(s), dtype=np.int64)
        cumulative = np.concatenate(([0], np.cumsum(closes - opens)))

        def open_before(t: np.ndarray) -> np.ndarray:
            k = np.searchsorted(opens, t, side="right") - 1
            kk = np.clip(k, 0, None)
            inside = np.clip(t - opens[kk], 0, closes[kk] - opens[kk])
            return np.where(k >= 0, cumulative[kk] + inside, 0)

        return np.maximum(open_before(e) - open_before(s), 0)

    def is_open(self, ts_us: np.ndarray) -> np.ndarray:
        """Boolean mask: is the market open at each timestamp (epoch us)?"""
        ts = np.asarray(ts_us, dtype=np.int64)
        if len(ts) == 0:
            return np.zeros(0, dtype=bool)
        lo, hi = _date_bounds(int(ts.min()), int(ts.max()))
        _, opens, closes = self.sessions(lo, hi)
        k = np.searchsorted(opens, ts, side="right") - 1
        ok = k >= 0
        kk = np.clip(k, 0, None)
        return ok & (ts < closes[kk]) if len(opens) else np.zeros(len(ts), dtype=bool)


def _date_bounds(lo_us: int, hi_us: int, margin_days: int = 7) -> tuple[dt.date, dt.date]:
    lo = (np.datetime64(lo_us, "us") - np.timedelta64(margin_days, "D")).astype("datetime64[D]")
    hi = (np.datetime64(hi_us, "us") + np.timedelta64(margin_days, "D")).astype("datetime64[D]")
    return lo.astype(dt.date), hi.astype(dt.date)


_NY = "America/New_York"
CALENDARS: dict[str, TradingCalendar] = {
    c.name: c
    for c in (
        TradingCalendar(
            "fx_24_5",
            _NY,
            "1111100",
            dt.time(17),
            dt.time(17),
            -1,
            0,
            fx_holidays,
            description="FX 24/5: Sun 17:00 - Fri 17:00 America/New_York",
        ),
        TradingCalendar(
            "us_equity",
            _NY,
            "1111100",
            dt.time(9, 30),
            dt.time(16),
            0,
            0,
            nyse_holidays,
            nyse_early_closes,
            dt.time(13),
            description="NYSE regular session 09:30-16:00 America/New_York",
        ),
        TradingCalendar(
            "cme_globex",
            _NY,
            "1111100",
            dt.time(18),
            dt.time(17),
            -1,
            0,
            nyse_holidays,
            description="CME Globex: Sun 18:00 - Fri 17:00 ET, daily break 17:00-18:00",
        ),
        TradingCalendar(
            "crypto_24_7",
            "UTC",
            "1111111",
            dt.time(0),
            dt.time(0),
            0,
            1,
            description="Always open (UTC days)",
        ),
    )
}


def get_calendar(name: str, *, field: str = "calendar") -> TradingCalendar:
    """Calendar by name; ``DATA-011`` with suggestions for an unknown name."""
    try:
        return CALENDARS[name]
    except KeyError:
        raise ValidationError(
            codes.UNKNOWN_CALENDAR,
            f"Unknown trading calendar '{name}'; use one of {', '.join(CALENDARS)}.",
            field=field,
            suggestions=suggest(name, CALENDARS, cutoff=0.3),
        ) from None
