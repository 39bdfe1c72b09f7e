"""Neural service benchmark: training throughput, batch-1 inference, prediction streams.

Run: ``.venv/bin/python -m bench neural``. Goals: MLP training >= 300k samples/s on the CPU
(100k samples x 40 features); batch-1 inference p99 <= 50 us in-process; StreamPredictions
>= 500k bars/s with 1000-bar messages. Peers in the same run: a plain PyTorch DataLoader loop
(training), the torch module under ``inference_mode`` (batch-1), and the in-process model on
the same batches (stream: the cost of the network hop). The service runs as its own process.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess  # nosec B404 # the benchmark starts local processes
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import structlog
import torch
from safetensors.numpy import save

from bench._report import table, write_section
from ktrdr.common.v1 import common_pb2
from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_cli.mesh import check_health, find_free_base_port
from ktrdr_core.strategy.training import ModelConfig, parse_network_spec
from ktrdr_neural.domain.models import Network, state_arrays
from ktrdr_neural.domain.registry import LocalStorage, ModelRegistry
from ktrdr_neural.domain.serving import ModelServer, limit_blas_threads
from ktrdr_neural.domain.training import train_network
from ktrdr_runtime.bars import timestamp_us
from ktrdr_runtime.channels import open_channel

log = structlog.get_logger(__name__)

SAMPLES, FEATURES = 100_000, 40
HIDDEN = [64, 32]
EPOCHS = 2


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (SAMPLES + 4000, FEATURES)).astype(np.float32)
    y = np.argmax(x[:, :3] + rng.normal(0, 0.3, (len(x), 3)), axis=1).astype(np.int64)
    return x, y


def bench_training(threads: int, batch: int) -> tuple[float, float]:
    """(ours, plain PyTorch DataLoader loop) in samples/s, best epoch of EPOCHS."""
    torch.set_num_threads(threads)
    x, y = _data()
    rows = np.arange(len(x))
    split = {"train": rows[:SAMPLES], "validation": rows[SAMPLES:-2000], "test": rows[-2000:]}
    arrays = {"features": x}
    for k, idx in split.items():
        arrays[f"rows_{k}"] = idx
        arrays[f"labels_{k}"] = y[idx]
        arrays[f"returns_{k}"] = np.zeros(len(idx), dtype=np.float32)
    spec = parse_network_spec(
        {"type": "mlp", "architecture": {"hidden_layers": HIDDEN, "dropout": 0.1}},
        {
            "labels": {"source": "forward_return"},
            "epochs": EPOCHS,
            "batch_size": batch,
            "early_stopping": False,
        },
    )
    seconds: list[float] = []
    train_network(arrays, spec, window=1, on_epoch=lambda r: seconds.append(r.seconds))
    ours = SAMPLES / min(seconds)

    torch.manual_seed(0)
    net = Network(spec.model, FEATURES)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(
            torch.from_numpy(x[:SAMPLES]), torch.from_numpy(y[:SAMPLES])
        ),
        batch_size=batch,
        shuffle=True,
    )
    best = float("inf")
    for _ in range(EPOCHS):
        t0 = time.perf_counter()
        net.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xb)[0], yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        best = min(best, time.perf_counter() - t0)
    return ours, SAMPLES / best


def _publish(root: Path) -> tuple[ModelRegistry, str]:
    registry = ModelRegistry(LocalStorage(root))
    config = ModelConfig(type="mlp", hidden_layers=tuple(HIDDEN))
    torch.manual_seed(0)
    meta = {
        "created_at": "2026-01-01T00:00:00Z",
        "symbols": ["SYN"],
        "timeframe": "1h",
        "features": [
            {"name": f"1h_f{j}", "scaling": {"method": "none", "offset": 0.0, "divisor": 1.0}}
            for j in range(FEATURES)
        ],
        "model": config.to_dict(),
        "metrics": {"evaluations": [], "history": [], "best_epoch": 0},
        "return_scale": 1.0,
    }
    ref = registry.publish(
        strategy="bench",
        series="SYN_1h",
        metadata=meta,
        weights=save(state_arrays(Network(config, FEATURES))),
    )
    return registry, ref.name


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    arr = np.asarray(samples_ns) / 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def bench_batch1(registry: ModelRegistry, name: str, calls: int = 20_000) -> dict[str, tuple]:
    from ktrdr_neural.domain.registry import parse_model_name

    model = ModelServer(registry).load(parse_model_name(name))
    x = np.random.default_rng(1).uniform(0, 1, (calls, FEATURES))
    net = Network(model.config, FEATURES).eval()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in _arrays(registry, name).items()})
    out = {}
    for label, fn in (
        ("KTRDR LoadedModel.predict (NumPy forward)", lambda r: model.predict(r)),
        ("torch module + softmax, inference_mode", lambda r: _torch_call(net, r)),
    ):
        times = []
        for i in range(calls):
            row = x[i : i + 1]
            t0 = time.perf_counter_ns()
            fn(row)
            times.append(time.perf_counter_ns() - t0)
        out[label] = _percentiles(times[1000:])
    return out


def _arrays(registry: ModelRegistry, name: str) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    from ktrdr_neural.domain.registry import parse_model_name

    return load(registry.weights(registry.get(parse_model_name(name))))


def _torch_call(net: Network, row: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return torch.softmax(net(torch.from_numpy(row).float())[0], 1).numpy()


def _start(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KTRDR_HOME": str(home),
        "KTRDR_NEURAL_PORT": str(port),
        "KTRDR_NEURAL_METRICS_PORT": str(port + 10),
        "KTRDR_NEURAL_PREWARM_WORKER": "false",
        "KTRDR_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(  # nosec B603 # fixed argv of a local process
        [sys.executable, "-m", "ktrdr_neural"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while check_health(f"127.0.0.1:{port}") != "SERVING":
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("neural service did not start")
        time.sleep(0.1)
    return proc


async def _grpc_batch1(address: str, name: str, calls: int = 2000) -> tuple[float, float]:
    x = np.random.default_rng(2).uniform(0, 1, (calls, FEATURES))
    async with open_channel(address) as channel:
        stub = neural_pb2_grpc.NeuralServiceStub(channel)
        times = []
        for i in range(calls):
            request = neural_pb2.PredictRequest(
                model=name, rows=[neural_pb2.FeatureRow(timestamp=timestamp_us(i), values=x[i])]
            )
            t0 = time.perf_counter_ns()
            await stub.Predict(request)
            times.append(time.perf_counter_ns() - t0)
    return _percentiles(times[100:])


def _stream_messages(
    name: str, messages: int, rows: int
) -> list[neural_pb2.StreamPredictionsRequest]:
    rng = np.random.default_rng(3)
    out = [
        neural_pb2.StreamPredictionsRequest(config=neural_pb2.StreamPredictionsConfig(model=name))
    ]
    for m in range(messages):
        values = rng.uniform(0, 1, (FEATURES, rows))
        out.append(
            neural_pb2.StreamPredictionsRequest(
                features=neural_pb2.FeatureBatch(
                    timestamps_us=range(m * rows, (m + 1) * rows),
                    columns=[
                        common_pb2.ValueColumn(name=f"1h_f{j}", values=values[j])
                        for j in range(FEATURES)
                    ],
                )
            )
        )
    return out


async def _grpc_stream(address: str, requests: list) -> float:
    async def gen() -> AsyncIterator[neural_pb2.StreamPredictionsRequest]:
        for r in requests:
            yield r

    async with open_channel(address) as channel:
        stub = neural_pb2_grpc.NeuralServiceStub(channel)
        t0 = time.perf_counter()
        n = 0
        async for reply in stub.StreamPredictions(gen()):
            n += len(reply.signals)
        return n / (time.perf_counter() - t0)


def bench_stream_in_process(registry: ModelRegistry, name: str, requests: list) -> float:
    """The servicer's per-message work without the network: decode, check, predict, encode."""
    from ktrdr_neural import convert
    from ktrdr_neural.domain.registry import parse_model_name

    model = ModelServer(registry).load(parse_model_name(name))
    stream = model.stream()
    t0 = time.perf_counter()
    n = 0
    for r in requests[1:]:
        batch = r.features
        model.check_features([c.name for c in batch.columns])
        out = stream.update(convert.feature_batch(batch, model.features))
        reply = convert.stream_response(batch.timestamps_us, out, model.name, regression=False)
        n += len(reply.SerializeToString()) and len(out)
    return n / (time.perf_counter() - t0)


def main() -> None:
    rows_train = []
    for threads, batch in ((1, 256), (1, 1024), (2, 1024)):
        ours, peer = bench_training(threads, batch)
        rows_train.append(
            [
                threads,
                batch,
                f"{ours:,.0f}",
                f"{peer:,.0f}",
                f"{ours / peer:.2f}x",
                "yes" if ours >= 300_000 else "no",
            ]
        )
    torch.set_num_threads(1)
    limit_blas_threads(1)  # as the service does at start
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        registry, name = _publish(home / "models")
        batch1 = bench_batch1(registry, name)
        requests = _stream_messages(name, 200, 1000)
        local_stream = max(bench_stream_in_process(registry, name, requests) for _ in range(3))
        port = find_free_base_port()
        proc = _start(home, port)
        try:
            address = f"127.0.0.1:{port}"
            grpc_p50, grpc_p99 = asyncio.run(_grpc_batch1(address, name))
            stream_rates = [asyncio.run(_grpc_stream(address, requests)) for _ in range(3)]
        finally:
            proc.terminate()
            proc.wait(30)
    rate = max(stream_rates)
    body = "\n\n".join(
        [
            f"MLP {HIDDEN} training on {SAMPLES:,} samples x {FEATURES} features, "
            "Adam, gradient clipping; samples/s of the best epoch (ours includes the "
            "validation pass). Goal >= 300k samples/s.",
            table(
                [
                    "torch threads",
                    "batch",
                    "KTRDR train_network",
                    "plain PyTorch DataLoader loop",
                    "ratio",
                    "goal",
                ],
                rows_train,
            ),
            f"Batch-1 inference ({FEATURES} features, MLP {HIDDEN}), microseconds. "
            "Goal p99 <= 50 us in-process.",
            table(
                ["path", "p50 us", "p99 us"],
                [[k, f"{v[0]:.1f}", f"{v[1]:.1f}"] for k, v in batch1.items()]
                + [
                    [
                        "gRPC Predict, 1 row (service process, loopback)",
                        f"{grpc_p50:.0f}",
                        f"{grpc_p99:.0f}",
                    ]
                ],
            ),
            "StreamPredictions with 1000-bar messages (40 features in, signal + 3 probabilities "
            "out), 200 messages. Goal >= 500k bars/s.",
            table(
                ["path", "bars/s", "vs in-process", "goal"],
                [
                    [
                        "in-process (decode, check, predict, encode)",
                        f"{local_stream:,.0f}",
                        "1.0x",
                        "",
                    ],
                    [
                        "gRPC StreamPredictions (service process)",
                        f"{rate:,.0f}",
                        f"{rate / local_stream:.2f}x",
                        "yes" if rate >= 500_000 else "no",
                    ],
                ],
            ),
        ]
    )
    sys.stdout.write(body + "\n")
    write_section(
        "neural", "Neural: training, inference, prediction streams", body, "python -m bench neural"
    )
    log.info(
        "bench_neural_done", stream_bars_per_s=round(rate), median=statistics.median(stream_rates)
    )


if __name__ == "__main__":
    main()
