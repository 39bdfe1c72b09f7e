"""Prometheus metrics of the IB gateway (the domain's Telemetry, on the service's metrics port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

IB_CONNECTED = Gauge("ktrdr_ib_connected", "1 while connected to TWS / IB Gateway.")
IB_REQUESTS = Counter("ktrdr_ib_requests_total", "Paced requests sent to IB, by kind.", ["kind"])
IB_PACING_WAIT = Counter(
    "ktrdr_ib_pacing_wait_seconds_total", "Seconds requests waited for the pacing limiter."
)
IB_PACING_VIOLATIONS = Counter(
    "ktrdr_ib_pacing_violations_total", "IB pacing violations (error 162) received; goal: 0."
)
IB_LIVE_STALLS = Counter(
    "ktrdr_ib_live_stalls_total",
    "Live subscriptions that went twice their bar interval without a bar.",
    ["timeframe"],
)
IB_LIVE_STALLED = Gauge(
    "ktrdr_ib_live_stalled", "Live subscriptions stalled now.", ["symbol", "timeframe"]
)


class PrometheusTelemetry:
    """Reports the domain's events as the metrics above."""

    def connection_changed(self, *, connected: bool) -> None:
        IB_CONNECTED.set(1 if connected else 0)

    def request_sent(self, kind: str) -> None:
        IB_REQUESTS.labels(kind).inc()

    def pacing_waited(self, seconds: float) -> None:
        if seconds > 0:
            IB_PACING_WAIT.inc(seconds)

    def pacing_violation(self) -> None:
        IB_PACING_VIOLATIONS.inc()

    def live_stalled(self, *, symbol: str, timeframe: str, stalled: bool) -> None:
        IB_LIVE_STALLED.labels(symbol, timeframe).set(1 if stalled else 0)
        if stalled:
            IB_LIVE_STALLS.labels(timeframe).inc()
