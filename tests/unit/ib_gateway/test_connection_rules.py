"""Reconnect backoff with jitter, the circuit breaker, farm messages, and the settings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktrdr_ib_gateway.domain.connection import (
    Backoff,
    BreakerState,
    CircuitBreaker,
    FarmState,
    parse_farm,
)
from ktrdr_ib_gateway.settings import IbGatewaySettings
from ktrdr_runtime.settings import SettingsError

AT = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)


@given(attempt=st.integers(0, 200), unit=st.floats(0, 1, exclude_max=True))
def test_backoff_doubles_from_one_second_within_the_jitter_and_the_cap(attempt, unit):
    backoff = Backoff(initial_seconds=1.0, cap_seconds=60.0, jitter=0.2)
    base = min(60.0, 2.0**attempt)
    assert 0.8 * base <= backoff.delay(attempt, unit) <= 1.2 * base


def test_backoff_without_jitter_is_1_2_4_capped():
    backoff = Backoff(initial_seconds=1.0, cap_seconds=10.0, jitter=0.0)
    assert [backoff.delay(n, 0.5) for n in range(6)] == [1, 2, 4, 8, 10, 10]


def test_breaker_opens_after_five_failures_and_half_opens_after_thirty_seconds():
    breaker = CircuitBreaker(failure_threshold=5, reset_seconds=30.0)
    for t in range(4):
        breaker.record_failure(float(t))
        assert breaker.state(float(t)) is BreakerState.CLOSED
    breaker.record_failure(4.0)
    assert breaker.state(4.0) is BreakerState.OPEN
    assert breaker.state(33.9) is BreakerState.OPEN and breaker.retry_at() == 34.0
    assert breaker.state(34.0) is BreakerState.HALF_OPEN
    breaker.record_failure(34.5)  # the trial failed: open again for 30 s
    assert breaker.state(35.0) is BreakerState.OPEN and breaker.retry_at() == 64.5
    breaker.record_success()
    assert breaker.state(65.0) is BreakerState.CLOSED and breaker.consecutive_failures == 0


@pytest.mark.parametrize(
    ("code", "message", "name", "kind", "state"),
    [
        (2104, "Market data farm connection is OK:usfarm", "usfarm", "market data", FarmState.OK),
        (2103, "Market data farm connection is broken:usfarm.nj", "usfarm.nj", "market data",
         FarmState.BROKEN),
        (2105, "HMDS data farm connection is broken:ushmds", "ushmds", "historical data",
         FarmState.BROKEN),
        (2106, "HMDS data farm connection is OK:euhmds", "euhmds", "historical data",
         FarmState.OK),
        (2107, "HMDS data farm connection is inactive but should be available upon demand.ushmds",
         "ushmds", "historical data", FarmState.INACTIVE),
        (2108, "Market data farm connection is inactive but should be available upon "
               "demand.usfarm.nj", "usfarm.nj", "market data", FarmState.INACTIVE),
        (2158, "Sec-def data farm connection is OK:secdefnj", "secdefnj", "security definitions",
         FarmState.OK),
    ],
)  # fmt: skip
def test_farm_messages_name_the_farm_and_its_state(code, message, name, kind, state):
    farm = parse_farm(code, message, AT)
    assert farm is not None
    assert (farm.name, farm.kind, farm.state, farm.code) == (name, kind, state, code)


def test_other_messages_are_not_farms():
    assert parse_farm(2100, "New account data requested from TWS.", AT) is None
    assert parse_farm(162, "Historical data request pacing violation", AT) is None


def test_settings_from_the_environment_build_the_domain_config():
    settings = IbGatewaySettings.from_env(
        {
            "KTRDR_IB_GATEWAY_IB_HOST": "10.0.0.5",
            "KTRDR_IB_GATEWAY_IB_PORT": "7496",
            "KTRDR_IB_GATEWAY_IB_CLIENT_ID": "12",
            "KTRDR_IB_GATEWAY_TIME_SCALE": "0.5",
        }
    )
    config = settings.gateway_config()
    assert (config.connection.host, config.connection.port, config.connection.client_id) == (
        "10.0.0.5",
        7496,
        12,
    )
    assert config.connection.trading_mode == "live" and config.time_scale == 0.5
    assert IbGatewaySettings.from_env({}).gateway_config().connection.trading_mode == "paper"


def test_bad_settings_are_all_named_at_once():
    with pytest.raises(SettingsError) as info:
        IbGatewaySettings.from_env(
            {
                "KTRDR_IB_GATEWAY_IB_PORT": "0",
                "KTRDR_IB_GATEWAY_TIME_SCALE": "2",
                "KTRDR_IB_GATEWAY_CONNECT_TIMEOUT_SECONDS": "-1",
                "KTRDR_IB_GATEWAY_BREAKER_FAILURES": "0",
            }
        )
    text = str(info.value)
    for name in ("IB_PORT", "TIME_SCALE", "CONNECT_TIMEOUT_SECONDS", "BREAKER_FAILURES"):
        assert f"KTRDR_IB_GATEWAY_{name}" in text
