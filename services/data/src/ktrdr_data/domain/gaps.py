"""Gap analysis: classify every hole between consecutive stored bars.

For intraday timeframes a gap is ``[prev_open + bar_len, next_open)`` when non-empty. Its
expected trading time is measured against the calendar's sessions (vectorised with a cumulative
open-time function):

* trading time > 0 -> ``unexpected``; ``missing_bars = ceil(trading_seconds / bar_seconds)``;
* otherwise the gap lies inside one closure between sessions of trading dates A and B:
  ``holiday`` if a holiday date lies strictly between A and B, else ``weekend`` if a non-trading
  weekday (e.g. Saturday) does, else ``outside_trading_hours`` (overnight / daily break).

For daily bars each bar maps to its trading date (``TradingCalendar.session_label``) and gaps
are measured in sessions: missing sessions between two bars -> ``unexpected`` (missing_bars =
number of sessions), else holiday/weekend by the same rule. Weekly/monthly bars: a skipped
week/month is ``unexpected``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from ktrdr_core import bars as bars_mod
from ktrdr_core.calendars import TradingCalendar, _date_bounds
from ktrdr_core.timeframes import Timeframe
from ktrdr_data.domain.paging import Page

GAP_KINDS: tuple[str, ...] = ("weekend", "outside_trading_hours", "holiday", "unexpected")
_KIND_CODES = np.array(GAP_KINDS, dtype=object)


@dataclasses.dataclass(frozen=True, slots=True)
class Gap:
    start: pd.Timestamp  # end of the bar before the gap
    end: pd.Timestamp  # open time of the bar after the gap
    kind: str
    missing_bars: int

    @property
    def duration(self) -> pd.Timedelta:
        return self.end - self.start


@dataclasses.dataclass(frozen=True)
class GapReport:
    """All gaps of a series.

    ``gaps`` is a DataFrame with columns ``start``, ``end`` (UTC timestamps), ``kind``,
    ``missing_bars`` (int64) and ``duration`` (Timedelta), in time order.
    """

    timeframe: str
    calendar: str
    bars: int
    gaps: pd.DataFrame
    counts: dict[str, int]
    largest_unexpected: tuple[Gap, ...]

    @property
    def unexpected_missing_bars(self) -> int:
        g = self.gaps
        return int(g.loc[g["kind"] == "unexpected", "missing_bars"].sum())


def _classify_closure(
    cal: TradingCalendar, a: np.ndarray, b: np.ndarray, lo: dt.date, hi: dt.date
) -> np.ndarray:
    """Kind code (0 weekend, 1 outside hours, 2 holiday) for closures between dates a < b."""
    hol = cal.holidays(lo, hi)
    start = a + np.timedelta64(1, "D")
    between = (b - a).astype(np.int64) - 1
    busy_nohol = np.busday_count(start, b, weekmask=cal.weekmask)
    busy_hol = np.busday_count(start, b, weekmask=cal.weekmask, holidays=hol)
    kind = np.full(len(a), 1, dtype=np.int8)
    kind[between > busy_nohol] = 0
    kind[busy_nohol > busy_hol] = 2
    return kind


def analyze_gaps(
    bars: pd.DataFrame | pd.DatetimeIndex,
    timeframe: Timeframe,
    calendar: TradingCalendar,
    *,
    largest: int = 10,
) -> GapReport:
    """Classify the gaps between consecutive bars (sorted, unique index expected)."""
    index = bars.index if isinstance(bars, pd.DataFrame) else bars
    ts = bars_mod.index_to_us(index)
    n = len(ts)
    bar_us = timeframe.seconds * 1_000_000
    if n < 2:
        none = np.empty(0, np.int64)
        return _report(timeframe, calendar, n, none, none, none, np.empty(0, np.int8), largest)
    lo, hi = _date_bounds(int(ts[0]), int(ts[-1]))
    prev, nxt = ts[:-1], ts[1:]
    if timeframe.is_intraday:
        gap_start = prev + bar_us
        sel = nxt > gap_start
        a, b = gap_start[sel], nxt[sel]
        _, _, closes = calendar.sessions(lo, hi)
        dates = calendar.session_dates(lo, hi)
        trading = calendar.open_us_between(a, b)
        missing = -(-trading // bar_us)
        kind = np.full(len(a), 3, dtype=np.int8)
        closed = trading <= 0
        if closed.any():
            k = np.searchsorted(closes, a[closed], side="right") - 1
            k = np.clip(k, 0, len(dates) - 2)
            kind[closed] = _classify_closure(calendar, dates[k], dates[k + 1], lo, hi)
        missing = np.where(closed, 0, missing)
        return _report(timeframe, calendar, n, a, b, missing, kind, largest)

    if timeframe.seconds == 86_400:
        labels = calendar.session_label(ts)
        la, lb = labels[:-1], labels[1:]
        sel = (lb - la).astype(np.int64) > 1
        la, lb = la[sel], lb[sel]
        hol = calendar.holidays(lo, hi)
        missing = np.busday_count(
            la + np.timedelta64(1, "D"), lb, weekmask=calendar.weekmask, holidays=hol
        ).astype(np.int64)
        kind = np.full(len(la), 3, dtype=np.int8)
        closed = missing == 0
        kind[closed] = _classify_closure(calendar, la[closed], lb[closed], lo, hi)
        return _report(timeframe, calendar, n, prev[sel] + bar_us, nxt[sel], missing, kind, largest)

    # weekly / monthly: count skipped periods
    idx = pd.DatetimeIndex(ts.view("datetime64[us]"))
    if timeframe.code == "1w":
        period = (ts // (7 * 86_400_000_000)).astype(np.int64)
    else:
        period = (idx.year * 12 + idx.month).to_numpy().astype(np.int64)
    skipped = period[1:] - period[:-1] - 1
    sel = skipped > 0
    return _report(
        timeframe,
        calendar,
        n,
        prev[sel] + bar_us,
        nxt[sel],
        skipped[sel],
        np.full(int(sel.sum()), 3, dtype=np.int8),
        largest,
    )


def _report(
    tf: Timeframe,
    cal: TradingCalendar,
    n: int,
    start: np.ndarray,
    end: np.ndarray,
    missing: np.ndarray,
    kind: np.ndarray,
    largest: int,
) -> GapReport:
    frame = pd.DataFrame(
        {
            "start": bars_mod.utc_index(start),
            "end": bars_mod.utc_index(end),
            "kind": pd.Categorical.from_codes(kind.astype(np.int8), categories=list(GAP_KINDS)),
            "missing_bars": missing.astype(np.int64),
        }
    )
    frame["duration"] = frame["end"] - frame["start"]
    counts = {k: int(c) for k, c in zip(GAP_KINDS, np.bincount(kind, minlength=4), strict=True)}
    unexpected = frame[frame["kind"] == "unexpected"]
    top = unexpected.sort_values(["missing_bars", "duration"], ascending=False).head(largest)
    gaps = tuple(Gap(r.start, r.end, str(r.kind), int(r.missing_bars)) for r in top.itertuples())
    return GapReport(tf.code, cal.name, n, frame, counts, gaps)


def listed_gaps(
    report: GapReport, *, include_expected: bool, page: Page
) -> tuple[pd.DataFrame, str]:
    """The gaps to list on ``page`` (unexpected only unless ``include_expected``) and the
    token of the next page."""
    gaps = report.gaps
    if not include_expected:
        gaps = gaps[gaps["kind"] == "unexpected"]
    window, token = page.window(bars_mod.index_to_us(pd.DatetimeIndex(gaps["start"])))
    return gaps.iloc[window], token
