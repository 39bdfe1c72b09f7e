"""IB's bar stamps become bar-open UTC exactly as the data service stamps its bars.

References: hand-computed session opens across DST changes, the bundled GOOG daily bars, and
the core's resampler (``period_keys``, which stamps the weeks and months the data service
builds from daily bars).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktrdr_core.calendars import get_calendar
from ktrdr_core.resample import period_keys
from ktrdr_core.timeframes import TIMEFRAMES
from ktrdr_data.domain.bundled import bundled_frame
from ktrdr_ib_gateway.domain.chunks import BAR_SIZES
from ktrdr_ib_gateway.domain.contracts import SecType
from ktrdr_ib_gateway.domain.timestamps import bar_open_us, bar_opens_us, daily_open_us

CALENDAR = {SecType.CASH: "fx_24_5", SecType.STK: "us_equity", SecType.FUT: "cme_globex"}


def days64(days: list[dt.date]) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")


def test_intraday_bars_keep_ibs_open_time():
    opened = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)
    assert bar_open_us(opened, bar=BAR_SIZES["1h"], sec_type=SecType.STK) == int(
        opened.timestamp() * 1e6
    )
    eastern = opened.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert bar_open_us(eastern, bar=BAR_SIZES["5m"], sec_type=SecType.STK) == int(
        opened.timestamp() * 1e6
    )


def test_daily_stock_bars_match_the_bundled_goog_stamps():
    goog, _ = bundled_frame("GOOG")
    ib_dates = [ts.date() for ts in goog.index]  # IB sends the session date only
    got = bar_opens_us(ib_dates, bar=BAR_SIZES["1d"], sec_type=SecType.STK)
    assert np.array_equal(got, goog.index.as_unit("us").asi8)


@pytest.mark.parametrize(
    ("sec_type", "day", "opens_utc"),
    [
        # FX sessions open 17:00 New York the evening before: 22:00 UTC in winter, 21:00 in summer.
        (SecType.CASH, dt.date(2024, 3, 8), dt.datetime(2024, 3, 7, 22)),
        (SecType.CASH, dt.date(2024, 3, 11), dt.datetime(2024, 3, 10, 21)),  # DST began Sunday
        (SecType.CASH, dt.date(2024, 11, 1), dt.datetime(2024, 10, 31, 21)),
        (SecType.CASH, dt.date(2024, 11, 4), dt.datetime(2024, 11, 3, 22)),  # DST ended Sunday
        # CME Globex opens 18:00 New York the evening before.
        (SecType.FUT, dt.date(2024, 3, 8), dt.datetime(2024, 3, 7, 23)),
        (SecType.FUT, dt.date(2024, 3, 11), dt.datetime(2024, 3, 10, 22)),
        # Stocks: 00:00 UTC of the session date (the IB/Yahoo daily convention).
        (SecType.STK, dt.date(2024, 3, 11), dt.datetime(2024, 3, 11)),
    ],
)
def test_daily_bars_open_at_their_session_open_across_dst(sec_type, day, opens_utc):
    expected = int(opens_utc.replace(tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert daily_open_us(day, sec_type) == expected
    assert bar_open_us(day, bar=BAR_SIZES["1d"], sec_type=sec_type) == expected


def test_fx_daily_bar_of_a_monday_opens_sunday_17_new_york():
    monday = dt.date(2024, 1, 8)
    assert daily_open_us(monday, SecType.CASH) == int(
        dt.datetime(2024, 1, 7, 22, tzinfo=dt.UTC).timestamp() * 1e6
    )


def _trading_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if d.weekday() < 5]


@pytest.mark.parametrize("sec_type", [SecType.CASH, SecType.STK, SecType.FUT])
@pytest.mark.parametrize("timeframe", ["1w", "1M"])
def test_weekly_and_monthly_bars_stamped_at_period_end_become_the_data_services_period_open(
    sec_type, timeframe
):
    calendar = get_calendar(CALENDAR[sec_type])
    days = _trading_days(dt.date(2023, 12, 1), dt.date(2024, 12, 31))
    daily_stamps = calendar.period_open_us(days64(days))
    keys = period_keys(daily_stamps, TIMEFRAMES[timeframe], calendar)
    # IB dates each weekly/monthly bar with the last trading day of its period.
    last_day = {}
    for day, key in zip(days, keys.tolist(), strict=True):
        last_day[key] = day
    got = bar_opens_us(list(last_day.values()), bar=BAR_SIZES[timeframe], sec_type=sec_type)
    assert got.tolist() == list(last_day)


@given(
    day=st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31)),
    timeframe=st.sampled_from(["1d", "1w", "1M"]),
    sec_type=st.sampled_from([SecType.CASH, SecType.STK, SecType.FUT]),
)
def test_a_bar_is_never_stamped_after_the_session_it_is_dated_with(day, timeframe, sec_type):
    # No look-ahead: a bar dated D (its last trading day) opens no later than D's session.
    assert bar_open_us(day, bar=BAR_SIZES[timeframe], sec_type=sec_type) <= daily_open_us(
        day, sec_type
    )


def test_stamps_that_cannot_be_placed_are_refused():
    with pytest.raises(ValueError, match="formatDate=2"):
        bar_open_us(dt.datetime(2024, 1, 2, 9, 30), bar=BAR_SIZES["1h"], sec_type=SecType.STK)
    with pytest.raises(ValueError, match="date"):
        bar_open_us(dt.date(2024, 1, 2), bar=BAR_SIZES["1h"], sec_type=SecType.STK)
    with pytest.raises(ValueError, match="time"):
        bar_open_us(
            dt.datetime(2024, 1, 2, tzinfo=dt.UTC), bar=BAR_SIZES["1d"], sec_type=SecType.STK
        )
