"""``ktrdr demo``: the main job on the bundled data (see :mod:`ktrdr_cli.demo`)."""

from __future__ import annotations

from typing import Annotated

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.exit_codes import ExitCode


def demo(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the mesh to report SERVING.", min=1)
    ] = 90.0,
) -> None:
    """The main job: start the mesh, run the pipeline on bundled data, stop the mesh."""
    from ktrdr_cli.demo import run_demo

    g = Globals.of(ctx)
    if run_demo(g.layout(), echo=g.out.line, timeout=timeout) != 0:
        raise typer.Exit(ExitCode.FAILURE)
