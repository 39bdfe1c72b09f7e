"""``ktrdr demo``: the main job on the bundled data (see :mod:`ktrdr_cli.demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ktrdr_cli.app import Globals


def demo(
    ctx: typer.Context,
    epochs: Annotated[
        int,
        typer.Option(help="Most training epochs (early stopping may end sooner).", min=1, max=500),
    ] = 30,
    report: Annotated[
        Path | None,
        typer.Option(help="Where to write the HTML report [default: $KTRDR_HOME/reports/...]."),
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the mesh to report SERVING.", min=1)
    ] = 120.0,
) -> None:
    """The main job: start the mesh, train a neuro-fuzzy model on bundled EURUSD hours,
    backtest it out of sample, print the metrics against the baselines, write the HTML
    report, stop the mesh (a running mesh is used and left running)."""
    from ktrdr_cli.demo import DemoSettings, run_demo

    g = Globals.of(ctx)
    settings = DemoSettings(epochs=epochs, report=report)
    code = run_demo(g.layout(), out=g.out, settings=settings, timeout=timeout, key=g.api_key)
    if code:
        raise typer.Exit(code)
