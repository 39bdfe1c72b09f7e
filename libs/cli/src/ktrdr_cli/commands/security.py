"""``ktrdr security new-key|dev-cert|status``: encryption keys, local certificates, what is
sealed.

Keys and certificates are written to files (owner-only), never printed or taken from the
command line. Rotation: put a new key in ``KTRDR_ENCRYPTION_KEY_FILE`` and the old one in
``KTRDR_ENCRYPTION_PREVIOUS_KEYS_FILE``, restart the mesh (every store is re-sealed with the
new key at start-up), check ``ktrdr security status``, then drop the previous key.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.exit_codes import ExitCode
from ktrdr_cli.settings import CliSettings
from ktrdr_core import sealed

app = typer.Typer(
    help="Encryption at rest and local HTTPS: make keys and certificates, see what is sealed.",
    no_args_is_help=True,
)


def _write_private(path: Path, data: bytes, *, force: bool) -> None:
    if path.exists() and not force:
        raise FileExistsError(17, "refusing to overwrite (pass --force)", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


@app.command("new-key")
def new_key(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="File to write the key to (created 0600).")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a new random 256-bit encryption key (base64) to a file; point
    KTRDR_ENCRYPTION_KEY_FILE at it."""
    g = Globals.of(ctx)
    key = sealed.EncryptionKey.generate()
    _write_private(out, (key.to_text() + "\n").encode(), force=force)
    if g.out.json_mode:
        g.out.json({"file": str(out), "key_id": key.key_id_hex})
        return
    g.out.line(f"Wrote key {key.key_id_hex} to {out}.")
    g.out.note(f"Use it with: export KTRDR_ENCRYPTION_KEY_FILE={out}")


@app.command("dev-cert")
def dev_cert(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Directory for ca.pem, tls.crt and tls.key.")],
    host: Annotated[
        list[str] | None, typer.Option(help="A DNS name or IP the certificate is for (repeat).")
    ] = None,
    days: Annotated[int, typer.Option(help="Validity in days.", min=1, max=825)] = 30,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Make a local CA and an edge certificate for HTTPS on this machine."""
    import datetime as dt

    from ktrdr_gateway.tls import LocalCA

    g = Globals.of(ctx)
    hosts = tuple(host or ("localhost", "127.0.0.1"))
    ca = LocalCA(days=days + 1)
    issued = ca.issue(hosts, not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=days))
    _write_private(out / "ca.pem", ca.cert_pem, force=force)
    for name in ("tls.crt", "tls.key"):
        if (out / name).exists() and not force:
            raise FileExistsError(17, "refusing to overwrite (pass --force)", str(out / name))
    issued.write(out / "tls.crt", out / "tls.key")
    if g.out.json_mode:
        g.out.json({"dir": str(out), "hosts": list(hosts), "days": days})
        return
    g.out.line(f"Wrote {out}/ca.pem, tls.crt and tls.key for {', '.join(hosts)} ({days} days).")
    g.out.note(
        f"Serve HTTPS: KTRDR_GATEWAY_TLS_CERT={out}/tls.crt KTRDR_GATEWAY_TLS_KEY={out}/tls.key "
        f"ktrdr mesh up; trust it: SSL_CERT_FILE={out}/ca.pem"
    )


def _stores(home: Path) -> dict[str, list[Path]]:
    gateway = home / "gateway"
    return {
        "API key store": [gateway / "api-keys"],
        "dev key": [gateway / "dev-admin.key.enc", gateway / "dev-admin.key"],
        "model registry": sorted(
            p
            for p in (home / "models").glob("*/*_v*/*")
            if p.is_file() and not p.name.startswith(".")
        ),
    }


@app.command()
def status(ctx: typer.Context) -> None:
    """Which local stores are sealed, and with which key (headers only; nothing is decrypted)."""
    g = Globals.of(ctx)
    ring = CliSettings.from_env().keyring()
    names = {}
    if ring is not None:
        names = {ring.primary.key_id: "primary", **{k.key_id: "previous" for k in ring.previous}}
    rows = []
    stale = 0
    for store, paths in _stores(g.home).items():
        counts: Counter[str] = Counter()
        for path in paths:
            if not path.exists():
                continue
            with open(path, "rb") as f:
                key_id = sealed.key_id_of(f.read(sealed.HEADER_BYTES))
            if key_id is None:
                counts["plain"] += 1
            else:
                counts[f"key {key_id.hex()} ({names.get(key_id, 'not configured')})"] += 1
            stale += ring is not None and key_id != ring.primary.key_id
        rows += [[store, state, str(n)] for state, n in sorted(counts.items())]
    if g.out.json_mode:
        g.out.json([{"store": s, "state": st, "files": int(n)} for s, st, n in rows])
    else:
        g.out.table(["store", "sealed with", "files"], rows)
        if ring is None:
            g.out.note("Encryption at rest is off (no KTRDR_ENCRYPTION_KEY_FILE).")
    if stale:
        g.out.note(f"{stale} file(s) not yet under the primary key: restart the mesh to re-seal.")
        raise typer.Exit(ExitCode.FAILURE)
