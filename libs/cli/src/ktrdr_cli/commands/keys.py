"""``ktrdr keys create|list|revoke``: API keys of the local edge ($KTRDR_HOME/gateway)."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.exit_codes import ExitCode

app = typer.Typer(
    help="API keys of the local edge (stored as SHA-256 hashes, sealed with the encryption key "
    "when one is set; changes apply within 2 s).",
    no_args_is_help=True,
)


class Role(enum.StrEnum):
    """What a key may do: read < trade < admin."""

    read = "read"
    trade = "trade"
    admin = "admin"


def _store(g: Globals) -> Any:
    try:
        from ktrdr_gateway import keys
    except ImportError:
        g.out.error(
            "key management needs the ktrdr-gateway package",
            hint="pip install -e gateway (scripts/bootstrap installs it)",
        )
        raise typer.Exit(ExitCode.FAILURE) from None
    from ktrdr_gateway.settings import GatewaySettings

    settings = GatewaySettings.from_env()
    return keys.open_store(g.home, settings.keyring(), runtime_dir=settings.runtime_dir)


@app.command()
def create(
    ctx: typer.Context,
    role: Annotated[Role, typer.Option(help="The key's role.", case_sensitive=False)],
    label: Annotated[str, typer.Option(help="A note, e.g. who uses the key.")] = "",
) -> None:
    """Create a key; it is printed once (only its hash is kept)."""
    g = Globals.of(ctx)
    key, record = _store(g).create(role.value, label)
    if g.out.json_mode:
        g.out.json({"key_id": record.key_id, "role": record.role, "key": key})
        return
    g.out.note(
        f"Created key {record.key_id} with role {record.role}. Store it now; it is not shown "
        "again and only its hash is kept:"
    )
    g.out.line(key)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Key ids, roles, creation times and labels (never the keys)."""
    g = Globals.of(ctx)
    records = _store(g).records()
    if g.out.json_mode:
        g.out.json(
            [
                {"key_id": r.key_id, "role": r.role, "created": r.created, "label": r.label}
                for r in records
            ]
        )
        return
    g.out.table(
        ["id", "role", "created", "label"],
        [[r.key_id, r.role, r.created, r.label] for r in records],
    )


@app.command()
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id (`ktrdr keys list`).")],
) -> None:
    """Revoke a key by id (takes effect at the edge within 2 s)."""
    g = Globals.of(ctx)
    if not _store(g).revoke(key_id):
        g.out.error(f"no key with id {key_id}", hint="`ktrdr keys list` shows the ids")
        raise typer.Exit(ExitCode.NOT_FOUND)
    if g.out.json_mode:
        g.out.json({"revoked": key_id})
    else:
        g.out.line(f"Revoked {key_id} (takes effect at the edge within 2 s).")
