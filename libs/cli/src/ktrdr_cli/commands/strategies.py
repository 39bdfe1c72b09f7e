"""``ktrdr strategies list|show|validate``: the strategy files the backtest service holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.exit_codes import ExitCode
from ktrdr_cli.output import Output

app = typer.Typer(help="Strategies: list, show and validate.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Strategy name (a file stem in strategies/).")]


def problems_table(out: Output, errors: list[dict[str, Any]]) -> None:
    """Every problem of a strategy: its field path, stable code, message and suggestions."""
    out.table(
        ["field", "code", "problem", "did you mean"],
        [
            [e.get("field", ""), e.get("code", ""), e.get("message", ""), e.get("suggestions")]
            for e in errors
        ],
        title=f"{len(errors)} problem(s)",
    )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every stored strategy, valid or not (an invalid one counts its problems)."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.strategies()
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.table(
        ["strategy", "name", "version", "symbols", "timeframes", "valid", "problems"],
        [
            [s.strategy_id, s.name, s.version, s.symbols, s.timeframes, s.valid, len(s.errors)]
            for s in found
        ],
        numeric=["problems"],
        title=f"{len(found)} strategies",
    )


@app.command()
def show(
    ctx: typer.Context,
    name: Name,
    yaml: Annotated[
        bool, typer.Option("--yaml", help="Print the strategy file as stored.")
    ] = False,
) -> None:
    """One strategy: summary, warm-up, label horizon and the network's input features."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.strategy(name)
    if g.out.json_mode:
        g.out.json(found)
        return
    if yaml:
        g.out.line(found.yaml.rstrip("\n"))
        return
    s = found.strategy
    g.out.fields(
        [
            ("strategy", s.strategy_id),
            ("name", s.name),
            ("description", s.description),
            ("version", s.version),
            ("symbols", s.symbols),
            ("timeframes", s.timeframes),
            ("valid", s.valid),
            ("warm-up bars", found.warmup_bars),
            ("label horizon bars", found.label_horizon_bars),
            ("features", len(found.features)),
        ],
        title=s.strategy_id,
    )
    if s.errors:
        problems_table(g.out, s.errors)
    g.out.table(
        ["feature", "timeframe", "kind", "indicator", "set", "membership"],
        [
            [
                f.get("name", ""),
                f.get("timeframe", ""),
                f.get("kind", ""),
                f.get("indicator", ""),
                f.get("fuzzySet", ""),
                f.get("membership", ""),
            ]
            for f in found.feature_specs
        ],
    )


@app.command()
def validate(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="A strategy file (YAML, validated under its file stem) or a stored name."
        ),
    ],
) -> None:
    """Check a strategy and print every problem at once, each with its field path and code.

    Exits 0 when valid, 3 when the strategy has problems (as for any rejected input), and
    4-8 when the API could not be asked (see the exit codes).
    """
    g = Globals.of(ctx)
    path = Path(target)
    text = path.read_text() if path.suffix in (".yaml", ".yml") or path.is_file() else ""
    name = path.stem if text else target
    with g.client() as client:
        result = client.validate_strategy(name, yaml=text)
    if g.out.json_mode:
        g.out.json(result)
    elif result.valid:
        g.out.line(
            f"{name}: valid; {len(result.features)} features, warm-up {result.warmup_bars} "
            f"bars, label horizon {result.label_horizon_bars} bars "
            f"(checked: {', '.join(result.sections)})"
        )
    else:
        g.out.line(f"{name}: invalid")
        problems_table(g.out, result.errors)
    if not result.valid:
        raise typer.Exit(ExitCode.INVALID)
