"""Secret values: hidden in ``repr``, redacted from every log line and error message.

A :class:`Secret` is what the settings give for a field declared with
``ktrdr_runtime.settings.secret_field`` (API keys, IB account, database URL, encryption keys),
read from a file (``NAME_FILE``, e.g. a mounted Kubernetes Secret) or the environment
(``NAME``), never from a command line. Building one registers its value, and the obvious
encodings of it (base64, URL-quoted, hex), with this process's redactor: the logging
processors (``ktrdr_runtime.logging``) and the error mapping replace any of them with
``[REDACTED]`` wherever they appear, whatever the field is called.
"""

from __future__ import annotations

import base64
import re
import threading
import urllib.parse

REDACTED = "[REDACTED]"
# Shorter values would redact ordinary words; secrets are longer than this in practice.
MIN_CHARS = 4

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _encodings(value: str) -> set[str]:
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    forms = {value, b64, b64.rstrip("="), url, url.rstrip("="), raw.hex()}
    forms.add(urllib.parse.quote(value, safe=""))
    forms.add(urllib.parse.quote_plus(value))
    return {f for f in forms if len(f) >= MIN_CHARS}


def register(value: str) -> None:
    """Redact ``value`` (and its encodings) from this process's logs and errors from now on."""
    global _pattern
    if len(value) < MIN_CHARS:
        return
    forms = _encodings(value)
    if "://" in value:  # a URL: its password alone as well
        password = urllib.parse.urlsplit(value).password
        if password:
            forms |= _encodings(password) | _encodings(urllib.parse.unquote(password))
    with _lock:
        if forms <= _known:
            return
        _known.update(forms)
        ordered = sorted(_known, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[REDACTED]``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


def forget_all() -> None:
    """Clear the registry (tests only)."""
    global _pattern
    with _lock:
        _known.clear()
        _pattern = None


class Secret:
    """A secret string: ``str``/``repr`` show ``**********``; :meth:`reveal` gives the value.

    Parameters
    ----------
    value
        The secret.
    source
        Where it came from (a variable name or file path, safe to show), for messages.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str = "") -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value
        self.source = source
        register(value)

    def reveal(self) -> str:
        """The secret value itself: pass it on, never log or format it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))
