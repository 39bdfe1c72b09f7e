"""The ``ktrdr`` command."""

from __future__ import annotations

import argparse
import sys

from ktrdr_cli import mesh
from ktrdr_cli.common import echo, home_dir


def _layout(args: argparse.Namespace) -> mesh.Layout:
    return mesh.Layout(home=home_dir(args).resolve(), base_port=args.base_port)


def cmd_mesh_up(args: argparse.Namespace) -> int:
    layout = _layout(args)
    echo(f"Starting the KTRDR mesh (home {layout.home}) ...")
    try:
        mesh.up(layout, timeout=args.timeout, echo=echo, fake_tws=args.fake_tws)
    except mesh.MeshError as exc:
        echo(f"error: {exc}")
        return 1
    echo(f"All processes SERVING. Logs: {layout.log_dir}. Stop with `ktrdr mesh down`.")
    return 0


def cmd_mesh_status(args: argparse.Namespace) -> int:
    layout = _layout(args)
    state = mesh.read_state(layout)
    if not state:
        echo("The mesh is not running.")
        return 1
    health = mesh.status(layout)
    for name, info in state.items():
        echo(f"{name:<11} {health.get(name, '?'):<12} {info.get('listen', '')}  pid {info['pid']}")
    return 0 if all(h in ("SERVING", "RUNNING") for h in health.values()) else 1


def cmd_mesh_down(args: argparse.Namespace) -> int:
    layout = _layout(args)
    outcome = mesh.down(layout, grace=args.grace)
    if not outcome:
        echo("The mesh is not running.")
        return 0
    for name, how in outcome.items():
        echo(f"{name:<11} {how}")
    return 0 if all(h in ("stopped", "not running") for h in outcome.values()) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from ktrdr_cli.demo import run_demo

    return run_demo(_layout(args), echo=echo, timeout=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ktrdr", description="KTRDR neuro-fuzzy trading system")
    parser.add_argument("--home", help="state directory (default $KTRDR_HOME or ~/.ktrdr)")
    parser.add_argument(
        "--base-port",
        type=int,
        default=0,
        help="listen on BASE.. instead of the default ports (services BASE+0..5, metrics +10..)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    mesh_parser = sub.add_parser("mesh", help="run the services locally")
    mesh_sub = mesh_parser.add_subparsers(dest="mesh_command", required=True)
    p_up = mesh_sub.add_parser("up", help="start every service and wait until SERVING")
    p_up.add_argument("--timeout", type=float, default=90.0)
    p_up.add_argument(
        "--fake-tws",
        action="store_true",
        help="also start the test suite's fake TWS (synthetic prices, IB's wire protocol and "
        "pacing) and point the ib_gateway at it: for local use without IB",
    )
    p_up.set_defaults(func=cmd_mesh_up)
    p_status = mesh_sub.add_parser("status", help="health of each running service")
    p_status.set_defaults(func=cmd_mesh_status)
    p_down = mesh_sub.add_parser("down", help="stop every service gracefully")
    p_down.add_argument("--grace", type=float, default=15.0)
    p_down.set_defaults(func=cmd_mesh_down)

    p_demo = sub.add_parser("demo", help="the main job: start the mesh, run on bundled data, stop")
    p_demo.add_argument("--timeout", type=float, default=90.0)
    p_demo.set_defaults(func=cmd_demo)

    from ktrdr_cli.api_commands import register

    register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
