"""What ``ktrdr``'s exit status means (the README lists the same table).

Scripts can branch on these: 3 means "fix the input", 6 "try again when the mesh is up", and
so on. Codes 3-8 follow the HTTP status of the API's answer.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit status of ``ktrdr``."""

    OK = 0
    """Success."""
    FAILURE = 1
    """The command ran and reports a failure (a process not SERVING, a failed demo step)."""
    USAGE = 2
    """Bad command line: unknown command or option, missing argument, bad value."""
    INVALID = 3
    """The API rejected the request (400, 409, 413): the message names the field."""
    NOT_FOUND = 4
    """No such symbol, series, indicator, strategy ... (404)."""
    AUTH = 5
    """No API key, an unknown one, or a role too low (401, 403)."""
    UNAVAILABLE = 6
    """The API cannot be reached or a service is unavailable, busy or slow (503, 504, 429)."""
    SERVER = 7
    """The server failed (500): the message quotes the request id."""
    UNBUILT = 8
    """The operation is in the contract but not built yet (501)."""
    MESH = 9
    """The local mesh could not be started, stopped or restarted."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C)."""
    BROKEN_PIPE = 141
    """The reader closed standard output early (``ktrdr ... | head``); nothing is wrong."""


_BY_STATUS = {
    400: ExitCode.INVALID,
    409: ExitCode.INVALID,
    413: ExitCode.INVALID,
    401: ExitCode.AUTH,
    403: ExitCode.AUTH,
    404: ExitCode.NOT_FOUND,
    429: ExitCode.UNAVAILABLE,
    501: ExitCode.UNBUILT,
    503: ExitCode.UNAVAILABLE,
    504: ExitCode.UNAVAILABLE,
}


def for_http_status(status: int) -> ExitCode:
    """The exit code for an API error answer with this HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ExitCode.SERVER if status >= 500 else ExitCode.INVALID


def table() -> list[tuple[int, str, str]]:
    """(code, name, meaning) for every exit code, for ``ktrdr --help`` and the README."""
    return [(int(c), c.name.lower(), _DOCS[c]) for c in ExitCode]


_DOCS = {
    ExitCode.OK: "success",
    ExitCode.FAILURE: "the command ran and reports a failure (a process not SERVING, ...)",
    ExitCode.USAGE: "bad command line",
    ExitCode.INVALID: "the API rejected the input (400, 409, 413)",
    ExitCode.NOT_FOUND: "not found (404)",
    ExitCode.AUTH: "no key, unknown key or role too low (401, 403)",
    ExitCode.UNAVAILABLE: "API unreachable, service unavailable, rate limited (503, 504, 429)",
    ExitCode.SERVER: "server error (500)",
    ExitCode.UNBUILT: "not built yet (501)",
    ExitCode.MESH: "the local mesh could not be started, stopped or restarted",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.BROKEN_PIPE: "the reader closed standard output early (| head)",
}
