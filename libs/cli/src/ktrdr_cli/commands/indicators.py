"""``ktrdr indicators list|info|compute``: the indicator catalogue and computations."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.commands.data import End, Start, Symbol, Timeframe
from ktrdr_cli.commands.params import key_values
from ktrdr_cli.output import Output, short
from ktrdr_client.models import ColumnsResult

app = typer.Typer(help="Technical indicators: catalogue and computations.", no_args_is_help=True)


class Category(enum.StrEnum):
    """Indicator categories."""

    trend = "trend"
    momentum = "momentum"
    volatility = "volatility"
    volume = "volume"
    other = "other"


@app.command("list")
def list_(
    ctx: typer.Context,
    category: Annotated[
        Category | None, typer.Option(help="Only this category.", case_sensitive=False)
    ] = None,
) -> None:
    """The indicator catalogue (native and pandas-ta-classic)."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.indicators(category.value if category else "")
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.table(
        ["name", "category", "outputs", "warm-up", "display name"],
        [[i.name, i.category, i.outputs, i.warmup_bars, i.display_name] for i in found],
        numeric=["warm-up"],
        title=f"{len(found)} indicators",
    )


@app.command()
def info(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Indicator name, e.g. rsi or macd.")],
) -> None:
    """One indicator: description, parameters with bounds and defaults, outputs."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.indicator_info(name)
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.line(f"{found.name}: {found.display_name} ({short(found.category)})")
    g.out.line(found.description)
    g.out.line(f"outputs: {', '.join(found.outputs)}; warm-up {found.warmup_bars} bars")
    if found.aliases:
        g.out.line(f"aliases: {', '.join(found.aliases)}")
    g.out.table(
        ["parameter", "type", "default", "minimum", "maximum", "choices", "description"],
        [
            [p.name, p.type, p.default, p.minimum, p.maximum, p.choices, p.description]
            for p in found.parameters
        ],
    )


Tail = Annotated[int, typer.Option(help="Rows to show in the table (the last N; 0 = all).", min=0)]


def columns_table(out: Output, result: ColumnsResult, *, tail: int) -> None:
    """Time-aligned columns as a table of their last ``tail`` rows."""
    timestamps, columns = result.timestamps, result.columns
    start = max(len(timestamps) - tail, 0) if tail else 0
    out.table(
        ["timestamp", *(c.name for c in columns)],
        [[timestamps[i], *(c.values[i] for c in columns)] for i in range(start, len(timestamps))],
        numeric=[c.name for c in columns],
        title=f"{len(timestamps)} bars x {len(columns)} columns"
        + (f" (last {len(timestamps) - start} shown)" if start else ""),
    )


@app.command()
def compute(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Indicator name, e.g. rsi.")],
    symbol: Symbol,
    timeframe: Timeframe,
    start: Start = "",
    end: End = "",
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="A parameter as KEY=VALUE, e.g. -p period=14 (repeatable)."
        ),
    ] = None,
    compute_timeframe: Annotated[
        str,
        typer.Option(help="Compute on this higher timeframe and align the values (no look-ahead)."),
    ] = "",
    tail: Tail = 20,
) -> None:
    """Compute an indicator over a stored range (warm-up taken from the bars before it)."""
    g = Globals.of(ctx)
    parameters = key_values(param or [], option="--param")
    with g.client() as client:
        result = client.calculate_indicator(
            name,
            symbol=symbol,
            timeframe=timeframe,
            start=start,
            end=end,
            parameters=parameters,
            compute_timeframe=compute_timeframe,
        )
    if g.out.json_mode:
        g.out.json(result)
        return
    g.out.line(f"{result.indicator_id}: warm-up {result.warmup_bars} bars")
    columns_table(g.out, result, tail=tail)
