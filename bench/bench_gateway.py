"""Benchmark of the REST edge: Envoy (REST+JSON, with key) vs the same call straight over gRPC.

Starts the mesh (own KTRDR_HOME, free ports, rate limit lifted for the run), then:
latency of GET /api/v1/data/timeframes through Envoy vs DataService.ListTimeframes directly
(and gRPC through Envoy, to separate the hop from the JSON transcoding); then sustained
requests/s over keep-alive connections for a bounded time with an error count.
Goals (issue 6): the edge adds <= 1 ms at p50; >= 2,000 requests/s with zero errors.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import grpc

from bench._report import table, write_section
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_cli import mesh

N_LATENCY = 2000
LOAD_SECONDS = 8.0
CONNECTIONS = 16
PATH = "/api/v1/data/timeframes"


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def _grpc_latency(address: str, key: str | None) -> list[float]:
    md = [("x-api-key", key)] if key else None
    with grpc.insecure_channel(address) as channel:
        stub = data_pb2_grpc.DataServiceStub(channel)
        for _ in range(100):
            stub.ListTimeframes(data_pb2.ListTimeframesRequest(), metadata=md, timeout=5)
        out = []
        for _ in range(N_LATENCY):
            t0 = time.perf_counter()
            stub.ListTimeframes(data_pb2.ListTimeframesRequest(), metadata=md, timeout=5)
            out.append(time.perf_counter() - t0)
    return out


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one keep-alive HTTP/1.1 request; return the status code."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


def _request(key: str) -> bytes:
    return (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {key}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()


async def _rest_latency(port: int, key: str) -> list[float]:
    reader, writer = await _open(port)
    req = _request(key)
    for _ in range(100):
        await _one(reader, writer, req)
    out = []
    for _ in range(N_LATENCY):
        t0 = time.perf_counter()
        status = await _one(reader, writer, req)
        out.append(time.perf_counter() - t0)
        assert status == 200, status
    writer.close()
    return out


async def _load(port: int, key: str) -> tuple[int, int, float]:
    req = _request(key)
    ok = errors = 0
    stop = time.monotonic() + LOAD_SECONDS

    async def worker() -> None:
        nonlocal ok, errors
        reader, writer = await _open(port)
        while time.monotonic() < stop:
            try:
                status = await _one(reader, writer, req)
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                writer.close()
                reader, writer = await _open(port)
                continue
            if status == 200:
                ok += 1
            else:
                errors += 1
        writer.close()

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return ok, errors, time.monotonic() - t0


def _free_base() -> int:
    for _ in range(50):
        base = random.randrange(20000, 40000, 50)
        if all(mesh.port_free("127.0.0.1", base + i) for i in range(40)):
            return base
    raise RuntimeError("no free port block")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        layout = mesh.Layout(home=Path(tmp), base_port=_free_base())
        env = {
            **os.environ,
            "KTRDR_GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000",
            "KTRDR_GATEWAY_RATE_LIMIT_BURST": "100000000",
            "KTRDR_LOG_LEVEL": "WARNING",
            "KTRDR_GATEWAY_CONCURRENCY": os.environ.get("KTRDR_GATEWAY_CONCURRENCY", "2"),
        }
        mesh.up(layout, timeout=120, base_env=env)
        try:
            key = (layout.home / "gateway" / "dev-admin.key").read_text().strip()
            edge_port = layout.extra_port(0, 8080)
            direct = _grpc_latency(layout.address("data"), None)
            via_edge_grpc = _grpc_latency(f"127.0.0.1:{edge_port}", key)
            rest = asyncio.run(_rest_latency(edge_port, key))
            ok, errors, elapsed = asyncio.run(_load(edge_port, key))
        finally:
            mesh.down(layout, grace=10)
    rps = ok / elapsed
    p50 = {
        n: _pct(s, 0.5)
        for n, s in (("direct", direct), ("edge_grpc", via_edge_grpc), ("rest", rest))
    }
    rows = [
        ["gRPC direct (ListTimeframes)", f"{p50['direct']:.3f}", f"{_pct(direct, 0.99):.3f}", "-"],
        [
            "gRPC through Envoy (auth, rate limit)",
            f"{p50['edge_grpc']:.3f}",
            f"{_pct(via_edge_grpc, 0.99):.3f}",
            f"{p50['edge_grpc'] - p50['direct']:+.3f}",
        ],
        [
            "REST/JSON through Envoy (GET /api/v1/data/timeframes)",
            f"{p50['rest']:.3f}",
            f"{_pct(rest, 0.99):.3f}",
            f"{p50['rest'] - p50['direct']:+.3f}",
        ],
    ]
    body = (
        table(["Call", "p50 ms", "p99 ms", "added p50 ms vs direct"], rows)
        + f"\n\nSustained REST load: {CONNECTIONS} keep-alive connections for "
        f"{elapsed:.1f} s: **{rps:,.0f} requests/s**, {errors} errors "
        f"({ok:,} OK). Latency: {N_LATENCY} sequential calls each.\n\n"
        f"Goals: edge adds <= 1 ms p50 (measured {p50['rest'] - p50['direct']:+.3f} ms REST, "
        f"{p50['edge_grpc'] - p50['direct']:+.3f} ms gRPC hop); >= 2,000 requests/s with zero "
        f"errors (measured {rps:,.0f}/s, {errors} errors). Load generator, Envoy "
        f"(2 worker threads) and the data service share the same {os.cpu_count()} cores.\n"
    )
    sys.stdout.write(body)
    write_section("gateway", "REST edge (Envoy) vs direct gRPC", body, "python -m bench gateway")


if __name__ == "__main__":
    main()
