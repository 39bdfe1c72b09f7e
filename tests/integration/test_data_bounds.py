"""The largest request of each kind the data service allows keeps it within its memory budget
(issue 9, item 1): a real ``python -m ktrdr_data`` process on a free port, its peak resident
memory (``VmHWM``) read from /proc after serving them."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_data.domain import paging, replay
from ktrdr_data.domain.csv_io import write_csv
from ktrdr_data.domain.imports import MAX_IMPORT_ROWS
from ktrdr_data.domain.reader import MAX_RESAMPLE_SOURCE_BARS
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_data.domain.synthetic import SyntheticConfig, generate
from ktrdr_runtime.channels import MAX_MESSAGE_BYTES

# The documented budget (README, data section): peak resident memory of the data service
# while it serves the largest allowed request of each kind, one after the other.
MEMORY_BUDGET_MIB = 1280

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


@pytest.fixture
async def served(tmp_path) -> AsyncIterator[tuple[data_pb2_grpc.DataServiceStub, int]]:
    """A data service process over 2M one-minute bars (the most resampling may read)."""
    bars = generate(SyntheticConfig(bars=MAX_RESAMPLE_SOURCE_BARS, timeframe="1m", seed=2))
    ParquetBarStore(tmp_path / "data").write("BIG", "1m", bars)
    port = _free_port()
    env = {
        **os.environ,
        "KTRDR_HOME": str(tmp_path),
        "KTRDR_DATA_HOST": "127.0.0.1",
        "KTRDR_DATA_PORT": str(port),
        "KTRDR_DATA_METRICS_PORT": str(_free_port()),
        "KTRDR_DATA_IMPORT_BUNDLED": "false",
    }
    log = (tmp_path / "data.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ktrdr_data"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options)
    try:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(300):
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.aio.AioRpcError:
                pass
            assert proc.poll() is None, (tmp_path / "data.log").read_text()[-2000:]
            await asyncio.sleep(0.2)
        yield data_pb2_grpc.DataServiceStub(channel), proc.pid
    finally:
        await channel.close()
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


async def test_largest_allowed_requests_stay_within_the_memory_budget(served):
    stub, pid = served
    page = paging.MAX_PAGE["bars"]
    first = await stub.LoadData(
        data_pb2.LoadDataRequest(symbol="BIG", timeframe="1m", page_size=page)
    )
    assert len(first.bars) == page and first.next_page_token
    hourly = await stub.LoadData(data_pb2.LoadDataRequest(symbol="BIG", timeframe="1h"))
    assert hourly.provenance.resampled_from == "1m" and len(hourly.bars) > 30_000
    exported = await stub.ExportBars(
        data_pb2.ExportBarsRequest(symbol="BIG", timeframe="1m", page_size=paging.MAX_PAGE["rows"])
    )
    assert exported.bar_count == paging.MAX_PAGE["rows"]
    gaps = await stub.AnalyzeGaps(
        data_pb2.AnalyzeGapsRequest(
            symbol="BIG", timeframe="1m", include_expected=True, page_size=paging.MAX_PAGE["gaps"]
        )
    )
    assert gaps.summary.bar_count == MAX_RESAMPLE_SOURCE_BARS
    streamed = 0
    async for reply in stub.StreamBars(
        data_pb2.StreamBarsRequest(symbol="BIG", timeframe="1m", batch_size=replay.MAX_BATCH)
    ):
        streamed += len(reply.bars.timestamps_us)
    assert streamed == MAX_RESAMPLE_SOURCE_BARS
    # the largest import: as many rows as allowed, short enough to fit one message
    bars = generate(
        SyntheticConfig(bars=MAX_IMPORT_ROWS, timeframe="1m", seed=3, start="2030-01-01")
    )
    csv = write_csv(bars.round(5))
    assert len(csv) < MAX_MESSAGE_BYTES - 1024
    imported = await stub.ImportBars(
        data_pb2.ImportBarsRequest(symbol="NEW", timeframe="1m", csv_content=csv)
    )
    assert imported.imported == MAX_IMPORT_ROWS
    peak = _peak_mib(pid)
    assert peak < MEMORY_BUDGET_MIB, f"peak resident memory {peak:.0f} MiB"
