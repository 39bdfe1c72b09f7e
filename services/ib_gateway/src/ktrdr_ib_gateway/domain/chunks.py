"""IB bar sizes per timeframe and the plan of requests that covers a range.

IB limits how far back one historical request may reach for each bar size (its step table,
``historical_limitations``). The longest duration used per request:

=========  ===========  =======================  =========================================
timeframe  IB bar size  longest request           chunk (part of the range one request owns)
=========  ===========  =======================  =========================================
1m         1 min        1 D                       1 UTC day
5m, 15m    5/15 mins    1 W                       7 UTC days
30m .. 4h  30 mins ..   1 M                       28 UTC days (asked as "28 D")
1d 1w 1M   1 day ..     1 Y                       300 days, asked as "1 Y" ending 35 days after
                                                  the chunk (IB dates daily bars and stamps
                                                  weekly/monthly bars at the period's end, so
                                                  the request overlaps its neighbours by a
                                                  month on each side)
=========  ===========  =======================  =========================================

Every chunk **owns** the half-open range ``[start, end)`` of bar open times; bars IB returns
outside it are dropped, so overlapping requests never produce duplicates and the owned ranges
tile ``[start, end)`` without holes. Intraday chunks are aligned on UTC midnight, which every
intraday bar boundary (1m .. 4h, epoch-aligned) divides. A one-day chunk on a UTC weekday when
the instrument never trades (Saturday for FX and futures, Sunday for stocks) is not requested.

Bounds: a plan has at most :data:`MAX_CHUNKS` requests (about 11 years of 1-minute bars);
longer ranges are rejected with ``IB-008`` rather than queued for hours.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable

from ktrdr_core.errors import ValidationError
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_ib_gateway.domain import errors as codes

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
MAX_CHUNKS = 4_000
# How far daily-and-longer requests reach past their chunk's end.
LONG_BAR_PAD_DAYS = 35
LONG_BAR_CHUNK_DAYS = 300


@dataclasses.dataclass(frozen=True, slots=True)
class BarSize:
    """One timeframe as IB knows it."""

    timeframe: str
    ib_setting: str  # IB's barSizeSetting, e.g. "1 hour"
    seconds: int  # nominal length (a month counts 30 days)
    chunk_days: int  # days of bars one request owns

    @property
    def intraday(self) -> bool:
        return self.seconds < 86_400


BAR_SIZES: dict[str, BarSize] = {
    b.timeframe: b
    for b in (
        BarSize("1m", "1 min", 60, 1),
        BarSize("5m", "5 mins", 300, 7),
        BarSize("15m", "15 mins", 900, 7),
        BarSize("30m", "30 mins", 1_800, 28),
        BarSize("1h", "1 hour", 3_600, 28),
        BarSize("2h", "2 hours", 7_200, 28),
        BarSize("4h", "4 hours", 14_400, 28),
        BarSize("1d", "1 day", 86_400, LONG_BAR_CHUNK_DAYS),
        BarSize("1w", "1 week", 604_800, LONG_BAR_CHUNK_DAYS),
        BarSize("1M", "1 month", 2_592_000, LONG_BAR_CHUNK_DAYS),
    )
}
# IB's 5-second real-time bars: live only (StreamLiveBars), never historical here.
REALTIME_5S = BarSize("5s", "5 secs", 5, 0)


def bar_size_for(timeframe: str, *, live: bool = False) -> BarSize:
    """The bar size of a timeframe code; ``5s`` only when ``live``.

    Raises
    ------
    ValidationError
        ``IB-007`` naming ``timeframe``, with close matches.
    """
    if live and timeframe == REALTIME_5S.timeframe:
        return REALTIME_5S
    try:
        return BAR_SIZES[parse_timeframe(timeframe).code]  # also "1H", "TIMEFRAME_H1"
    except (ValidationError, KeyError):
        pass
    allowed = [*BAR_SIZES, *([REALTIME_5S.timeframe] if live else [])]
    extra = "" if live else " (5-second bars are live only: StreamLiveBars)"
    raise ValidationError(
        codes.UNSUPPORTED_BAR_SIZE,
        f"'timeframe' {timeframe[:12]!r} is not a bar size the IB gateway serves; use one of "
        f"{', '.join(allowed)}{extra}.",
        field="timeframe",
        suggestions=difflib.get_close_matches(timeframe, allowed, n=3, cutoff=0.3),
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """One historical request: it owns bars opening in ``[start_us, end_us)``."""

    start_us: int
    end_us: int
    request_end_us: int  # endDateTime sent to IB
    duration: str  # durationStr sent to IB, e.g. "1 D", "28 D", "1 Y"


def _floor_day(us: int) -> int:
    return us - us % US_PER_DAY


def _weekday(day_us: int) -> int:
    """Monday = 0 of the UTC day starting at ``day_us`` (1970-01-01 was a Thursday)."""
    return (day_us // US_PER_DAY + 3) % 7


def plan_chunks(
    start_us: int,
    end_us: int,
    *,
    bar: BarSize,
    now_us: int,
    closed_weekdays: Iterable[int] = (),
) -> list[Chunk]:
    """Requests covering ``[start_us, end_us)``, oldest first (see the module docstring).

    ``end_us`` beyond ``now_us`` is cut at the next bar boundary after now (nothing later
    exists). ``closed_weekdays`` (Monday = 0) are skipped for one-day chunks.

    Raises
    ------
    ValidationError
        ``IB-008`` when the plan would need more than :data:`MAX_CHUNKS` requests.
    """
    if bar.chunk_days <= 0:
        raise ValueError(f"{bar.timeframe} bars are live only")
    step = bar.seconds * US_PER_SECOND
    end_us = min(end_us, now_us - now_us % step + step) if bar.intraday else end_us
    if start_us >= end_us:
        return []
    span = bar.chunk_days * US_PER_DAY
    anchor = _floor_day(start_us)
    needed = -(-(end_us - anchor) // span)
    if needed > MAX_CHUNKS:
        raise ValidationError(
            codes.INVALID_RANGE,
            f"The range needs {needed} IB requests of {bar.timeframe} bars; the limit is "
            f"{MAX_CHUNKS} per call. Split it into shorter ranges.",
            field="start_date",
        )
    closed = frozenset(closed_weekdays) if bar.chunk_days == 1 else frozenset()
    chunks = []
    for k in range(needed):
        lo = max(start_us, anchor + k * span)
        hi = min(end_us, anchor + (k + 1) * span)
        if closed and _weekday(_floor_day(lo)) in closed:
            continue
        chunks.append(_chunk(lo, hi, bar=bar, now_us=now_us))
    return chunks


def _chunk(lo: int, hi: int, *, bar: BarSize, now_us: int) -> Chunk:
    if bar.intraday:
        request_end = min(hi, now_us)  # never ask IB for an end in the future
        days = -(-(request_end - _floor_day(lo)) // US_PER_DAY)
        duration = f"{max(1, days)} D"
    else:
        request_end = min(hi + LONG_BAR_PAD_DAYS * US_PER_DAY, now_us)
        duration = "1 Y"
    return Chunk(start_us=lo, end_us=hi, request_end_us=request_end, duration=duration)
