"""``python -m tests.faketws --port 7500``: run the fake TWS until SIGTERM/SIGINT.

Prints one JSON line when listening (``{"event": "listening", "port": ...}``) and one with its
counters when it stops. Run it from the repository root (or with the root on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from tests.faketws.server import FakeTws


def _line(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> None:
    tws = FakeTws(time_scale=args.time_scale, pacing=not args.no_pacing)
    port = await tws.start(args.host, args.port)
    _line(event="listening", host=args.host, port=port, time_scale=args.time_scale)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await tws.stop()
    _line(
        event="stopped",
        connections=tws.connections_accepted,
        historical_requests=len(tws.historical_requests),
        pacing_accepted=tws.pacing.accepted,
        pacing_violations=tws.pacing.violations,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faketws", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7500, help="0 picks a free port")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="market time runs 1/SCALE times faster and pacing windows shrink by SCALE",
    )
    parser.add_argument("--no-pacing", action="store_true", help="do not enforce IB's pacing")
    args = parser.parse_args(argv)
    if not 0 < args.time_scale <= 1:
        parser.error("--time-scale must be in (0, 1]")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
