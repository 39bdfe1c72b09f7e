"""Request planning: chunks tile the range, each request stays within IB's step table."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core.errors import ValidationError
from ktrdr_ib_gateway.domain.chunks import BAR_SIZES, MAX_CHUNKS, bar_size_for, plan_chunks

DAY_US = 86_400 * 1_000_000
# IB's historical step table (historical_limitations): the longest duration per bar size, in
# days, written out independently of the planner.
IB_LONGEST_DAYS = {
    "1 min": 1,
    "5 mins": 7,
    "15 mins": 7,
    "30 mins": 31,
    "1 hour": 31,
    "2 hours": 31,
    "4 hours": 31,
    "1 day": 366,
    "1 week": 366,
    "1 month": 366,
}
UNIT_DAYS = {"D": 1, "W": 7, "Y": 365}


def us(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) * 1_000_000


def days_of(duration: str) -> int:
    number, unit = duration.split()
    return int(number) * UNIT_DAYS[unit]


NOW = us("2026-06-01T12:34:00")
ranges = st.tuples(
    st.integers(us("2015-01-01T00:00:00"), us("2026-05-01T00:00:00")),
    st.integers(1, 400 * DAY_US),
)


@settings(max_examples=200, deadline=None)
@given(span=ranges, timeframe=st.sampled_from(sorted(BAR_SIZES)))
def test_chunks_tile_the_range_and_respect_ibs_longest_duration(span, timeframe):
    start, length = span
    end = start + length
    bar = BAR_SIZES[timeframe]
    chunks = plan_chunks(start, end, bar=bar, now_us=NOW)
    step = bar.seconds * 1_000_000
    last = min(end, NOW - NOW % step + step) if bar.intraday else end  # nothing after now
    if last <= start:
        assert chunks == []
        return
    assert chunks[0].start_us == start and chunks[-1].end_us == last
    for a, b in itertools.pairwise(chunks):
        assert a.end_us == b.start_us  # no hole, no overlap
    for c in chunks:
        assert days_of(c.duration) <= IB_LONGEST_DAYS[bar.ib_setting]
        reach_us = days_of(c.duration) * DAY_US
        assert c.request_end_us - reach_us <= c.start_us  # the request reaches back far enough
        assert c.request_end_us >= min(c.end_us, NOW)  # ... and forward
        assert c.request_end_us <= NOW


def test_intraday_chunks_start_on_utc_midnight():
    chunks = plan_chunks(
        us("2024-01-01T13:00:00"), us("2024-01-04T06:00:00"), bar=BAR_SIZES["1m"], now_us=NOW
    )
    assert [c.start_us for c in chunks] == [
        us("2024-01-01T13:00:00"),
        us("2024-01-02T00:00:00"),
        us("2024-01-03T00:00:00"),
        us("2024-01-04T00:00:00"),
    ]
    assert [c.duration for c in chunks] == ["1 D"] * 4


def test_one_day_chunks_skip_days_the_market_never_opens():
    # 2024-01-06 is a Saturday: FX has no bar that whole UTC day.
    chunks = plan_chunks(
        us("2024-01-05T00:00:00"),
        us("2024-01-08T00:00:00"),
        bar=BAR_SIZES["1m"],
        now_us=NOW,
        closed_weekdays={5},
    )
    assert [c.start_us for c in chunks] == [us("2024-01-05T00:00:00"), us("2024-01-07T00:00:00")]


def test_a_year_of_hourly_bars_needs_fourteen_requests_and_a_year_of_minutes_366():
    start, end = us("2023-01-01T00:00:00"), us("2024-01-01T00:00:00")
    assert len(plan_chunks(start, end, bar=BAR_SIZES["1h"], now_us=NOW)) == 14
    assert len(plan_chunks(start, end, bar=BAR_SIZES["1m"], now_us=NOW)) == 365


def test_daily_requests_reach_a_month_past_their_chunk_without_passing_now():
    chunks = plan_chunks(us("2020-01-01T00:00:00"), NOW, bar=BAR_SIZES["1d"], now_us=NOW)
    assert all(c.duration == "1 Y" for c in chunks)
    assert chunks[0].request_end_us == chunks[0].end_us + 35 * DAY_US
    assert chunks[-1].request_end_us == NOW


def test_the_range_end_is_cut_after_the_bar_in_progress():
    chunks = plan_chunks(us("2026-06-01T00:00:00"), us("2027-01-01T00:00:00"), bar=BAR_SIZES["1h"],
                         now_us=NOW)  # fmt: skip
    assert chunks[-1].end_us == us("2026-06-01T13:00:00")
    assert chunks[-1].request_end_us == NOW


def test_a_range_needing_too_many_requests_is_refused_with_the_count():
    with pytest.raises(ValidationError) as info:
        plan_chunks(us("2010-01-01T00:00:00"), us("2024-01-01T00:00:00"), bar=BAR_SIZES["1m"],
                    now_us=NOW)  # fmt: skip
    assert info.value.code == "IB-008"
    assert str(MAX_CHUNKS) in info.value.message and "5113" in info.value.message


def test_an_empty_range_needs_no_request():
    assert plan_chunks(NOW, NOW, bar=BAR_SIZES["1h"], now_us=NOW) == []


@pytest.mark.parametrize(("bad", "hint"), [("3m", "5m"), ("1min", "1m"), ("2d", "1d")])
def test_unsupported_bar_sizes_are_invalid_with_suggestions(bad, hint):
    with pytest.raises(ValidationError) as info:
        bar_size_for(bad)
    assert info.value.code == "IB-007" and info.value.field == "timeframe"
    assert hint in info.value.suggestions


def test_timeframes_are_read_like_everywhere_else_in_ktrdr():
    assert bar_size_for("1H").ib_setting == "1 hour"
    assert bar_size_for("TIMEFRAME_MN1").ib_setting == "1 month"


def test_five_second_bars_are_live_only():
    assert bar_size_for("5s", live=True).ib_setting == "5 secs"
    with pytest.raises(ValidationError, match="live only"):
        bar_size_for("5s")
