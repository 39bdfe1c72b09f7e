"""Settings read from files (``<VARIABLE>_FILE``): how Kubernetes hands a pod its secrets."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from ktrdr_runtime.settings import (
    MAX_VALUE_FILE_BYTES,
    ServiceSettings,
    SettingsError,
    env_field,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SecretLikeSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "backtest"
    database_url: str = env_field("KTRDR_DATABASE_URL", "")
    workers: int = 1


def test_a_value_is_read_from_the_file_its_file_variable_names(tmp_path):
    secret = tmp_path / "url"
    secret.write_text("postgresql://ktrdr:s3cret@db:5432/ktrdr\n")
    workers = tmp_path / "workers"
    workers.write_text("4")
    settings = SecretLikeSettings.from_env(
        {"KTRDR_DATABASE_URL_FILE": str(secret), "KTRDR_BACKTEST_WORKERS_FILE": str(workers)}
    )
    assert settings.database_url == "postgresql://ktrdr:s3cret@db:5432/ktrdr"
    assert settings.workers == 4


def test_only_one_trailing_newline_is_dropped(tmp_path):
    secret = tmp_path / "url"
    secret.write_bytes(b"line one\r\n\r\n")
    settings = SecretLikeSettings.from_env({"KTRDR_DATABASE_URL_FILE": str(secret)})
    assert settings.database_url == "line one\r\n"


def test_the_variable_and_its_file_together_are_refused(tmp_path):
    secret = tmp_path / "url"
    secret.write_text("postgresql://db/x")
    with pytest.raises(SettingsError, match="KTRDR_DATABASE_URL and KTRDR_DATABASE_URL_FILE"):
        SecretLikeSettings.from_env(
            {"KTRDR_DATABASE_URL": "postgresql://db/y", "KTRDR_DATABASE_URL_FILE": str(secret)}
        )


def test_a_missing_file_is_named_with_every_other_problem(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(SettingsError) as info:
        SecretLikeSettings.from_env(
            {"KTRDR_DATABASE_URL_FILE": str(missing), "KTRDR_BACKTEST_PORT": "eighty"}
        )
    text = str(info.value)
    assert f"KTRDR_DATABASE_URL_FILE='{missing}' cannot be read" in text
    assert "KTRDR_BACKTEST_PORT='eighty'" in text


def test_errors_never_quote_what_a_file_holds(tmp_path):
    secret = tmp_path / "workers"
    secret.write_text("hunter2-not-a-number")
    with pytest.raises(SettingsError) as info:
        SecretLikeSettings.from_env({"KTRDR_BACKTEST_WORKERS_FILE": str(secret)})
    assert "KTRDR_BACKTEST_WORKERS_FILE" in str(info.value)
    assert "expected an integer" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_files_over_the_bound_or_not_utf8_are_refused(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * (MAX_VALUE_FILE_BYTES + 1))
    with pytest.raises(SettingsError, match=f"is over {MAX_VALUE_FILE_BYTES} bytes"):
        SecretLikeSettings.from_env({"KTRDR_DATABASE_URL_FILE": str(big)})
    at_bound = tmp_path / "at-bound"
    at_bound.write_bytes(b"x" * MAX_VALUE_FILE_BYTES)
    read = SecretLikeSettings.from_env({"KTRDR_DATABASE_URL_FILE": str(at_bound)})
    assert len(read.database_url) == MAX_VALUE_FILE_BYTES
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SettingsError, match="is not UTF-8 text"):
        SecretLikeSettings.from_env({"KTRDR_DATABASE_URL_FILE": str(binary)})


@pytest.mark.parametrize("seconds", ["0.5", "86401"])
def test_connection_age_outside_its_bounds_is_refused(seconds):
    with pytest.raises(SettingsError, match="KTRDR_MAX_CONNECTION_AGE_SECONDS"):
        SecretLikeSettings.from_env({"KTRDR_MAX_CONNECTION_AGE_SECONDS": seconds})
