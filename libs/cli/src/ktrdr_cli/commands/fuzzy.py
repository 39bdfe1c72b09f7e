"""``ktrdr fuzzy sets|evaluate|calculate|infer``: memberships and rule inference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from ktrdr_cli.app import Globals
from ktrdr_cli.commands.data import End, Start
from ktrdr_cli.commands.indicators import Tail, columns_table
from ktrdr_cli.commands.params import key_values
from ktrdr_client.client import proto_enum

app = typer.Typer(help="Fuzzy sets, memberships and rule inference.", no_args_is_help=True)

Strategy = Annotated[
    str, typer.Option(help="Strategy name (a file in strategies/, e.g. rsi_trend_eurusd_1h).")
]


def _functions(sets: list[Any]) -> str:
    return "; ".join(
        f"{m.name}: {m.type} {m.parameters}" + (f" ({m.shoulder} shoulder)" if m.shoulder else "")
        for m in sets
    )


@app.command()
def sets(
    ctx: typer.Context,
    strategy: Strategy = "",
    symbol: Annotated[str, typer.Option(help="Only the strategies that trade this symbol.")] = "",
) -> None:
    """The fuzzy sets the strategies define."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.fuzzy_sets(strategy=strategy, symbol=symbol)
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.table(
        ["set", "indicator", "strategy", "memberships"],
        [[s.id, s.indicator, s.strategy, _functions(s.memberships)] for s in found],
    )


def _membership(text: str) -> dict[str, Any]:
    """``oversold:triangular:0,25,40[:left]`` -> a MembershipFunction."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise typer.BadParameter(
            f"{text!r} is not NAME:TYPE:P1,P2,...[:SHOULDER]", param_hint="--mf"
        )
    try:
        parameters = [float(p) for p in parts[2].split(",") if p.strip()]
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r}: parameters must be numbers", param_hint="--mf"
        ) from exc
    mf: dict[str, Any] = {"name": parts[0], "type": parts[1], "parameters": parameters}
    if len(parts) == 4:
        mf["shoulder"] = parts[3]
    return mf


@app.command()
def evaluate(
    ctx: typer.Context,
    values: Annotated[list[float], typer.Argument(help="Crisp values to fuzzify.")],
    strategy: Strategy = "",
    fuzzy_set: Annotated[
        str, typer.Option("--set", help="Set id of the strategy, e.g. rsi_14.")
    ] = "",
    mf: Annotated[
        list[str] | None,
        typer.Option(
            help="An ad-hoc function NAME:TYPE:P1,P2,...[:left|right], e.g. "
            "low:triangular:0,25,50 (repeatable; instead of --strategy/--set).",
        ),
    ] = None,
) -> None:
    """Membership degrees of values, for a strategy's set or ad-hoc functions."""
    g = Globals.of(ctx)
    memberships = [_membership(m) for m in mf or []]
    with g.client() as client:
        found = client.fuzzy_membership(
            list(values), memberships=memberships, strategy=strategy, fuzzy_set=fuzzy_set
        )
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.table(
        ["value", *(m.name for m in found)],
        [[v, *(m.degrees[i] for m in found)] for i, v in enumerate(values)],
        numeric=["value", *(m.name for m in found)],
    )


@app.command()
def calculate(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Argument(help="Instrument symbol, e.g. EURUSD.")],
    timeframe: Annotated[str, typer.Argument(help="Base timeframe (default the strategy's).")] = "",
    strategy: Strategy = "",
    fuzzy_set: Annotated[
        list[str] | None,
        typer.Option("--set", help="Only this set id (repeatable; default every set)."),
    ] = None,
    start: Start = "",
    end: End = "",
    tail: Tail = 20,
) -> None:
    """A strategy's feature matrix ({timeframe}_{set}_{membership}) on stored bars."""
    g = Globals.of(ctx)
    with g.client() as client:
        result = client.fuzzy_calculate(
            symbol, timeframe, strategy=strategy, fuzzy_sets=fuzzy_set, start=start, end=end
        )
    if g.out.json_mode:
        g.out.json(result)
        return
    columns_table(g.out, result, tail=tail)


ENUM_FIELDS = {
    "method": "INFERENCE_METHOD",
    "and_method": "AND_METHOD",
    "andMethod": "AND_METHOD",
    "or_method": "OR_METHOD",
    "orMethod": "OR_METHOD",
    "defuzzification": "DEFUZZIFICATION",
}


def read_system(path: Path) -> dict[str, Any]:
    """A RuleSystem from a YAML or JSON file; enum values may be short (``mamdani``)."""
    text = path.read_text()
    try:
        system = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--system") from exc
    if not isinstance(system, dict):
        raise typer.BadParameter(
            f"{path}: expected a mapping (a RuleSystem)", param_hint="--system"
        )
    for key, prefix in ENUM_FIELDS.items():
        if isinstance(system.get(key), str):
            system[key] = proto_enum(prefix, system[key])
    return system


@app.command()
def infer(
    ctx: typer.Context,
    system: Annotated[
        Path,
        typer.Option(
            help="Rule system file, YAML or JSON: inputs, output, rules, method "
            "(mamdani|sugeno), and_method, or_method, defuzzification.",
            exists=True,
            dir_okay=False,
        ),
    ],
    value: Annotated[
        list[str],
        typer.Option(
            "--input", "-i", help="A crisp input NAME=VALUE, e.g. -i rsi=20 (repeatable)."
        ),
    ],
) -> None:
    """Run a fuzzy rule system (Mamdani or Sugeno) on crisp inputs."""
    g = Globals.of(ctx)
    inputs = key_values(value, option="--input", numeric=True)
    with g.client() as client:
        result = client.infer(read_system(system), inputs)
    if g.out.json_mode:
        g.out.json(result)
        return
    g.out.line(f"output: {result.output:.6g}")
    g.out.table(
        ["rule", "strength"],
        list(result.activations.items()),
        numeric=["strength"],
    )
