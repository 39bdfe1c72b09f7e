"""The pacing limiter: every IB rule holds for any request sequence, and no request waits longer
than the rules force it to."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_ib_gateway.domain.pacing import PacedRequest, PacingLimiter, PacingRules, PacingSchedule

IB = PacingRules()
TOL = 1e-9  # float rounding of "booked + window"; a nanosecond is not a pacing violation


def violations(booked: list[tuple[float, PacedRequest]], rules: PacingRules) -> list[str]:
    """Brute force, straight from IB's wording: look at every window that starts at an event."""
    found = []
    events = sorted(booked, key=lambda e: e[0])
    for t0, _ in events:
        for span, limit, same in (
            (rules.window_seconds, rules.window_limit, lambda r: ("all",)),
            (rules.burst_seconds, rules.burst_limit, lambda r: r.group),
        ):
            groups: dict[tuple[str, ...], int] = {}
            for t, r in events:
                if t0 <= t < t0 + span - TOL:
                    groups[same(r)] = groups.get(same(r), 0) + r.weight
            found += [
                f"{k} {n} > {limit} in [{t0}, +{span})" for k, n in groups.items() if n > limit
            ]
    for (t1, a), (t2, b) in itertools.combinations(events, 2):
        if a.identity == b.identity and abs(t1 - t2) < rules.identical_seconds - TOL:
            found.append(f"identical {a.identity} at {t1} and {t2}")
    return found


requests = st.builds(
    PacedRequest,
    contract=st.sampled_from(["1@IDEALPRO", "2@SMART", "3@CME"]),
    tick_type=st.sampled_from(["MIDPOINT", "TRADES", "BID_ASK"]),
    identity=st.sampled_from([f"q{i}" for i in range(12)]),
)
arrivals = st.lists(
    st.tuples(st.floats(min_value=0, max_value=30, allow_nan=False), requests),
    min_size=1,
    max_size=90,
)
small_rules = st.builds(
    PacingRules,
    identical_seconds=st.sampled_from([1.5, 15.0]),
    burst_seconds=st.sampled_from([0.5, 2.0]),
    burst_limit=st.integers(2, 6),
    window_seconds=st.sampled_from([10.0, 600.0]),
    window_limit=st.integers(2, 60),
)


def run(schedule: PacingSchedule, arrivals: list[tuple[float, PacedRequest]]):
    now = 0.0
    booked = []
    for gap, request in arrivals:
        now += gap
        booked.append((schedule.book(request, now), request, now))
    return booked


@settings(max_examples=150, deadline=None)
@given(arrivals=arrivals, rules=small_rules)
def test_no_schedule_ever_breaks_an_ib_rule(arrivals, rules):
    booked = run(PacingSchedule(rules), arrivals)
    assert violations([(t, r) for t, r, _ in booked], rules) == []
    assert all(t >= arrived for t, _, arrived in booked)


@settings(max_examples=150, deadline=None)
@given(arrivals=arrivals, rules=small_rules)
def test_each_request_starts_as_soon_as_the_rules_allow(arrivals, rules):
    schedule = PacingSchedule(rules)
    earlier: list[tuple[float, PacedRequest]] = []
    now = 0.0
    for gap, request in arrivals:
        now += gap
        t = schedule.book(request, now)
        if t > now:  # a millisecond sooner would have broken a rule
            assert violations([*earlier, (t - 1e-3, request)], rules) != []
        earlier.append((t, request))


def test_one_contract_backfill_follows_the_closed_form_of_ibs_limits():
    # Same contract and tick type, all asked at once: 6 per 2 s, and 60 per 10 minutes.
    schedule = PacingSchedule(IB)
    times = [
        schedule.book(
            PacedRequest(contract="1@IDEALPRO", tick_type="MIDPOINT", identity=f"chunk{k}"), 0.0
        )
        for k in range(200)
    ]
    expected = [600 * (k // 60) + 2 * ((k % 60) // 6) for k in range(200)]
    assert times == pytest.approx(expected)


def test_bid_ask_counts_twice():
    schedule = PacingSchedule(IB)
    times = [
        schedule.book(
            PacedRequest(contract="1@IDEALPRO", tick_type="BID_ASK", identity=f"q{k}"), 0.0
        )
        for k in range(6)
    ]
    assert times == pytest.approx([0, 0, 0, 2, 2, 2])  # three per 2 s instead of six


def test_an_identical_request_waits_fifteen_seconds():
    schedule = PacingSchedule(IB)
    same = PacedRequest(contract="1@SMART", tick_type="TRADES", identity="AAPL|20240105|1 D|1 min")
    assert schedule.book(same, 0.0) == 0.0
    assert schedule.book(same, 1.0) == pytest.approx(15.0)
    other = PacedRequest(contract="1@SMART", tick_type="TRADES", identity="AAPL|20240104|1 D|1 min")
    assert schedule.book(other, 1.0) == pytest.approx(1.0)


def test_the_margin_widens_every_window():
    schedule = PacingSchedule(PacingRules(margin_seconds=0.5))
    times = [
        schedule.book(PacedRequest(contract="c", tick_type="TRADES", identity=f"q{k}"), 0.0)
        for k in range(7)
    ]
    assert times[6] == pytest.approx(2.5)


def test_scaling_shrinks_the_windows_but_not_the_margin():
    scaled = PacingRules(margin_seconds=0.01).scaled(0.01)
    assert (scaled.identical_seconds, scaled.burst_seconds, scaled.window_seconds) == (
        pytest.approx(0.15),
        pytest.approx(0.02),
        pytest.approx(6.0),
    )
    assert scaled.margin_seconds == 0.01
    with pytest.raises(ValueError, match="time_scale"):
        IB.scaled(0)


@pytest.mark.parametrize(
    ("field", "value"), [("window_seconds", 0), ("burst_limit", 1), ("margin_seconds", -1)]
)
def test_rules_reject_impossible_limits(field, value):
    with pytest.raises(ValueError, match=field):
        PacingRules(**{field: value})


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_limiter_waits_for_the_slot_and_reports_the_budget():
    clock = VirtualClock()
    limiter = PacingLimiter(IB, clock=clock, sleep=clock.sleep)
    for k in range(7):
        async with limiter.slot(
            PacedRequest(contract="c", tick_type="TRADES", identity=f"q{k}")
        ) as waited:
            pass
    assert waited == pytest.approx(2.0)  # the 7th waited for the 2-second window
    budget = limiter.budget()
    assert (budget.requests_in_window, budget.requests_total, budget.open_requests) == (7, 7, 0)
    assert budget.waited_seconds_total == pytest.approx(2.0)


async def test_limiter_keeps_at_most_fifty_requests_open():
    limiter = PacingLimiter(PacingRules(window_limit=1000, burst_limit=1000, max_open=50))
    release = asyncio.Event()
    peak = 0

    async def one(k: int) -> None:
        nonlocal peak
        async with limiter.slot(
            PacedRequest(contract=f"c{k}", tick_type="TRADES", identity=f"q{k}")
        ):
            peak = max(peak, limiter.open_requests)
            await release.wait()

    tasks = [asyncio.create_task(one(k)) for k in range(60)]
    await asyncio.sleep(0.05)
    assert limiter.open_requests == 50
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 50 and limiter.open_requests == 0
