from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from data_testutil import make_bars

from ktrdr_core import bars as bars_mod
from ktrdr_core.calendars import (
    CALENDARS,
    easter_sunday,
    get_calendar,
    nyse_early_closes,
    nyse_holidays,
)
from ktrdr_core.errors import ValidationError
from ktrdr_core.timeframes import TIMEFRAMES
from ktrdr_data.domain.bundled import bundled_frame
from ktrdr_data.domain.gaps import analyze_gaps
from ktrdr_data.domain.synthetic import SyntheticConfig, generate

D = dt.date
FX, EQ, CME = CALENDARS["fx_24_5"], CALENDARS["us_equity"], CALENDARS["cme_globex"]


def test_nyse_holidays_2024_by_rule():
    assert sorted(nyse_holidays(2024)) == [
        D(2024, 1, 1),
        D(2024, 1, 15),
        D(2024, 2, 19),
        D(2024, 3, 29),
        D(2024, 5, 27),
        D(2024, 6, 19),
        D(2024, 7, 4),
        D(2024, 9, 2),
        D(2024, 11, 28),
        D(2024, 12, 25),
    ]


def test_nyse_observance_rules():
    assert D(2021, 12, 24) in nyse_holidays(2021)  # Christmas on Saturday -> Friday
    assert D(2022, 12, 26) in nyse_holidays(2022)  # Christmas on Sunday -> Monday
    assert not any(d.month == 12 and d.day == 31 for d in nyse_holidays(2021))  # NY on Sat
    assert all(d.month != 6 for d in nyse_holidays(2021))  # no Juneteenth before 2022
    assert D(2022, 6, 20) in nyse_holidays(2022)  # Juneteenth Sunday -> Monday
    assert D(2026, 7, 3) in nyse_holidays(2026)  # July 4 on Saturday -> Friday
    assert easter_sunday(2024) == D(2024, 3, 31) and easter_sunday(2019) == D(2019, 4, 21)
    assert D(2024, 11, 29) in nyse_early_closes(2024)


def test_fx_week_opens_sunday_17_new_york_across_dst():
    for day, utc_hour in [(D(2024, 7, 8), 21), (D(2024, 1, 8), 22)]:  # Mondays (EDT / EST)
        _, opens, _ = FX.sessions(day, day)
        assert pd.Timestamp(opens[0], unit="us", tz="UTC") == pd.Timestamp(
            day - dt.timedelta(days=1), tz="UTC"
        ) + pd.Timedelta(hours=utc_hour)
    friday = pd.Timestamp("2024-07-12 20:59", tz="UTC")
    assert FX.is_open(
        np.array([friday.value // 1000, friday.value // 1000 + 60_000_000])
    ).tolist() == [True, False]


def test_cme_daily_break_is_closed():
    t = [
        pd.Timestamp(f"2024-07-10 {h}", tz="America/New_York").value // 1000
        for h in ("16:59", "17:30", "18:00")
    ]
    assert CME.is_open(np.array(t)).tolist() == [True, False, True]


def test_unknown_calendar_suggests():
    with pytest.raises(ValidationError) as exc:
        get_calendar("fx_245")
    assert exc.value.code == "DATA-011" and "fx_24_5" in exc.value.suggestions


def test_bundled_eurusd_gaps_are_weekends_and_christmas_new_year():
    bars, _ = bundled_frame("EURUSD")
    report = analyze_gaps(bars, TIMEFRAMES["1h"], FX)
    assert report.counts == {
        "weekend": 40,
        "outside_trading_hours": 0,
        "holiday": 2,
        "unexpected": 0,
    }
    holiday_ends = set(report.gaps.loc[report.gaps.kind == "holiday", "end"].dt.date)
    assert holiday_ends == {D(2017, 12, 25), D(2018, 1, 1)}  # reopen 17:00 NY on the holiday


def test_bundled_goog_daily_gaps_are_weekends_and_nyse_holidays():
    bars, _ = bundled_frame("GOOG")
    report = analyze_gaps(bars, TIMEFRAMES["1d"], EQ)
    assert report.counts["unexpected"] == 0
    assert report.counts["weekend"] > 300 and report.counts["holiday"] > 60
    hol = report.gaps[report.gaps.kind == "holiday"]
    # Thanksgiving 2004 (Thu) and hurricane Sandy 2012 are explained as holidays
    assert (hol["start"] == pd.Timestamp("2004-11-25", tz="UTC")).any()
    assert (hol["end"] == pd.Timestamp("2012-10-31", tz="UTC")).any()


def _session_bars(days: list[str], freq: str = "1h") -> pd.DataFrame:
    """Hourly equity bars opening 09:30, 10:30 ... 15:30 New York on the given days."""
    stamps = [
        pd.Timestamp(f"{d} {h:02d}:30", tz="America/New_York").tz_convert("UTC")
        for d in days
        for h in range(9, 16)
    ]
    idx = pd.DatetimeIndex(stamps)
    n = len(idx)
    return bars_mod.from_columns(
        bars_mod.index_to_us(idx),
        np.full(n, 10.0),
        np.full(n, 11.0),
        np.full(n, 9.0),
        np.full(n, 10.0),
        np.ones(n, np.int64),
    )


def test_thanksgiving_gap_is_holiday_and_overnight_is_outside_hours():
    bars = _session_bars(["2023-11-21", "2023-11-22", "2023-11-24"])
    report = analyze_gaps(bars, TIMEFRAMES["1h"], EQ)
    kinds = report.gaps["kind"].tolist()
    assert kinds == ["outside_trading_hours", "holiday"]


def test_good_friday_weekend_is_holiday():
    bars = _session_bars(["2024-03-28", "2024-04-01"])  # Thu -> Mon, Good Friday 2024-03-29
    report = analyze_gaps(bars, TIMEFRAMES["1h"], EQ)
    assert report.gaps["kind"].tolist() == ["holiday"]
    daily = analyze_gaps(
        pd.DatetimeIndex(["2024-03-28", "2024-04-01"], tz="UTC"), TIMEFRAMES["1d"], EQ
    )
    assert daily.gaps["kind"].tolist() == ["holiday"]
    assert daily.gaps["missing_bars"].tolist() == [0]


def test_intraday_hole_is_unexpected_with_missing_bar_count():
    bars = make_bars("2024-07-10 00:00", 48)  # Wed-Thu FX, all open
    holed = bars.drop(bars.index[10:13])  # lose 3 hours
    report = analyze_gaps(holed, TIMEFRAMES["1h"], FX)
    assert report.counts["unexpected"] == 1
    gap = report.largest_unexpected[0]
    assert gap.missing_bars == 3
    assert (gap.start, gap.end) == (bars.index[10], bars.index[13])


def test_missing_trading_day_in_daily_bars_is_unexpected():
    idx = pd.DatetimeIndex(["2024-07-08", "2024-07-09", "2024-07-11", "2024-07-12"], tz="UTC")
    report = analyze_gaps(idx, TIMEFRAMES["1d"], EQ)
    assert report.gaps["kind"].tolist() == ["unexpected"]
    assert report.gaps["missing_bars"].tolist() == [1]


def test_million_synthetic_fx_minute_bars_have_only_weekend_and_holiday_gaps():
    bars = generate(SyntheticConfig(bars=1_000_000, timeframe="1m", seed=1))
    report = analyze_gaps(bars, TIMEFRAMES["1m"], FX)
    assert report.counts["unexpected"] == 0 and report.counts["outside_trading_hours"] == 0
    assert report.counts["weekend"] >= 95  # ~2 years of weeks
    holed = bars.drop(bars.index[500_000:500_010])
    assert analyze_gaps(holed, TIMEFRAMES["1m"], FX).unexpected_missing_bars == 10
