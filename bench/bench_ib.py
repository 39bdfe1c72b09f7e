"""IB backfills under IB's pacing rules, against the fake TWS (tests/faketws) at the wire.

A one-year backfill of EURUSD 1-hour bars and one of 1-minute bars: number of requests,
pacing violations (the fake enforces IB's rules itself and answers 162), wall time, and the
lower bound those rules allow.

Time scale: a real 1-minute year needs ~314 requests, and IB's 60-requests-per-10-minutes
rule makes that take about 50 minutes. Here the fake and the gateway both shrink every pacing
window by ``SCALE`` = 0.02 (10 minutes -> 12 s, 2 s -> 40 ms, 15 s -> 300 ms; the gateway's
safety margin is 20 ms), so the pacing part of a wall time is ``SCALE`` times the real one; the
lower bound is scaled the same way. (Transfer time is not scaled: at 0.01 and below, moving
~1,200 bars per request already takes longer than the scaled 10-minute window allows, and the
benchmark would measure transfer, not pacing.)

Lower bound for N requests on one contract (the greedy schedule of the rules "6 per 2 s" and
"60 per 10 min"): request k may start at ``600 * (k // 60) + 2 * (k % 60 // 6)`` seconds, so the
bound is that of request N-1 (transfer time not included).

Peers, on the same request plan and the same fake: ib_async used directly without pacing
(retrying 15 s after a violation, as a sequential client such as NautilusTrader's historic
client does without its own limiter), and the original KTRDR's fixed delays (2 s between
requests, 30 s after a violation).

Every process is separate, as in the mesh: the fake TWS, the ib_gateway service, and this
client (gRPC for the gateway, ib_async for the peers).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess  # nosec B404 # the benchmark starts local processes
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._report import table, write_section
from ktrdr.ib_gateway.v1 import ib_gateway_pb2 as pb
from ktrdr.ib_gateway.v1 import ib_gateway_pb2_grpc
from ktrdr_cli.mesh import check_health
from ktrdr_core.dates import to_us
from ktrdr_ib_gateway.domain.chunks import BAR_SIZES, plan_chunks
from ktrdr_runtime.channels import open_channel

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.02
START, END = dt.datetime(2023, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
HMDS_PACING = "pacing violation"


def lower_bound_seconds(requests: int, scale: float = SCALE) -> float:
    k = max(requests - 1, 0)
    return scale * (600 * (k // 60) + 2 * ((k % 60) // 6))


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all bound at once, then released)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


@contextlib.contextmanager
def fake_tws() -> Iterator[dict[str, Any]]:
    """The fake TWS as a process; the dict gets ``port`` now and its counters after it stops."""
    proc = subprocess.Popen(  # nosec B603 # fixed argv of a local process
        [sys.executable, "-m", "tests.faketws", "--port", "0", "--time-scale", str(SCALE)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    info: dict[str, Any] = json.loads(proc.stdout.readline())
    try:
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        info.update(json.loads(out.strip().splitlines()[-1]))


@contextlib.contextmanager
def gateway(tws_port: int, home: Path) -> Iterator[str]:
    port, metrics_port = _free_ports(2)
    env = {
        **os.environ,
        "KTRDR_HOME": str(home),
        "KTRDR_IB_GATEWAY_PORT": str(port),
        "KTRDR_IB_GATEWAY_METRICS_PORT": str(metrics_port),
        "KTRDR_IB_GATEWAY_IB_PORT": str(tws_port),
        "KTRDR_IB_GATEWAY_TIME_SCALE": str(SCALE),
        "KTRDR_IB_GATEWAY_PACING_MARGIN_SECONDS": "0.02",
        "KTRDR_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(  # nosec B603 # fixed argv of a local process
        [sys.executable, "-m", "ktrdr_ib_gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while check_health(address) != "SERVING":
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the ib_gateway service did not start")
        time.sleep(0.1)
    try:
        yield address
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


async def _gateway_backfill(address: str, timeframe: str) -> tuple[int, float, pb.PacingBudget]:
    channel = open_channel(address, services=[], timeout_seconds=3600)
    stub = ib_gateway_pb2_grpc.IbGatewayServiceStub(channel)
    while not (await stub.GetStatus(pb.GetStatusRequest())).connected:
        await asyncio.sleep(0.05)
    request = pb.StreamHistoricalBarsRequest(
        symbol="EURUSD",
        timeframe=timeframe,
        start_date=START.isoformat(),
        end_date=END.isoformat(),
    )
    bars = 0
    started = time.perf_counter()
    async for reply in stub.StreamHistoricalBars(request):
        bars += len(reply.bars.timestamps_us)
    wall = time.perf_counter() - started
    pacing = (await stub.GetStatus(pb.GetStatusRequest())).pacing
    await channel.close()
    return bars, wall, pacing


async def _peer_backfill(
    port: int, timeframe: str, *, between: float, after_violation: float
) -> tuple[int, float, int]:
    """The same requests sent by ib_async directly, with fixed waits (scaled)."""
    import logging

    from ib_async import IB, Forex, RequestError
    from ib_async.ib import StartupFetch

    logging.getLogger("ib_async").setLevel(logging.CRITICAL)  # the peer's 162s are counted

    ib = IB()
    ib.RaiseRequestErrors = True
    await ib.connectAsync("127.0.0.1", port, clientId=9, readonly=True, fetchFields=StartupFetch(0))
    [details] = await ib.reqContractDetailsAsync(Forex("EURUSD"))
    contract = details.contract
    assert contract is not None
    bar = BAR_SIZES[timeframe]
    plan = plan_chunks(
        to_us(START),
        to_us(END),
        bar=bar,
        now_us=to_us(dt.datetime.now(dt.UTC)),
        closed_weekdays={5},
    )
    bars = violations = 0
    started = time.perf_counter()
    await ib.reqHeadTimeStampAsync(contract, "MIDPOINT", False, 2)
    for chunk in plan:
        end = dt.datetime.fromtimestamp(chunk.request_end_us / 1e6, dt.UTC)
        while True:
            await asyncio.sleep(between * SCALE)
            got: list[Any] = []
            try:
                got = await ib.reqHistoricalDataAsync(
                    contract, end, chunk.duration, bar.ib_setting, "MIDPOINT", False, 2
                )
            except RequestError as exc:
                if HMDS_PACING in exc.message:
                    violations += 1
                    await asyncio.sleep(after_violation * SCALE)
                    continue
            lo, hi = chunk.start_us / 1e6, chunk.end_us / 1e6
            stamps = [b.date.timestamp() for b in got if isinstance(b.date, dt.datetime)]
            bars += sum(1 for t in stamps if lo <= t < hi)
            break
    wall = time.perf_counter() - started
    ib.disconnect()
    return bars, wall, violations


def _row(name: str, client: str, requests: int, bars: int, violations: int, wall: float) -> list:
    bound = lower_bound_seconds(requests)
    paced = bound > 0.5
    ratio = f"{wall / bound:.2f}" if paced else "n/a (transfer-bound)"
    real = f"{wall / SCALE / 60:.0f} min" if paced else "n/a"
    return [name, client, requests, bars, violations, f"{wall:.1f}", f"{bound:.1f}", ratio, real]


async def _scenario(timeframe: str, name: str, home: Path) -> list[list[object]]:
    rows = []
    with fake_tws() as tws, gateway(int(tws["port"]), home) as address:
        bars, wall, _ = await _gateway_backfill(address, timeframe)
    rows.append(
        _row(name, "ktrdr ib_gateway (one limiter)", int(tws["pacing_accepted"]),
             bars, int(tws["pacing_violations"]), wall)
    )  # fmt: skip
    peers = (
        ("ib_async unpaced, retry after 15 s", 0.0, 15.0),
        ("fixed delays 2 s / 30 s (original KTRDR)", 2.0, 30.0),
    )
    for client, between, after in peers:
        with fake_tws() as tws:
            bars, wall, _ = await _peer_backfill(
                int(tws["port"]),
                timeframe,
                between=between,
                after_violation=after,
            )
        rows.append(
            _row(name, client, int(tws["pacing_accepted"]), bars,
                 int(tws["pacing_violations"]), wall)
        )  # fmt: skip
    sys.stderr.write(f"  {name}: done\n")
    return rows


async def _run(home: Path) -> list[list[object]]:
    rows = []
    for timeframe, name in (("1h", "1 year of 1h bars"), ("1m", "1 year of 1m bars")):
        rows += await _scenario(timeframe, name, home)
    return rows


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(_run(Path(tmp)))
    headers = [
        "backfill (EURUSD, 2023)",
        "client",
        "requests",
        "bars",
        "pacing violations",
        "wall s",
        "lower bound s",
        "wall / bound",
        "at real pacing",
    ]
    body = (
        f"Time scale {SCALE}: every IB pacing window shrunk {1 / SCALE:.0f}x in the fake TWS "
        "and the gateway (10 min -> 12 s); multiply the seconds by "
        f"{1 / SCALE:.0f} for real time. Requests are those the fake accepted (head timestamp "
        "included); violations are the fake's 162 answers. The lower bound is the earliest the "
        "rules let the last request start.\n\n" + table(headers, rows)
    )
    sys.stdout.write(body + "\n")
    write_section("ib", "IB gateway: backfills under IB's pacing (fake TWS)", body,
                  "python -m bench ib")  # fmt: skip


if __name__ == "__main__":
    main()
