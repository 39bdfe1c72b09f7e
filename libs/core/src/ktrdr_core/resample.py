"""Multi-timeframe: resample OHLCV upward and align higher bars to a base series.

Bin boundaries (what we chose):

* intraday targets (5m .. 4h): bins anchored on the Unix epoch in UTC (4h bins start at 00:00,
  04:00, ... UTC), labelled by bin start, closed on the left — independent of the calendar;
* ``1d``: one bar per trading date of the calendar (``TradingCalendar.session_label``): FX days
  run 17:00-17:00 New York and are stamped at the session open (e.g. Sunday 21:00/22:00 UTC for
  Monday); equity days are the session, stamped 00:00 UTC of the date (the IB/Yahoo daily
  convention, as the bundled GOOG data); without a calendar, UTC calendar days;
* ``1w``: Monday-to-Sunday weeks of trading dates, stamped like the daily bar of that Monday;
* ``1M``: calendar months of trading dates, stamped like the daily bar of the 1st.

Aggregation: open=first, high=max, low=min, close=last, volume=sum. Only periods containing at
least one source bar are output (no invented bars). The last bar may be partial if the data ends
mid-period; :func:`align_to_base` never exposes it before its close, and :func:`closed_bars`
drops it: a period has closed when the source reaches its end or the market is closed from the
source's last close to the period's end (the close of its last session, per the calendar).

Look-ahead rule of :func:`align_to_base`: a base bar opening at t is known at ``t + base_len``;
it sees the most recent higher bar whose close time is ``<= t + base_len``. A higher bar's close
time is ``open + higher_len`` (exact for intraday and FX daily bars, conservative for equity
daily bars stamped 00:00 UTC and for weekly bars) and for ``1M`` the open of the following
calendar month (by the calendar, as :func:`period_keys` stamps it). Close times depend on the
bar alone, never on later bars, so a value seen at bar t does not change when bars after t are
added or removed, and an incremental stream can apply the same rule bar by bar. Bars before the
first visible higher bar get NaN (never back-filled).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ktrdr_core import bars as bars_mod
from ktrdr_core import codes
from ktrdr_core.calendars import US_PER_DAY, TradingCalendar
from ktrdr_core.errors import ValidationError
from ktrdr_core.timeframes import Timeframe

# A monthly bar opens at most a few days before the 1st of its month (session opens on the
# evening before); adding this and flooring to the month recovers the month from the open.
_MONTH_PROBE_US = 7 * US_PER_DAY


def period_keys(
    ts_us: np.ndarray, target: Timeframe, calendar: TradingCalendar | None = None
) -> np.ndarray:
    """Open timestamp (epoch us) of the ``target`` period containing each timestamp."""
    ts = np.asarray(ts_us, dtype=np.int64)
    if target.is_intraday:
        step = target.seconds * 1_000_000
        return ts - np.mod(ts, step)
    if calendar is None:
        labels = (ts // US_PER_DAY).astype("datetime64[D]")
    else:
        labels = calendar.session_label(ts)
    if target.code == "1w":
        # datetime64[D] day 0 (1970-01-01) is a Thursday; Monday-based weekday = (d + 3) % 7
        wd = (labels.astype(np.int64) + 3) % 7
        labels = labels - wd.astype("timedelta64[D]")
    elif target.code == "1M":
        labels = labels.astype("datetime64[M]").astype("datetime64[D]")
    if calendar is None:
        return labels.astype("datetime64[us]").astype(np.int64)
    uniq, inv = np.unique(labels, return_inverse=True)
    return calendar.period_open_us(uniq)[inv]


def resample(
    bars: pd.DataFrame,
    source_tf: Timeframe,
    target_tf: Timeframe,
    calendar: TradingCalendar | None = None,
) -> pd.DataFrame:
    """Resample a canonical (sorted, unique) bar frame to a higher timeframe.

    Raises
    ------
    ValidationError
        ``DATA-012`` naming ``timeframe`` when ``target_tf`` is not longer than ``source_tf``.
    """
    if target_tf.seconds <= source_tf.seconds:
        raise ValidationError(
            codes.INVALID_RESAMPLE,
            f"Cannot resample {source_tf.code} bars to {target_tf.code}: the target timeframe "
            "must be longer than the source.",
            field="timeframe",
        )
    if len(bars) == 0:
        return bars_mod.empty_frame()
    ts = bars_mod.index_to_us(bars.index)
    keys = period_keys(ts, target_tf, calendar)
    if np.any(keys[1:] < keys[:-1]):
        raise ValidationError(codes.INVALID_FRAME, "Bars must be sorted to resample.", field="bars")
    starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
    ends = np.concatenate((starts[1:], [len(ts)]))
    o, h, lo, c = (bars[k].to_numpy(np.float64) for k in bars_mod.PRICE_COLUMNS)
    v = bars["volume"].to_numpy(np.int64)
    return bars_mod.from_columns(
        keys[starts],
        o[starts],
        np.maximum.reduceat(h, starts),
        np.minimum.reduceat(lo, starts),
        c[ends - 1],
        np.add.reduceat(v, starts),
    )


def period_end_us(key_us: int, *, target: Timeframe, calendar: TradingCalendar | None) -> int:
    """When the ``target`` period opening at ``key_us`` ends (epoch us).

    Intraday: ``key + length``. Daily and longer with a calendar: the close of the last session
    whose trading date falls in the period; without one, the next UTC day/week/month.
    """
    if target.is_intraday:
        return key_us + target.seconds * 1_000_000
    day = np.datetime64(key_us, "us").astype("datetime64[D]")
    if calendar is not None:
        lo = (day - np.timedelta64(1, "D")).astype(dt.date)
        hi = (day + np.timedelta64(40, "D")).astype(dt.date)
        _, opens, closes = calendar.sessions(lo, hi)
        mine = period_keys(opens, target, calendar) == key_us
        if mine.any():
            return int(closes[mine].max())
    if target.code == "1M":
        nxt = (day.astype("datetime64[M]") + 1).astype("datetime64[D]")
    else:
        nxt = day + np.timedelta64(7 if target.code == "1w" else 1, "D")
    return int(nxt.astype("datetime64[us]").astype(np.int64))


def closed_bars(
    resampled: pd.DataFrame,
    *,
    target: Timeframe,
    calendar: TradingCalendar | None,
    source_end_us: int,
) -> pd.DataFrame:
    """``resampled`` without its last bar when that bar's period has not closed.

    Parameters
    ----------
    resampled
        The output of :func:`resample`.
    target
        Its timeframe.
    calendar
        The instrument's calendar (None: the period must be over in full).
    source_end_us
        Close time of the last source bar that exists (epoch us).
    """
    if len(resampled) == 0:
        return resampled
    key = int(bars_mod.index_to_us(resampled.index)[-1])
    end = period_end_us(key, target=target, calendar=calendar)
    if source_end_us >= end:
        return resampled
    if calendar is not None and not calendar.open_us_between(source_end_us, end)[0]:
        return resampled
    return resampled.iloc[:-1]


def period_close_us(
    opens_us: np.ndarray, target: Timeframe, calendar: TradingCalendar | None = None
) -> np.ndarray:
    """Close time (epoch us) of ``target`` periods opening at ``opens_us`` (as stamped by
    :func:`period_keys` with the same calendar): ``open + length``, and for ``1M`` the open of
    the following calendar month."""
    opens = np.asarray(opens_us, dtype=np.int64)
    if target.code != "1M":
        return opens + target.seconds * 1_000_000
    months = (opens + _MONTH_PROBE_US).astype("datetime64[us]").astype("datetime64[M]")
    following = (months + 1).astype("datetime64[D]")
    if calendar is None:
        return following.astype("datetime64[us]").astype(np.int64)
    return calendar.period_open_us(following)


def close_times_us(
    higher: pd.DataFrame | pd.DatetimeIndex,
    higher_tf: Timeframe,
    calendar: TradingCalendar | None = None,
) -> np.ndarray:
    """Close time (epoch us) of each higher bar per the module's look-ahead rule."""
    index = higher.index if isinstance(higher, pd.DataFrame) else higher
    return period_close_us(bars_mod.index_to_us(index), higher_tf, calendar)


def align_to_base(
    higher: pd.DataFrame,
    higher_tf: Timeframe,
    base_index: pd.DatetimeIndex,
    base_tf: Timeframe,
    calendar: TradingCalendar | None = None,
) -> pd.DataFrame:
    """For each base bar, the latest higher bar already closed when the base bar closes.

    ``calendar`` is the one the higher bars were resampled with (it places monthly closes).

    Returns
    -------
    DataFrame
        Indexed by ``base_index``; the columns of ``higher`` (float64, NaN where no higher bar
        is visible yet) plus ``higher_timestamp`` (open time of the aligned higher bar, NaT if
        none).
    """
    closes = close_times_us(higher, higher_tf, calendar)
    known = bars_mod.index_to_us(base_index) + base_tf.seconds * 1_000_000
    pos = np.searchsorted(closes, known, side="right") - 1
    visible = pos >= 0
    take = np.clip(pos, 0, None)
    out: dict[str, np.ndarray] = {}
    for col in higher.columns:
        vals = higher[col].to_numpy(np.float64)
        out[col] = np.where(visible, vals[take], np.nan) if len(vals) else np.full(len(pos), np.nan)
    h_ts = bars_mod.index_to_us(higher.index)
    stamp = np.where(visible, h_ts[take] if len(h_ts) else 0, np.iinfo(np.int64).min)
    frame = pd.DataFrame(out, index=base_index)
    frame["higher_timestamp"] = pd.DatetimeIndex(stamp.view("datetime64[us]")).tz_localize("UTC")
    return frame
