"""The ``ktrdr`` command: parse the line, run the command, turn failures into exit codes.

Every failure ends as one message on stderr (the server's message, its stable code, the
field, "did you mean" suggestions and a hint) and an exit code from
:mod:`ktrdr_cli.exit_codes`; never as a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from ktrdr_cli import output
from ktrdr_cli.app import app, hoist_global_options
from ktrdr_cli.commands import register
from ktrdr_cli.exit_codes import ExitCode, for_http_status
from ktrdr_cli.mesh import MeshError
from ktrdr_cli.settings import KeyFileError
from ktrdr_client.errors import KtrdrApiError
from ktrdr_core.errors import KtrdrError
from ktrdr_runtime.settings import SettingsError

register(app)

_HINTS_BY_CODE = {
    "CLIENT-001": "start the mesh with `ktrdr mesh up`, or point --url at a running API",
    "AUTH-001": "pass --api-key-file FILE or set KTRDR_API_KEY_FILE (`ktrdr keys create "
    "--role read`)",
    "AUTH-002": "the key is unknown or revoked: `ktrdr keys list` shows the valid ids",
    "AUTH-003": "this needs a key with a higher role (`ktrdr keys create --role trade`)",
    "AUTH-004": "rate limited: wait a minute, or use another key",
    "RUNTIME-005": "this operation is in the contract but not built yet",
}
_HINTS_BY_STATUS = {
    400: "check the value of the field named above (`ktrdr COMMAND --help` lists the options)",
    404: "`ktrdr data info`, `ktrdr indicators list` and `ktrdr fuzzy sets` list what exists",
    500: "a server error: the service's log ($KTRDR_HOME/logs) has the request id",
    503: "a service is unavailable: `ktrdr mesh status` shows which (the supervisor restarts "
    "crashed ones)",
    504: "a service did not answer in time: try a smaller range",
}


def _api_error(exc: KtrdrApiError) -> ExitCode:
    hint = _HINTS_BY_CODE.get(exc.code) or _HINTS_BY_STATUS.get(exc.status, "")
    output.current().error(
        exc.message,
        code=exc.code or f"HTTP-{exc.status}",
        field=exc.field,
        suggestions=exc.suggestions,
        hint=hint,
        status=exc.status,
    )
    return for_http_status(exc.status)


def run(argv: Sequence[str]) -> int:
    """Run ``ktrdr`` with ``argv`` (without the program name); return the exit code."""
    command = typer.main.get_command(app)
    try:
        command.main(args=hoist_global_options(list(argv)), prog_name="ktrdr")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else ExitCode.FAILURE)
    except output.StdoutClosed:
        return ExitCode.BROKEN_PIPE
    except KtrdrApiError as exc:
        return _api_error(exc)
    except MeshError as exc:
        output.current().error(str(exc), code="MESH", hint="`ktrdr mesh status` shows the mesh")
        return ExitCode.MESH
    except (KeyFileError, SettingsError) as exc:
        output.current().error(str(exc), hint="fix the file or variable named above")
        return ExitCode.USAGE
    except KtrdrError as exc:  # a sealed local store that cannot be opened (key, tampering)
        output.current().error(exc.full_message, code=exc.code)
        return ExitCode.FAILURE
    except OSError as exc:  # a local file (import, export, --system) that cannot be used
        output.current().error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return ExitCode.FAILURE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    return ExitCode.OK


def _quiet_logs() -> None:
    """Library logs (structlog) go to stderr, warnings and worse only: stdout is for results."""
    import logging

    import structlog

    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    _quiet_logs()
    return int(run(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
