"""``ktrdr ib status``: the Interactive Brokers gateway's connection, breaker, pacing and farms."""

from __future__ import annotations

from typing import Any

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.exit_codes import ExitCode

app = typer.Typer(help="The Interactive Brokers gateway.", no_args_is_help=True)


def _short(value: str, prefix: str) -> str:
    return str(value).removeprefix(prefix).lower() or "unknown"


def _farm_state(farm: dict[str, Any]) -> str:
    return _short(farm.get("state", ""), "FARM_STATE_")


@app.command()
def status(ctx: typer.Context) -> None:
    """Connection to TWS, circuit breaker, pacing budget, market-data farms and last error.

    Exits 0 when the gateway is connected to TWS, 1 otherwise.
    """
    g = Globals.of(ctx)
    with g.client() as client:
        s: dict[str, Any] = client.ib_status()
    state = _short(s.get("state", ""), "CONNECTION_STATE_")
    if g.out.json_mode:
        g.out.json(s)
    else:
        pacing = s.get("pacing") or {}
        last = s.get("lastError") or {}
        g.out.fields(
            [
                ("TWS", f"{s.get('host', '')}:{s.get('port', 0)}"),
                ("client id", s.get("clientId", 0)),
                ("trading mode", s.get("tradingMode", "")),
                ("connection", state),
                ("server version", s.get("serverVersion", 0)),
                ("breaker", _short(s.get("breakerState", ""), "BREAKER_STATE_")),
                ("failed attempts", s.get("consecutiveFailures", 0)),
                ("reconnects", s.get("reconnects", 0)),
                (
                    "pacing",
                    f"{pacing.get('requestsInWindow', 0)}/{pacing.get('windowLimit', 0)} requests "
                    f"per {pacing.get('windowSeconds', 0):g} s, "
                    f"{pacing.get('openRequests', 0)} open, "
                    f"{pacing.get('violationsTotal', 0)} violations",
                ),
                ("last error", f"{last.get('code', '')} {last.get('message', '')}".strip()),
            ],
            title="IB gateway",
        )
        farms = s.get("farms") or []
        if farms:
            g.out.table(
                ["farm", "kind", "state"],
                [
                    [
                        f.get("name", ""),
                        f.get("kind", ""),
                        _short(f.get("state", ""), "FARM_STATE_"),
                    ]
                    for f in farms
                ],
            )
    if state != "connected":
        raise typer.Exit(ExitCode.FAILURE)
