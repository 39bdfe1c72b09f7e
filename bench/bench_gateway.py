"""Benchmark of the REST edge: Envoy (REST+JSON, with key) vs the same call straight over gRPC.

Starts the mesh (own KTRDR_HOME, free ports, rate limit lifted for the run), then:
latency of GET /api/v1/data/timeframes through Envoy vs DataService.ListTimeframes directly
(and gRPC through Envoy, to separate the hop from the JSON transcoding); then sustained
requests/s over keep-alive connections for a bounded time with an error count.
Goals (issue 6): the edge adds <= 1 ms at p50; >= 2,000 requests/s with zero errors.

Streams (issue 9): bars/s of POST /api/v1/data/stream through the edge, whose Lua filter frames
the transcoder's JSON array as NDJSON (and ends a failed stream with an error line), against an
edge with the transcoder's own NDJSON (no error line, the edge before issue 9) and against
StreamBars straight over gRPC, on the same stored series in the same run.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
STREAM_SYMBOL = "ZZBENCH"
STREAM_BARS = 200_000
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


def _seed(home: Path) -> None:
    from ktrdr_data.domain.storage import ParquetBarStore
    from ktrdr_data.domain.synthetic import SyntheticConfig, generate

    bars = generate(SyntheticConfig(bars=STREAM_BARS, timeframe="1m", seed=1))
    ParquetBarStore(home / "data").write(STREAM_SYMBOL, "1m", bars)


def _rest_stream_rate(url: str, key: str) -> float:
    """Bars/s of one REST stream of the whole series (best of 3)."""
    import httpx

    body = {"symbol": STREAM_SYMBOL, "timeframe": "1m", "batchSize": 1000}
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with httpx.stream(
            "POST", f"{url}/api/v1/data/stream", json=body, headers={"x-api-key": key}, timeout=300
        ) as reply:
            lines = sum(1 for line in reply.iter_lines() if line)
        best = min(best, time.perf_counter() - start)
        assert reply.status_code == 200 and lines == STREAM_BARS // 1000, (reply.status_code, lines)
    return STREAM_BARS / best


def _grpc_stream_rate(address: str) -> float:
    request = data_pb2.StreamBarsRequest(symbol=STREAM_SYMBOL, timeframe="1m", batch_size=1000)
    best = float("inf")
    with grpc.insecure_channel(address) as channel:
        stub = data_pb2_grpc.DataServiceStub(channel)
        for _ in range(3):
            start = time.perf_counter()
            for _reply in stub.StreamBars(request, timeout=300):
                pass
            best = min(best, time.perf_counter() - start)
    return STREAM_BARS / best


def _native_ndjson_rate(layout: mesh.Layout, key: str, work: Path) -> float:
    """The same stream through an edge whose transcoder writes NDJSON itself (no Lua framing)."""
    from ktrdr_gateway import envoy_config
    from ktrdr_gateway import mesh as gateway_mesh
    from ktrdr_gateway.runner import running_envoy

    original = envoy_config.build

    def native(cfg: envoy_config.GatewayConfig, descriptor: bytes, doc: str) -> dict:
        boot = original(cfg, descriptor, doc)
        hcm = boot["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        for f in hcm["typed_config"]["http_filters"]:
            conf = f["typed_config"]
            if f["name"] == "envoy.filters.http.grpc_json_transcoder":
                conf["print_options"]["stream_newline_delimited"] = True
            if f["name"] == "envoy.filters.http.lua":
                lua = conf["default_source_code"]["inline_string"]
                head, _, tail = lua.partition("STREAM_RULES = ")
                conf["default_source_code"]["inline_string"] = (
                    head + "STREAM_RULES = {}\n" + tail.split("\n", 1)[1]
                )
        return boot

    base = gateway_mesh.local_config(layout, {})
    cfg = dataclasses.replace(
        base, listen_port=layout.extra_port(5, 0), admin_port=layout.extra_port(6, 0)
    )
    envoy_config.build = native  # type: ignore[assignment]
    try:
        with running_envoy(cfg, work) as url:
            return _rest_stream_rate(url, key)
    finally:
        envoy_config.build = original  # type: ignore[assignment]


def _stream_table(rates: dict[str, float]) -> str:
    rows = [
        ["StreamBars over gRPC, direct", f"{rates['grpc']:,.0f}", "1.00x"],
        [
            "REST stream through Envoy, transcoder NDJSON (no error line; before issue 9)",
            f"{rates['native']:,.0f}",
            f"{rates['native'] / rates['grpc']:.2f}x",
        ],
        [
            "REST stream through Envoy, Lua NDJSON framing + error line (now)",
            f"{rates['lua']:,.0f}",
            f"{rates['lua'] / rates['grpc']:.2f}x",
        ],
    ]
    return (
        f"\nStreams: {STREAM_BARS:,} stored 1m bars, 1,000 a message, best of 3.\n\n"
        + table(["Stream", "bars/s", "vs gRPC direct"], rows)
        + f"\n\nLua framing costs {1 - rates['lua'] / rates['native']:.0%} of the REST stream "
        "rate against the transcoder's own NDJSON.\n"
    )


def _free_base() -> int:
    for _ in range(50):
        base = random.randrange(20000, 40000, 50)  # nosec B311 # picks ports, not a secret
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
        _seed(layout.home)
        mesh.up(layout, timeout=120, base_env=env)
        try:
            key = (layout.home / "gateway" / "dev-admin.key").read_text().strip()
            edge_port = layout.extra_port(0, 8080)
            direct = _grpc_latency(layout.address("data"), None)
            via_edge_grpc = _grpc_latency(f"127.0.0.1:{edge_port}", key)
            rest = asyncio.run(_rest_latency(edge_port, key))
            ok, errors, elapsed = asyncio.run(_load(edge_port, key))
            streams = {
                "grpc": _grpc_stream_rate(layout.address("data")),
                "lua": _rest_stream_rate(f"http://127.0.0.1:{edge_port}", key),
                "native": _native_ndjson_rate(layout, key, Path(tmp) / "native-edge"),
            }
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
        + _stream_table(streams)
    )
    sys.stdout.write(body)
    write_section("gateway", "REST edge (Envoy) vs direct gRPC", body, "python -m bench gateway")


if __name__ == "__main__":
    main()
