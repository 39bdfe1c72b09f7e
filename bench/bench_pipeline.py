"""A strategy's features: batch against stream, in-process against the mesh.

The multi-timeframe example strategy (1h with 4h and 1d: 6 indicators on 3 timeframes, 27
features) on a seeded synthetic FX 1h series (stored as EURCHF, an FX calendar), per base bar:

- batch: ``CalculateFuzzy`` semantics (``Pipeline.calculate_fuzzy``) in-process, and the
  ``CalculateFuzzy`` RPC through the data, indicator and fuzzy services as processes;
- stream: ``StrategyStream`` in-process (batches of 1000 bars, and bar by bar), and
  ``GrpcStrategyStream`` (StreamIndicators piped into StreamFuzzy) through the services, in
  batches of 1000. The stream and the batch give the same values (tests assert it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench._report import table, write_section
from bench.bench_streaming import _start
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_cli.mesh import find_free_base_port
from ktrdr_core.bars import Bars
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_data.domain.synthetic import SyntheticConfig, generate
from ktrdr_fuzzy.domain.features import FeatureRequest
from ktrdr_pipeline import Pipeline
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.streams import GrpcStrategyStream

BARS = 50_000
SINGLE = 5_000
BATCH = 1_000
STRATEGY = "mtf_trend_follow_1h_4h_1d"
STRATEGIES = Path(__file__).resolve().parent.parent / "strategies"


@contextlib.contextmanager
def _services(home: Path) -> Iterator[dict[str, str]]:
    """Data, indicator and fuzzy services as processes on free ports."""
    base = find_free_base_port()
    addresses = {s: f"127.0.0.1:{base + i}" for i, s in enumerate(("data", "indicators", "fuzzy"))}
    extra = {
        "KTRDR_DATA_ADDRESS": addresses["data"],
        "KTRDR_INDICATORS_ADDRESS": addresses["indicators"],
        "KTRDR_STRATEGIES_DIR": str(STRATEGIES),
    }
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    procs = []
    try:
        for service, address in addresses.items():
            procs.append(_start(service, int(address.rsplit(":", 1)[1]), home))
        yield addresses
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _per_bar(seconds: float, bars: int) -> float:
    return seconds / bars * 1e6


async def _in_process(pipeline: Pipeline, bars: Bars) -> dict[str, float]:
    out = {}
    start = time.perf_counter()
    await pipeline.calculate_fuzzy(STRATEGY, FeatureRequest(symbol="EURCHF"))
    out["batch, in-process"] = _per_bar(time.perf_counter() - start, len(bars))
    stream = await pipeline.strategy_stream(STRATEGY, symbol="EURCHF")
    start = time.perf_counter()
    for lo in range(0, len(bars), BATCH):
        stream.update(bars.take(slice(lo, lo + BATCH)))
    out[f"stream, in-process, {BATCH} bars/batch"] = _per_bar(
        time.perf_counter() - start, len(bars)
    )
    stream = await pipeline.strategy_stream(STRATEGY, symbol="EURCHF")
    start = time.perf_counter()
    for i in range(SINGLE):
        stream.update(bars.take(slice(i, i + 1)))
    out["stream, in-process, 1 bar/batch"] = _per_bar(time.perf_counter() - start, SINGLE)
    return out


async def _mesh(addresses: dict[str, str], pipeline: Pipeline, bars: Bars) -> dict[str, float]:
    out = {}
    ind = open_channel(addresses["indicators"], timeout_seconds=600)
    fuz = open_channel(addresses["fuzzy"], timeout_seconds=600)
    try:
        start = time.perf_counter()
        await fuzzy_pb2_grpc.FuzzyServiceStub(fuz).CalculateFuzzy(
            fuzzy_pb2.CalculateFuzzyRequest(symbol="EURCHF", strategy=STRATEGY)
        )
        out["batch, CalculateFuzzy over the mesh"] = _per_bar(
            time.perf_counter() - start, len(bars)
        )
        strategy = await pipeline.strategy(STRATEGY)
        stream = await GrpcStrategyStream.open(ind, fuz, strategy=strategy, symbol="EURCHF")
        start = time.perf_counter()
        for lo in range(0, len(bars), BATCH):
            await stream.update(bars.take(slice(lo, lo + BATCH)))
        out[f"stream over the mesh, {BATCH} bars/batch"] = _per_bar(
            time.perf_counter() - start, len(bars)
        )
        await stream.close()
    finally:
        await ind.close()
        await fuz.close()
    return out


async def _run(home: Path) -> dict[str, float]:
    frame = generate(SyntheticConfig(bars=BARS, timeframe="1h", seed=11, calendar="fx_24_5"))
    ParquetBarStore(home / "data").write("EURCHF", "1h", frame)
    pipeline = Pipeline(data_dir=home / "data", strategies_dir=STRATEGIES)
    bars = Bars.from_frame(pipeline.store.read("EURCHF", "1h"))
    results = await _in_process(pipeline, bars)
    with _services(home) as addresses:
        results.update(await _mesh(addresses, pipeline, bars))
    return results


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(_run(Path(tmp)))
    batch = results["batch, in-process"]
    rows = [[name, f"{us:.1f}", f"{us / batch:.2f}x"] for name, us in results.items()]
    body = table(["path", "µs per base bar", "vs batch in-process"], rows)
    sys.stdout.write(body + "\n")
    write_section(
        "pipeline",
        f"Strategy features: batch vs stream, in-process vs mesh ({BARS:,} FX 1h bars, "
        "27 features on 1h/4h/1d)",
        body,
        "python -m bench pipeline",
    )
