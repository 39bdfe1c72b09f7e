"""``ktrdr data|indicators|ib|keys ...``: the API through the REST client (and local key admin)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from ktrdr_cli import mesh
from ktrdr_cli.common import echo, home_dir


def _client(args: argparse.Namespace) -> Any:
    from ktrdr_client import KtrdrClient

    edge = mesh.Layout(home=home_dir(args), base_port=args.base_port)
    url = (
        args.url
        or os.environ.get("KTRDR_API_URL")
        or (f"http://{edge.host}:{edge.extra_port(0, 8080)}")
    )
    return KtrdrClient(url, args.api_key, home=edge.home)


def _api(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from ktrdr_client import KtrdrApiError

        try:
            return fn(args)
        except KtrdrApiError as exc:
            hint = f" (field {exc.field})" if exc.field else ""
            echo(f"error: {exc.code or exc.status}: {exc.message}{hint}")
            if exc.suggestions:
                echo("did you mean: " + ", ".join(exc.suggestions))
            return 1
        except OSError as exc:  # connection refused etc.
            echo(f"error: cannot reach the API ({exc}); is the mesh up (`ktrdr mesh up`)?")
            return 1

    return run


@_api
def cmd_symbols(args: argparse.Namespace) -> int:
    with _client(args) as client:
        for s in client.symbols():
            series = ", ".join(f"{x.timeframe} ({x.bar_count} bars)" for x in s.series)
            echo(f"{s.symbol:<10} {s.instrument.exchange:<10} {series}")
    return 0


@_api
def cmd_timeframes(args: argparse.Namespace) -> int:
    with _client(args) as client:
        for t in client.timeframes():
            echo(f"{t.code:<4} {t.seconds:>8} s")
    return 0


@_api
def cmd_load(args: argparse.Namespace) -> int:
    with _client(args) as client:
        result = client.load_data(
            args.symbol,
            args.timeframe,
            start=args.start or "",
            end=args.end or "",
            mode=args.mode or "",
        )
    first = result.bars[0].timestamp if result.bars else None
    last = result.bars[-1].timestamp if result.bars else None
    echo(f"{result.symbol} {result.timeframe}: {len(result.bars)} bars ({first} .. {last})")
    prov = result.provenance
    if prov:
        echo(
            f"local {prov.get('localBars', 0)}, fetched {prov.get('fetchedBars', 0)}, "
            f"complete {prov.get('complete', False)}, source {prov.get('sourceStatus', '')}"
        )
    return 0


@_api
def cmd_indicators(args: argparse.Namespace) -> int:
    with _client(args) as client:
        for i in client.indicators(args.category or ""):
            echo(f"{i.name:<24} {i.category:<30} {i.display_name}")
    return 0


@_api
def cmd_indicator_info(args: argparse.Namespace) -> int:
    with _client(args) as client:
        info = client.indicator_info(args.name)
    echo(f"{info.name}: {info.display_name} ({info.category})")
    echo(info.description)
    for p in info.parameters:
        echo(f"  {p.name} ({p.type}) default {p.default!r} {p.description}")
    return 0


def _short(enum_value: str, prefix: str) -> str:
    return enum_value.removeprefix(prefix).lower() or "unknown"


@_api
def cmd_ib_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        s = client.ib_status()
    state = _short(s.get("state", ""), "CONNECTION_STATE_")
    echo(
        f"IB gateway -> TWS {s.get('host', '')}:{s.get('port', 0)} client id "
        f"{s.get('clientId', 0)} ({s.get('tradingMode', '')}): {state}"
    )
    breaker = _short(s.get("breakerState", ""), "BREAKER_STATE_")
    echo(
        f"breaker {breaker}, failed attempts {s.get('consecutiveFailures', 0)}, "
        f"reconnects {s.get('reconnects', 0)}, server version {s.get('serverVersion', 0)}"
    )
    p = s.get("pacing") or {}
    echo(
        f"pacing {p.get('requestsInWindow', 0)}/{p.get('windowLimit', 0)} requests per "
        f"{p.get('windowSeconds', 0):g} s, {p.get('openRequests', 0)} open, "
        f"{p.get('violationsTotal', 0)} violations"
    )
    for farm in s.get("farms") or []:
        echo(f"farm {farm.get('name', ''):<12} {farm.get('kind', ''):<22} "
             f"{_short(farm.get('state', ''), 'FARM_STATE_')}")  # fmt: skip
    if s.get("lastError"):
        echo(f"last error {s['lastError'].get('code', 0)}: {s['lastError'].get('message', '')}")
    return 0 if state == "connected" else 1


def _store(args: argparse.Namespace) -> Any:
    try:
        from ktrdr_gateway import keys
    except ImportError:
        echo("error: key management needs the ktrdr-gateway package (pip install -e gateway)")
        return None
    return keys.KeyStore(keys.store_path(home_dir(args).resolve()))


def cmd_keys_create(args: argparse.Namespace) -> int:
    store = _store(args)
    if store is None:
        return 1
    key, record = store.create(args.role, args.label or "")
    echo(
        f"Created key {record.key_id} with role {record.role}. Store it now; it is not shown "
        "again and only its hash is kept:"
    )
    echo(key)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    store = _store(args)
    if store is None:
        return 1
    for r in store.records():
        echo(f"{r.key_id}  {r.role:<6} {r.created}  {r.label}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    store = _store(args)
    if store is None:
        return 1
    if store.revoke(args.key_id):
        echo(f"Revoked {args.key_id} (takes effect at the edge within 2 s).")
        return 0
    echo(f"error: no key with id {args.key_id}")
    return 1


def register(sub: Any) -> None:
    """Add the API and key commands to the ``ktrdr`` parser's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="API base URL (default $KTRDR_API_URL or the local edge)")
    common.add_argument("--api-key", help="API key (default $KTRDR_API_KEY or the dev key file)")

    data = sub.add_parser("data", help="market data through the REST API")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    p = data_sub.add_parser("symbols", parents=[common], help="stored symbols and series")
    p.set_defaults(func=cmd_symbols)
    p = data_sub.add_parser("timeframes", parents=[common], help="supported timeframes")
    p.set_defaults(func=cmd_timeframes)
    p = data_sub.add_parser("load", parents=[common], help="load bars for a symbol/timeframe")
    p.add_argument("symbol")
    p.add_argument("timeframe")
    p.add_argument("--start")
    p.add_argument("--end")
    p.add_argument(
        "--mode",
        choices=["LOAD_MODE_LOCAL", "LOAD_MODE_TAIL", "LOAD_MODE_BACKFILL", "LOAD_MODE_FULL"],
    )
    p.set_defaults(func=cmd_load)

    ind = sub.add_parser("indicators", help="technical indicators through the REST API")
    ind_sub = ind.add_subparsers(dest="indicators_command", required=True)
    p = ind_sub.add_parser("list", parents=[common], help="available indicators")
    p.add_argument("--category")
    p.set_defaults(func=cmd_indicators)
    p = ind_sub.add_parser("info", parents=[common], help="one indicator's parameters")
    p.add_argument("name")
    p.set_defaults(func=cmd_indicator_info)

    ib = sub.add_parser("ib", help="the Interactive Brokers gateway through the REST API")
    ib_sub = ib.add_subparsers(dest="ib_command", required=True)
    p = ib_sub.add_parser("status", parents=[common], help="connection, breaker, pacing, farms")
    p.set_defaults(func=cmd_ib_status)

    keys = sub.add_parser("keys", help="API keys of the local edge ($KTRDR_HOME/gateway)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    p = keys_sub.add_parser("create", help="create a key (printed once; only its hash is kept)")
    p.add_argument("--role", required=True, choices=["read", "trade", "admin"])
    p.add_argument("--label", help="a note, e.g. who uses the key")
    p.set_defaults(func=cmd_keys_create)
    p = keys_sub.add_parser("list", help="key ids, roles and labels (never the keys)")
    p.set_defaults(func=cmd_keys_list)
    p = keys_sub.add_parser("revoke", help="revoke a key by id")
    p.add_argument("key_id")
    p.set_defaults(func=cmd_keys_revoke)
