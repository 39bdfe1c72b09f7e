"""Events the domain reports for metrics (the service plugs in Prometheus; tests a recorder)."""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def connection_changed(self, *, connected: bool) -> None: ...

    def request_sent(self, kind: str) -> None:
        """One paced IB request (``historical``, ``head_timestamp``, ``live``) was sent."""
        ...

    def pacing_waited(self, seconds: float) -> None: ...

    def pacing_violation(self) -> None: ...

    def live_stalled(self, *, symbol: str, timeframe: str, stalled: bool) -> None:
        """A live subscription stalled (no bar within twice its interval) or resumed."""
        ...


class NullTelemetry:
    """Reports nothing."""

    def connection_changed(self, *, connected: bool) -> None:
        pass

    def request_sent(self, kind: str) -> None:
        pass

    def pacing_waited(self, seconds: float) -> None:
        pass

    def pacing_violation(self) -> None:
        pass

    def live_stalled(self, *, symbol: str, timeframe: str, stalled: bool) -> None:
        pass
