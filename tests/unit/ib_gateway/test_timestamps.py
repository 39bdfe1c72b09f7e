"""IB's bar stamps become bar-open UTC exactly as the data service stamps its bars.

The references are the data service's own calendars and resampler (``period_open_us``,
``period_keys``) and the bundled GOOG daily bars, not the gateway's code.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktrdr_data.domain.bundled import bundled_frame
from ktrdr_data.domain.calendars import get_calendar
from ktrdr_data.domain.resample import period_keys
from ktrdr_ib_gateway.domain.chunks import BAR_SIZES
from ktrdr_ib_gateway.domain.contracts import SecType
from ktrdr_ib_gateway.domain.timestamps import bar_open_us, bar_opens_us, daily_open_us
from ktrdr_runtime.timeframes import TIMEFRAMES

CALENDAR = {SecType.CASH: "fx_24_5", SecType.STK: "us_equity", SecType.FUT: "cme_globex"}
DST_EDGES = [dt.date(2024, 3, 8) + dt.timedelta(days=i) for i in range(6)] + [
    dt.date(2024, 11, 1) + dt.timedelta(days=i) for i in range(6)
]


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


@pytest.mark.parametrize("sec_type", [SecType.CASH, SecType.FUT, SecType.STK])
def test_daily_bars_open_when_the_data_services_calendar_opens_the_session(sec_type):
    calendar = get_calendar(CALENDAR[sec_type])
    expected = calendar.period_open_us(days64(DST_EDGES))
    got = [daily_open_us(d, sec_type) for d in DST_EDGES]
    assert got == expected.tolist()


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
