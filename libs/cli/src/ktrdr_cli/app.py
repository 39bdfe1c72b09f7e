"""The root of the ``ktrdr`` command: global options, the shared context, the API client.

Global options (``--home``, ``--base-port``, ``--url``, ``--api-key``, ``--json``,
``--no-color``) are accepted anywhere on the line: :func:`hoist_global_options` moves them in
front of the subcommand before typer parses the line.

Where the API is: ``--url``, else ``$KTRDR_API_URL``, else the edge recorded in the running
mesh's state file (``$KTRDR_HOME/run/mesh.json``), else the default port of ``--base-port``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ktrdr_cli import exit_codes, mesh, output

if TYPE_CHECKING:
    from ktrdr_client import KtrdrClient

# Option name -> whether it takes a value.
GLOBAL_OPTIONS: dict[str, bool] = {
    "--home": True,
    "--base-port": True,
    "--url": True,
    "--api-key": True,
    "--api-key-file": True,
    "--json": False,
    "--no-color": False,
}


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move the global options (and their values) in front; ``--`` ends the search."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":  # nosec B105 # the end-of-options marker, not a password
            rest += argv[i:]
            break
        name, eq, _ = token.partition("=")
        if name in GLOBAL_OPTIONS:
            width = 2 if GLOBAL_OPTIONS[name] and not eq else 1
            front += argv[i : i + width]
            i += width
            continue
        rest.append(token)
        i += 1
    return front + rest


@dataclasses.dataclass(frozen=True)
class Globals:
    """The global options of one ``ktrdr`` invocation."""

    home: Path
    base_port: int | None
    url: str | None
    api_key_file: Path | None
    out: output.Output

    @classmethod
    def of(cls, ctx: typer.Context) -> Globals:
        obj = ctx.find_root().obj
        if not isinstance(obj, Globals):  # a command invoked without the root callback
            return cls(mesh_home(None), None, None, None, output.Output())
        return obj

    def layout(self) -> mesh.Layout:
        """The mesh's layout: ``--base-port`` if given, else the running mesh's."""
        return mesh.resolve_layout(self.home, self.base_port)

    def api_url(self) -> str:
        from ktrdr_cli.settings import CliSettings

        if self.url:
            return self.url
        return CliSettings.from_env().api_url or mesh.edge_url(self.layout())

    def api_key(self) -> str | None:
        """The key: ``--api-key-file``, ``$KTRDR_API_KEY_FILE`` or ``$KTRDR_API_KEY``, else the
        local dev key (sealed or plain); never a command-line value."""
        from ktrdr_cli.settings import CliSettings, read_key_file

        if self.api_key_file is not None:
            return read_key_file(self.api_key_file)
        settings = CliSettings.from_env()
        if settings.api_key:
            return settings.api_key.reveal()
        return local_dev_key(self.home, settings)

    def client(self) -> KtrdrClient:
        """A REST client of the API (its key: :meth:`api_key`)."""
        from ktrdr_client import KtrdrClient

        return KtrdrClient(self.api_url(), self.api_key(), home=self.home)


def local_dev_key(home: Path, settings: Any = None) -> str | None:
    """The mesh's dev admin key of ``home`` (opened with the encryption key when sealed)."""
    from ktrdr_cli.settings import CliSettings

    try:
        from ktrdr_gateway import keys
    except ImportError:  # pragma: no cover - the client alone reads the plain file itself
        return None
    settings = settings or CliSettings.from_env()
    return keys.read_dev_key(home, settings.keyring())


def mesh_home(home: Path | None) -> Path:
    """``--home``, else ``$KTRDR_HOME``, else ``~/.ktrdr`` (the client's rule)."""
    from ktrdr_client.client import default_home

    return (home or default_home()).expanduser().resolve()


def _epilog() -> str:
    codes = "  ".join(f"{code} {name}" for code, name, _ in exit_codes.table())
    return (
        f"Global options may be given anywhere on the line. Exit codes (see the README): {codes}."
    )


app = typer.Typer(
    name="ktrdr",
    help="KTRDR, the neuro-fuzzy trading system: run the local mesh and use its API.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_epilog(),
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            help="State directory (default $KTRDR_HOME, else ~/.ktrdr).", show_default=False
        ),
    ] = None,
    base_port: Annotated[
        int | None,
        typer.Option(
            help="Port block of the mesh: services BASE..BASE+5, metrics BASE+10.., edge "
            "BASE+20 (default: the running mesh's, else 50051.., 8080).",
            min=1024,
            max=65000,
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="API base URL (default $KTRDR_API_URL, else the running mesh's edge).",
            show_default=False,
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the API key (default $KTRDR_API_KEY_FILE or $KTRDR_API_KEY, "
            "else the mesh's dev key). Keys are never given on the command line, where other "
            "users' `ps` would show them.",
            show_default=False,
        ),
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(hidden=True, help="Refused: use --api-key-file.")
    ] = None,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print results as JSON for scripts (errors too).")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain output, no colours.")] = False,
) -> None:
    """KTRDR, the neuro-fuzzy trading system: run the local mesh and use its API."""
    out = output.Output(json_mode=json_mode, color=False if no_color else None)
    output.set_current(out)
    if api_key is not None:
        out.error(
            "--api-key is refused: a key on the command line is visible to every user in `ps`",
            hint="put it in a file (chmod 600) and pass --api-key-file FILE, or set "
            "KTRDR_API_KEY_FILE",
        )
        raise typer.Exit(exit_codes.ExitCode.USAGE)
    ctx.obj = Globals(
        home=mesh_home(home), base_port=base_port, url=url, api_key_file=api_key_file, out=out
    )
