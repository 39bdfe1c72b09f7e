"""Settings validation, error messages and timeframe parsing."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest

from ktrdr_core import errors
from ktrdr_core.timeframes import TIMEFRAMES, parse_timeframe
from ktrdr_runtime.settings import ServiceSettings, SettingsError, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class DataLikeSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "data"
    data_dir: Path = env_field("KTRDR_DATA_DIR", Path("/tmp/x"))
    import_bundled: bool = True


def test_defaults_come_from_the_service_port_table():
    s = DataLikeSettings.from_env({})
    assert (s.port, s.metrics_port, s.host) == (50051, 9101, "127.0.0.1")


def test_prefixed_and_shared_variables_are_read_and_typed():
    s = DataLikeSettings.from_env(
        {
            "KTRDR_DATA_PORT": "6000",
            "KTRDR_DATA_DIR": "/srv/d",
            "KTRDR_DATA_IMPORT_BUNDLED": "no",
            "KTRDR_LOG_LEVEL": "debug",
        }
    )
    assert s.port == 6000
    assert s.data_dir == Path("/srv/d")
    assert s.import_bundled is False


def test_every_bad_variable_is_named_in_one_error():
    with pytest.raises(SettingsError) as info:
        DataLikeSettings.from_env(
            {"KTRDR_DATA_PORT": "eighty", "KTRDR_DATA_IMPORT_BUNDLED": "maybe"}
        )
    text = str(info.value)
    assert "KTRDR_DATA_PORT='eighty'" in text and "expected an integer" in text
    assert "KTRDR_DATA_IMPORT_BUNDLED='maybe'" in text


def test_out_of_range_values_are_rejected_after_parsing():
    with pytest.raises(SettingsError, match=r"KTRDR_DATA_PORT=70000 is not a port"):
        DataLikeSettings.from_env({"KTRDR_DATA_PORT": "70000"})
    with pytest.raises(SettingsError, match="KTRDR_LOG_LEVEL='LOUD'"):
        DataLikeSettings.from_env({"KTRDR_LOG_LEVEL": "LOUD"})


def test_error_message_carries_suggestions():
    err = errors.NotFoundError(
        "IND-001",
        "Unknown indicator 'rsii'.",
        suggestions=errors.suggest("rsii", ["rsi", "roc", "sma"]),
    )
    assert err.full_message == "Unknown indicator 'rsii'. Did you mean 'rsi'?"
    assert err.status is errors.Status.NOT_FOUND


def test_an_error_without_code_or_message_is_refused():
    with pytest.raises(ValueError):
        errors.ValidationError("", "x")
    with pytest.raises(ValueError):
        errors.ValidationError("X-1", "")


@pytest.mark.parametrize("code", list(TIMEFRAMES))
def test_every_timeframe_code_round_trips(code):
    tf = parse_timeframe(code)
    assert tf.code == code
    assert parse_timeframe(tf.enum_name) is tf


def test_minute_and_month_are_distinct_and_hour_case_is_forgiven():
    assert parse_timeframe("1m").seconds == 60
    assert parse_timeframe("1M").seconds == 30 * 86400
    assert parse_timeframe("1H").code == "1h"


def test_unknown_timeframe_names_the_field_and_suggests():
    with pytest.raises(errors.ValidationError) as info:
        parse_timeframe("1hr", field="compute_timeframe")
    assert info.value.code == "COMMON-002"
    assert info.value.field == "compute_timeframe"
    assert "1h" in info.value.suggestions
