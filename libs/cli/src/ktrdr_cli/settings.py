"""Settings of the ``ktrdr`` command, read by the runtime's one settings abstraction.

``KTRDR_API_URL``; the API key from ``KTRDR_API_KEY_FILE`` (or ``KTRDR_API_KEY``); the
encryption key (``KTRDR_ENCRYPTION_KEY_FILE``) to open the sealed dev key and key store.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ktrdr_runtime.secrets import Secret
from ktrdr_runtime.settings import EncryptionSettings, env_field, secret_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class CliSettings(EncryptionSettings):
    api_url: str = env_field("KTRDR_API_URL", "")
    api_key: Secret | None = secret_field("KTRDR_API_KEY")


class KeyFileError(ValueError):
    """An API key file cannot be read; the message names it."""


def read_key_file(path: Path) -> str:
    """The API key in ``path`` (first line, stripped), registered for redaction."""
    try:
        text = path.expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read the API key file {path}: {type(exc).__name__}") from None
    if not text:
        raise KeyFileError(f"the API key file {path} is empty")
    return Secret(text.splitlines()[0].strip(), source=str(path)).reveal()
