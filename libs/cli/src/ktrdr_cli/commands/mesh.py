"""``ktrdr mesh up|down|status|restart``: the local mesh, supervised."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from ktrdr_cli import mesh
from ktrdr_cli.app import Globals
from ktrdr_cli.exit_codes import ExitCode

app = typer.Typer(
    help="Run the six services and the REST edge on this machine, supervised: a crashed "
    "process is restarted with backoff.",
    no_args_is_help=True,
)

Process = enum.Enum("Process", {name: name for name in (*mesh.SERVICES, "gateway")}, type=str)  # type: ignore[misc]


@app.command()
def up(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for every process to report SERVING.", min=1)
    ] = 90.0,
    grace: Annotated[
        float, typer.Option(help="Seconds each process gets to stop when the mesh stops.", min=0)
    ] = 15.0,
    fake_tws: Annotated[
        bool,
        typer.Option(
            "--fake-tws",
            help="Also start the test suite's fake TWS (synthetic prices, for local use) and "
            "point the IB gateway at it.",
        ),
    ] = False,
) -> None:
    """Start every service and the edge under a supervisor; wait until all are SERVING."""
    g = Globals.of(ctx)
    layout = g.layout()
    g.out.note(f"Starting the KTRDR mesh (home {layout.home}) ...")
    echo = (lambda _line: None) if g.out.json_mode else g.out.line
    mesh.up(layout, timeout=timeout, echo=echo, grace=grace, fake_tws=fake_tws)
    if g.out.json_mode:
        g.out.json(_rows(layout))
        return
    g.out.line(
        f"All processes SERVING. API: {mesh.edge_url(layout)}  Logs: {layout.log_dir}. "
        "Stop with `ktrdr mesh down`."
    )


def _rows(layout: mesh.Layout) -> list[dict[str, object]]:
    return [
        {
            "process": r.name,
            "health": r.health,
            "state": r.state,
            "pid": r.pid,
            "restarts": r.restarts,
            "last_exit": r.last_exit,
            "listen": r.listen,
            "supervised": r.supervised,
        }
        for r in mesh.describe(layout)
    ]


@app.command()
def status(ctx: typer.Context) -> None:
    """Health, pid and restart count of each process (services started by hand too).

    Exit code 0 when every process is SERVING, 1 otherwise.
    """
    g = Globals.of(ctx)
    layout = g.layout()
    rows = _rows(layout)
    state = mesh.read_state(layout)
    running = mesh.supervisor_pid(state)
    if g.out.json_mode:
        g.out.json(
            {"supervisor_pid": running, "edge_url": state.get("edge_url"), "processes": rows}
        )
    else:
        title = (
            f"mesh of {layout.home} (supervisor pid {running}, API {mesh.edge_url(layout)})"
            if running
            else f"mesh of {layout.home}: not running"
        )
        g.out.table(
            ["process", "health", "state", "pid", "restarts", "last exit", "listen"],
            [
                [
                    r["process"],
                    r["health"],
                    r["state"],
                    r["pid"],
                    r["restarts"],
                    r["last_exit"],
                    r["listen"],
                ]
                for r in rows
            ],
            title=title,
            numeric=["pid", "restarts"],
        )
    if not all(r["health"] == "SERVING" for r in rows):
        raise typer.Exit(ExitCode.FAILURE)


@app.command()
def restart(
    ctx: typer.Context,
    process: Annotated[Process, typer.Argument(help="The process to restart.")],
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait until it reports SERVING again.", min=1)
    ] = 60.0,
) -> None:
    """Restart one process of the running mesh (gracefully) and wait until it is SERVING."""
    g = Globals.of(ctx)
    row = mesh.restart(g.layout(), process.value, timeout=timeout)
    if g.out.json_mode:
        g.out.json({"process": row.name, "health": row.health, "pid": row.pid})
        return
    g.out.line(f"{row.name} restarted: pid {row.pid}, {row.health} ({row.restarts} restarts)")


@app.command()
def down(
    ctx: typer.Context,
    grace: Annotated[
        float, typer.Option(help="Seconds each process gets to stop before SIGKILL.", min=0)
    ] = 15.0,
) -> None:
    """Stop the mesh (and KTRDR services started by hand on its ports) and wait for each."""
    g = Globals.of(ctx)
    outcome = mesh.down(g.layout(), grace=grace)
    if g.out.json_mode:
        g.out.json(outcome)
    elif not outcome:
        g.out.line("The mesh is not running.")
    else:
        g.out.table(["process", "outcome"], sorted(outcome.items()))
    if any(how != "stopped" for how in outcome.values()):
        raise typer.Exit(ExitCode.FAILURE)
