"""Secrets through the one settings abstraction: from files (``*_FILE``) or the environment,
hidden in reprs, and redacted from every log line and error message."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import structlog

from ktrdr_backtest.settings import BacktestSettings
from ktrdr_core.errors import DataLossError
from ktrdr_core.sealed import EncryptionKey
from ktrdr_runtime import grpc_errors, secrets
from ktrdr_runtime.logging import configure_logging
from ktrdr_runtime.secrets import Secret
from ktrdr_runtime.settings import EncryptionSettings, ServiceSettings, SettingsError, secret_field

DB_PASSWORD = "s3cr3t-Pa55word"
DB_URL = f"postgresql://ktrdr:{DB_PASSWORD}@db.internal:5432/ktrdr"


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    secrets.forget_all()
    yield
    secrets.forget_all()


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Demo(ServiceSettings):
    SERVICE: ClassVar[str] = "demo"
    account: Secret | None = secret_field("KTRDR_DEMO_ACCOUNT")


def test_a_secret_comes_from_its_file_and_never_shows_in_the_settings_repr(
    tmp_path: Path,
) -> None:
    path = tmp_path / "account"
    path.write_text("DU1234567\n")
    settings = _Demo.from_env({"KTRDR_DEMO_ACCOUNT_FILE": str(path)})
    assert settings.account is not None and settings.account.reveal() == "DU1234567"
    assert "DU1234567" not in repr(settings) and "DU1234567" not in str(settings.account)
    assert _Demo.from_env({"KTRDR_DEMO_ACCOUNT": "DU7654321"}).account == Secret("DU7654321")
    assert _Demo.from_env({}).account is None


def test_bad_secret_settings_are_named_without_their_values(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    cases = {
        "are both set": {"KTRDR_DEMO_ACCOUNT": "DU1", "KTRDR_DEMO_ACCOUNT_FILE": str(empty)},
        "cannot read": {"KTRDR_DEMO_ACCOUNT_FILE": str(tmp_path / "missing")},
        "is empty": {"KTRDR_DEMO_ACCOUNT_FILE": str(empty)},
    }
    for expected, env in cases.items():
        with pytest.raises(SettingsError, match=expected) as info:
            _Demo.from_env(env)
        assert "KTRDR_DEMO_ACCOUNT" in str(info.value)
        assert "DU1" not in str(info.value)


def test_the_encryption_key_and_previous_keys_make_the_keyring(tmp_path: Path) -> None:
    new, old = EncryptionKey.generate(), EncryptionKey.generate()
    (tmp_path / "key").write_text(new.to_text())
    (tmp_path / "old").write_text(f"{old.material.hex()}\n")
    settings = EncryptionSettings.from_env(
        {
            "KTRDR_ENCRYPTION_KEY_FILE": str(tmp_path / "key"),
            "KTRDR_ENCRYPTION_PREVIOUS_KEYS_FILE": str(tmp_path / "old"),
        }
    )
    ring = settings.keyring()
    assert ring is not None and ring.primary == new and ring.previous == (old,)
    assert EncryptionSettings.from_env({}).keyring() is None


def test_a_malformed_encryption_key_is_refused_at_start_up_without_echo() -> None:
    with pytest.raises(SettingsError, match="KTRDR_ENCRYPTION_KEY") as info:
        EncryptionSettings.from_env({"KTRDR_ENCRYPTION_KEY": "not-a-key-at-all"})
    assert "not-a-key-at-all" not in str(info.value)
    with pytest.raises(SettingsError, match="without KTRDR_ENCRYPTION_KEY"):
        EncryptionSettings.from_env(
            {"KTRDR_ENCRYPTION_PREVIOUS_KEYS": EncryptionKey.generate().to_text()}
        )


def test_the_database_url_is_a_secret_read_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "db").write_text(DB_URL)
    settings = BacktestSettings.from_env({"KTRDR_DATABASE_URL_FILE": str(tmp_path / "db")})
    assert settings.results_database_url == DB_URL
    assert DB_PASSWORD not in repr(settings)


def test_every_encoding_of_a_secret_is_redacted() -> None:
    Secret(DB_URL)
    raw = DB_PASSWORD.encode()
    forms = [
        DB_URL,
        DB_PASSWORD,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        urllib.parse.quote(DB_PASSWORD, safe=""),
        raw.hex(),
    ]
    for form in forms:
        text = secrets.redact(f"connecting with <{form}> failed")
        assert form not in text and "[REDACTED]" in text


def test_secrets_are_redacted_from_structlog_library_logs_and_tracebacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = EncryptionKey.generate()
    EncryptionSettings.from_env({"KTRDR_ENCRYPTION_KEY": key.material.hex()}).keyring()
    Secret(DB_URL)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    configure_logging("test")
    log = structlog.get_logger("t")
    log.info("connecting", target=DB_URL, nested={"k": [f"pw={DB_PASSWORD}"]}, key=key.to_text())
    try:
        raise RuntimeError(f"could not open {DB_URL}")
    except RuntimeError:
        log.exception("failed")
    logging.getLogger("sqlalchemy.engine").warning("engine url %s", DB_URL)
    try:
        raise ValueError(f"key {key.to_text()} rejected")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    text = err.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert [entry["event"] for entry in lines] == ["connecting", "failed"]
    assert "engine url [REDACTED]" in text
    assert "rejected" in text and "could not open [REDACTED]" in text
    for secret in (DB_URL, DB_PASSWORD, key.to_text(), key.material.hex()):
        assert secret not in text


def test_an_error_message_quoting_a_secret_is_redacted_on_the_wire() -> None:
    Secret(DB_URL)
    status = grpc_errors.status_proto(
        DataLossError("COMMON-007", f"cannot read {DB_URL}", details={"url": DB_URL})
    )
    assert DB_PASSWORD not in status.SerializeToString().decode(errors="replace")
    assert "[REDACTED]" in status.message
