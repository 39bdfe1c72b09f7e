"""The command groups of ``ktrdr``: one module each, registered in :data:`GROUPS`.

A new group is a module with a ``typer.Typer`` named ``app`` whose commands take
``ctx: typer.Context`` and read the global options with ``Globals.of(ctx)``; API errors and
mesh errors are raised, never caught: :func:`ktrdr_cli.main.main` turns them into a message on
stderr and a documented exit code. Add it to :data:`GROUPS`.

Slots for issue 15's remaining groups (one module each, same shape):

- ``strategies`` (list|show|validate)  -> ``ktrdr_cli.commands.strategies``
- ``models`` (train|list|show|delete)   -> ``ktrdr_cli.commands.models`` (train: a progress bar
  fed by the TrainModel stream, see ``Output.progress``)
- ``backtest`` (run|show|list|trades|report) -> ``ktrdr_cli.commands.backtest``
"""

from __future__ import annotations

import importlib

import typer

# (name, module) of each group, in the order of ``ktrdr --help``.
GROUPS: tuple[tuple[str, str], ...] = (
    ("mesh", "ktrdr_cli.commands.mesh"),
    ("data", "ktrdr_cli.commands.data"),
    ("indicators", "ktrdr_cli.commands.indicators"),
    ("fuzzy", "ktrdr_cli.commands.fuzzy"),
    ("ib", "ktrdr_cli.commands.ib"),
    ("keys", "ktrdr_cli.commands.keys"),
    ("security", "ktrdr_cli.commands.security"),
)


def register(root: typer.Typer) -> None:
    """Add every command group, and ``demo``, to the root app."""
    for name, module in GROUPS:
        root.add_typer(importlib.import_module(module).app, name=name)
    from ktrdr_cli.commands.demo import demo

    root.command("demo")(demo)
