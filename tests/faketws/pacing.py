"""IB's historical pacing rules as the fake TWS enforces them (independent of the gateway's).

On arrival of each historical or head-timestamp request, counted over the preceding windows
(every window multiplied by ``time_scale``):

* an identical request (same contract, end, duration, bar size, tick type, hours) within 15 s;
* a 7th request for one contract/exchange/tick type within 2 s;
* a 61st request within 10 minutes;
* a 51st request open at once

is a violation: the fake answers IB's error 162 "pacing violation" and does not count it.
A BID_ASK request counts twice.
"""

from __future__ import annotations

import collections
import dataclasses
import time


@dataclasses.dataclass
class FakePacing:
    time_scale: float = 1.0
    enabled: bool = True
    identical_seconds: float = 15.0
    burst_seconds: float = 2.0
    burst_limit: int = 6
    window_seconds: float = 600.0
    window_limit: int = 60
    max_open: int = 50
    violations: int = 0
    accepted: int = 0
    open_requests: int = 0
    _all: collections.deque[tuple[float, int]] = dataclasses.field(
        default_factory=collections.deque
    )
    _groups: dict[tuple[str, ...], collections.deque[tuple[float, int]]] = dataclasses.field(
        default_factory=dict
    )
    _identical: dict[tuple[str, ...], float] = dataclasses.field(default_factory=dict)

    def _count(self, events: collections.deque[tuple[float, int]], now: float, span: float) -> int:
        while events and now - events[0][0] >= span:
            events.popleft()
        return sum(w for _, w in events)

    def admit(
        self,
        *,
        group: tuple[str, ...],
        identity: tuple[str, ...],
        weight: int,
        now: float | None = None,
    ) -> bool:
        """Record a request arriving now; False (and a counted violation) if it breaks a rule."""
        now = time.monotonic() if now is None else now
        if not self.enabled:
            self.accepted += 1
            return True
        s = self.time_scale
        events = self._groups.setdefault(group, collections.deque())
        last = self._identical.get(identity)
        broken = (
            (last is not None and now - last < self.identical_seconds * s)
            or self._count(events, now, self.burst_seconds * s) + weight > self.burst_limit
            or self._count(self._all, now, self.window_seconds * s) + weight > self.window_limit
            or self.open_requests >= self.max_open
        )
        if broken:
            self.violations += 1
            return False
        self.accepted += 1
        self._identical[identity] = now
        events.append((now, weight))
        self._all.append((now, weight))
        return True
