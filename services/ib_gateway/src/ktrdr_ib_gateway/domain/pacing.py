"""The one limiter that keeps historical requests within every IB pacing rule.

IB's rules for historical data (TWS API "historical_limitations"), all enforced together:

1. no identical request within 15 s;
2. at most 6 requests for the same contract, exchange and tick type within 2 s;
3. at most 60 requests in any 10-minute period;
4. at most 50 requests open at once.

A BID_ASK request counts twice for rules 2 and 3. Head-timestamp requests are paced like
historical ones (IB counts them against the same service).

A sliding-window rule "at most L events in any window of W seconds" holds exactly when, for the
sorted event times, ``e[i + L] - e[i] >= W`` for every i. :class:`PacingSchedule` books each
request at the earliest time at which every rule still holds (the earliest such time is either
now or some booked event plus a window, so only those candidates are checked). It is pure: it
takes ``now`` as an argument, so tests drive it with a virtual clock. ``margin_seconds`` widens
every window to absorb latency differences between this process and IB's clock.

``PacingRules.scaled(time_scale)`` shrinks every window by one factor (the margin is absolute);
only the fake TWS, which scales its own enforcement by the same factor, is ever run below 1.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

_EPS = 1e-9
K = TypeVar("K")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PacingRules:
    """IB's historical pacing limits (defaults are IB's)."""

    identical_seconds: float = 15.0
    burst_seconds: float = 2.0
    burst_limit: int = 6
    window_seconds: float = 600.0
    window_limit: int = 60
    max_open: int = 50
    margin_seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("identical_seconds", "burst_seconds", "window_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} was <= 0")
        for name in ("burst_limit", "window_limit", "max_open"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} was < 2 (a BID_ASK request counts twice)")
        if self.margin_seconds < 0:
            raise ValueError("margin_seconds was < 0")

    def scaled(self, time_scale: float) -> PacingRules:
        """The same rules with every window multiplied by ``time_scale`` (0 < scale <= 1)."""
        if not 0 < time_scale <= 1:
            raise ValueError(f"time_scale {time_scale} is not in (0, 1]")
        return dataclasses.replace(
            self,
            identical_seconds=self.identical_seconds * time_scale,
            burst_seconds=self.burst_seconds * time_scale,
            window_seconds=self.window_seconds * time_scale,
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PacedRequest:
    """What IB's rules compare: the contract (conId@exchange), tick type and the whole request."""

    contract: str
    tick_type: str
    identity: str

    @property
    def weight(self) -> int:
        return 2 if self.tick_type == "BID_ASK" else 1

    @property
    def group(self) -> tuple[str, str]:
        return (self.contract, self.tick_type)


def fits(times: list[float], t: float, *, weight: int, limit: int, span: float) -> bool:
    """Would ``weight`` events at ``t`` keep every ``limit + 1`` consecutive events ``span`` apart?

    ``times`` is sorted and is not modified.
    """
    pos = bisect.bisect_right(times, t)
    merged = [*times[:pos], *([t] * weight), *times[pos:]]
    for i in range(max(0, pos - limit), min(pos + weight, len(merged) - limit)):
        if merged[i + limit] - merged[i] < span - _EPS:
            return False
    return True


class PacingSchedule:
    """Booked request times per rule; pure (the caller passes ``now``)."""

    def __init__(self, rules: PacingRules) -> None:
        self.rules = rules
        self._all: list[float] = []
        self._groups: dict[tuple[str, str], list[float]] = {}
        self._identical: dict[str, list[float]] = {}

    def _valid(self, request: PacedRequest, t: float) -> bool:
        r, m, w = self.rules, self.rules.margin_seconds, request.weight
        same = self._identical.get(request.identity, ())
        if any(abs(t - e) < r.identical_seconds + m - _EPS for e in same):
            return False
        group = self._groups.get(request.group, [])
        return fits(group, t, weight=w, limit=r.burst_limit, span=r.burst_seconds + m) and fits(
            self._all, t, weight=w, limit=r.window_limit, span=r.window_seconds + m
        )

    def earliest(self, request: PacedRequest, now: float) -> float:
        """The earliest time ``>= now`` at which ``request`` keeps every rule."""
        r, m = self.rules, self.rules.margin_seconds
        candidates = {now}
        same = self._identical.get(request.identity, ())
        candidates.update(e + r.identical_seconds + m for e in same)
        candidates.update(e + r.burst_seconds + m for e in self._groups.get(request.group, ()))
        candidates.update(e + r.window_seconds + m for e in self._all)
        for t in sorted(c for c in candidates if c >= now):
            if self._valid(request, t):
                return t
        raise AssertionError("the latest candidate always fits")  # pragma: no cover

    def book(self, request: PacedRequest, now: float) -> float:
        """Book ``request`` at :meth:`earliest` and return that time."""
        self.prune(now)
        t = self.earliest(request, now)
        for _ in range(request.weight):
            bisect.insort(self._all, t)
            bisect.insort(self._groups.setdefault(request.group, []), t)
        bisect.insort(self._identical.setdefault(request.identity, []), t)
        return t

    def prune(self, now: float) -> None:
        """Forget bookings no window reaching ``now`` or later can contain."""
        r, m = self.rules, self.rules.margin_seconds
        self._all = _after(self._all, now - r.window_seconds - m)
        self._groups = _prune_map(self._groups, now - r.burst_seconds - m)
        self._identical = _prune_map(self._identical, now - r.identical_seconds - m)

    def in_window(self, now: float) -> int:
        """Weighted requests booked in the window ending at ``now``."""
        lo = bisect.bisect_right(self._all, now - self.rules.window_seconds)
        hi = bisect.bisect_right(self._all, now)
        return hi - lo


def _after(times: list[float], cutoff: float) -> list[float]:
    return times[bisect.bisect_right(times, cutoff) :]


def _prune_map(mapping: dict[K, list[float]], cutoff: float) -> dict[K, list[float]]:
    kept = {k: _after(v, cutoff) for k, v in mapping.items()}
    return {k: v for k, v in kept.items() if v}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PacingBudget:
    """What the pacing rules still allow, for status."""

    requests_in_window: int
    window_limit: int
    window_seconds: float
    open_requests: int
    max_open_requests: int
    requests_total: int
    violations_total: int
    waited_seconds_total: float
    time_scale: float


class PacingLimiter:
    """Async front of :class:`PacingSchedule`: waits for a slot, counts open requests.

    ``async with limiter.slot(request): ...`` sends the request inside the block.
    """

    def __init__(
        self,
        rules: PacingRules,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rules = rules
        self.time_scale = time_scale
        self.schedule = PacingSchedule(rules)
        self._clock = clock
        self._sleep = sleep
        self._open = asyncio.Semaphore(rules.max_open)
        self.open_requests = 0
        self.requests_total = 0
        self.violations_total = 0
        self.waited_seconds_total = 0.0

    @contextlib.asynccontextmanager
    async def slot(self, request: PacedRequest) -> AsyncIterator[float]:
        """Wait until ``request`` may be sent; yields the seconds waited."""
        async with self._open:
            now = self._clock()
            wait = self.schedule.book(request, now) - now
            if wait > 0:
                self.waited_seconds_total += wait
                await self._sleep(wait)
            self.requests_total += 1
            self.open_requests += 1
            try:
                yield max(wait, 0.0)
            finally:
                self.open_requests -= 1

    def record_violation(self) -> None:
        """Count a pacing violation IB reported despite the limiter."""
        self.violations_total += 1

    def budget(self) -> PacingBudget:
        now = self._clock()
        return PacingBudget(
            requests_in_window=self.schedule.in_window(now),
            window_limit=self.rules.window_limit,
            window_seconds=self.rules.window_seconds,
            open_requests=self.open_requests,
            max_open_requests=self.rules.max_open,
            requests_total=self.requests_total,
            violations_total=self.violations_total,
            waited_seconds_total=self.waited_seconds_total,
            time_scale=self.time_scale,
        )
