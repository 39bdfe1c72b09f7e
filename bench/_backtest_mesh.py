"""A full neuro-fuzzy backtest, in-process and across the mesh (part of ``python -m bench
backtest``; see bench/bench_backtest.py).

The single-timeframe example strategy (``rsi_trend_eurusd_1h``: RSI, ADX and MACD streamed bar
by bar, 9 fuzzy memberships, an MLP, the decision engine) on a seeded synthetic FX 1h series
stored as EURCHF. A tiny model is trained in-process on its first bars; the backtest then runs
on the rest:

- in-process: ``ktrdr_pipeline.Pipeline.backtester()`` (one process, the domains called
  directly);
- across the mesh: the data, indicator, fuzzy, neural and backtest services as processes,
  ``RunBacktest`` called over gRPC (bars stream from the data service through StreamIndicators,
  StreamFuzzy and StreamPredictions, pumped, into the engine), the run stored in SQLite.

The trades are asserted identical. Wall time per path; CPU seconds per process (from
``/proc``) say where the mesh's time goes; cProfile says where the in-process time goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import datetime as dt
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc

from bench._report import table, write_section
from bench.bench_streaming import _start
from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr_backtest.domain.run import BacktestOutcome, BacktestRequest
from ktrdr_cli.mesh import find_free_base_port
from ktrdr_core.offload import Offload, inline
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_data.domain.synthetic import SyntheticConfig, generate
from ktrdr_pipeline import Pipeline
from ktrdr_pipeline.backtest import LocalTrainer

BARS = 260_000
TRAIN_BARS = 20_000
START_BAR = 25_000  # the backtest range starts here (the warm-up comes from before)
PROFILE_BARS = 40_000
BATCHES = (2_000, 10_000)
SYMBOL = "EURCHF"
STRATEGY = "rsi_trend_eurusd_1h"
STRATEGIES = Path(__file__).resolve().parent.parent / "strategies"
SERVICES = ("data", "indicators", "fuzzy", "neural", "backtest")
GOAL_RATE = 250_000
GOAL_RATIO = 2.0


def _utc(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _mesh(home: Path) -> Iterator[tuple[dict[str, str], dict[str, int]]]:
    base = find_free_base_port()
    addresses = {s: f"127.0.0.1:{base + i}" for i, s in enumerate(SERVICES)}
    extra = {f"KTRDR_{s.upper()}_ADDRESS": a for s, a in addresses.items()}
    extra["KTRDR_STRATEGIES_DIR"] = str(STRATEGIES)
    extra["KTRDR_NEURAL_PREWARM_WORKER"] = "false"
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    procs = []
    try:
        for service, address in addresses.items():
            procs.append(_start(service, int(address.rsplit(":", 1)[1]), home))
        yield addresses, {s: p.pid for s, p in zip(SERVICES, procs, strict=True)}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _prepare(home: Path) -> tuple[str, dt.datetime, dt.datetime, int]:
    frame = generate(SyntheticConfig(bars=BARS, timeframe="1h", start="1990-01-01", seed=11))
    ParquetBarStore(home / "data").write(SYMBOL, "1h", frame)
    stamps = frame.index.as_unit("us").asi8
    p = Pipeline(data_dir=home / "data", strategies_dir=STRATEGIES, models_dir=home / "models")

    async def train() -> str:
        return await LocalTrainer(p, p._registry()).train(
            await p.strategy(STRATEGY),
            symbol=SYMBOL,
            start=_utc(int(stamps[0])),
            end=_utc(int(stamps[TRAIN_BARS])),
            overrides={"epochs": 3, "labels": {"zigzag_threshold": 0.001}},
        )

    model = asyncio.run(train())
    end = _utc(int(stamps[-1]) + 3_600_000_000)
    return model, _utc(int(stamps[START_BAR])), end, BARS - START_BAR


def _request(model: str, start: dt.datetime, end: dt.datetime, batch: int) -> BacktestRequest:
    return BacktestRequest(
        strategy_id=STRATEGY,
        symbol=SYMBOL,
        model=model,
        start=start,
        end=end,
        confidence_threshold=0.0,
        batch_size=batch,
    )


def _in_process(
    home: Path, request: BacktestRequest, *, offload: Offload = asyncio.to_thread
) -> tuple[float, float, BacktestOutcome]:
    p = Pipeline(
        data_dir=home / "data",
        strategies_dir=STRATEGIES,
        models_dir=home / "models",
        offload=offload,
    )

    async def run() -> BacktestOutcome:
        events = [e async for e in p.backtester().run(request)]
        assert events[-1].outcome is not None
        return events[-1].outcome

    wall, cpu = time.perf_counter(), time.process_time()
    outcome = asyncio.run(run())
    return time.perf_counter() - wall, time.process_time() - cpu, outcome


def _where_in_process(home: Path, request: BacktestRequest) -> str:
    """Each stage's share of the run (cProfile, cumulative; the work run inline, on the
    profiled thread)."""
    profile = cProfile.Profile()
    profile.enable()
    _in_process(home, request, offload=inline)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())  # own times add up to the run
    stages = {
        "indicator streams": ("multi_timeframe.py", "update"),
        "fuzzy memberships": ("features.py", "update"),
        "model": ("serving.py", "update"),
        "engine, baseline and decision traces": ("run.py", "feed"),
        "metrics": ("run.py", "finish"),
        "bars read": ("storage.py", "read"),
    }
    parts = []
    for label, (file, name) in stages.items():
        cum = max(
            (v[3] for k, v in stats.items() if k[2] == name and k[0].endswith(file)), default=0.0
        )
        parts.append(f"{label} {100 * cum / total:.0f}%")
    return ", ".join(parts)


def _mesh_run(
    address: str, pids: dict[str, int], request: BacktestRequest
) -> tuple[float, dict[str, float], backtest_pb2.Backtest, list[backtest_pb2.Trade]]:
    message = backtest_pb2.RunBacktestRequest(
        strategy_id=request.strategy_id,
        symbol=request.symbol,
        model=request.model,
        start_date=request.start.isoformat(),
        end_date=request.end.isoformat(),
        confidence_threshold=0.0,
        batch_size=request.batch_size,
        commission_settings=backtest_pb2.CommissionSettings(rate=0.0),
        slippage_bps=0.0,
    )
    with grpc.insecure_channel(address) as channel:
        stub = backtest_pb2_grpc.BacktestServiceStub(channel)
        before = {s: _cpu(pid) for s, pid in pids.items()}
        wall = time.perf_counter()
        final = list(stub.RunBacktest(message, timeout=3600))[-1].backtest
        wall = time.perf_counter() - wall
        cpu = {s: _cpu(pid) - before[s] for s, pid in pids.items()}
        trades: list[backtest_pb2.Trade] = []
        token = ""  # nosec B105 # a page token of ListTrades, not a password
        while True:
            page = stub.ListTrades(
                backtest_pb2.ListTradesRequest(
                    backtest_id=final.backtest_id, page_size=10_000, page_token=token
                )
            )
            trades.extend(page.trades)
            token = page.next_page_token
            if not token:
                break
    assert final.state == backtest_pb2.BACKTEST_STATE_SUCCEEDED, final.error
    return wall, cpu, final, trades


def _assert_identical(local: BacktestOutcome, remote: list[backtest_pb2.Trade], final) -> None:
    assert len(remote) == len(local.result.trades), (len(remote), len(local.result.trades))
    for got, want in zip(remote, local.result.trades, strict=True):
        assert (got.entry_bar, got.exit_bar, got.pnl) == (want.entry_bar, want.exit_bar, want.pnl)
    assert final.metrics.final_equity == local.result.final_equity


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="ktrdr-bench-backtest-"))
    try:
        _run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(home: Path) -> None:
    sys.stderr.write("backtest mesh: generating bars and training a tiny model ...\n")
    model, start, end, bars = _prepare(home)
    rows = []
    local: dict[int, tuple[float, float, BacktestOutcome]] = {}
    for batch in BATCHES:
        local[batch] = _in_process(home, _request(model, start, end, batch))
        wall, cpu, _ = local[batch]
        rows.append(
            ["in-process", f"{batch:,}", f"{wall:.2f}", f"{bars / wall:,.0f}", f"{cpu:.2f}"]
        )
    where_local = _where_in_process(
        home, _request(model, start, _utc_after(start, PROFILE_BARS), 2_000)
    )
    mesh_cpu: dict[str, float] = {}
    best_mesh, best_local = float("inf"), min(v[0] for v in local.values())
    with _mesh(home) as (addresses, pids):
        # One short run first: every service loads what it caches (strategy, model).
        _mesh_run(
            addresses["backtest"], pids, _request(model, start, _utc_after(start, 5_000), 2_000)
        )
        for batch in BATCHES:
            wall, cpu, final, trades = _mesh_run(
                addresses["backtest"], pids, _request(model, start, end, batch)
            )
            _assert_identical(local[batch][2], trades, final)
            if wall < best_mesh:
                best_mesh, mesh_cpu = wall, cpu
            rows.append(
                [
                    "across the mesh",
                    f"{batch:,}",
                    f"{wall:.2f}",
                    f"{bars / wall:,.0f}",
                    f"{sum(cpu.values()):.2f}",
                ]
            )
    trades_count = len(local[BATCHES[0]][2].result.trades)
    rate, ratio = bars / best_mesh, best_mesh / best_local
    split = ", ".join(f"{s} {c:.2f} s" for s, c in mesh_cpu.items())
    body = (
        f"{bars:,} synthetic FX hours ({SYMBOL}) through `{STRATEGY}` (RSI, ADX, MACD streamed "
        f"bar by bar; 9 memberships; an MLP trained in-process on {TRAIN_BARS:,} earlier bars; "
        f"decisions with a 0 confidence threshold: {trades_count:,} trades), after a "
        f"{local[BATCHES[0]][2].warmup_bars} bar warm-up. The trades, their P&L and the final "
        "equity are identical in-process and across the mesh (asserted).\n\n"
        + table(["path", "bars per batch", "wall s", "bars/s", "CPU s (all processes)"], rows)
        + f"\n\nAcross the mesh, best: **{rate:,.0f} bars/s** (goal >= {GOAL_RATE:,}: "
        + ("met" if rate >= GOAL_RATE else "not met")
        + f"); mesh / in-process wall time **{ratio:.2f}x** (goal <= {GOAL_RATIO:g}x: "
        + ("met" if ratio <= GOAL_RATIO else "not met")
        + ").\n\nWhere the time goes. In-process (cProfile, cumulative, "
        + f"{PROFILE_BARS:,} bars): {where_local}. Across the mesh (CPU seconds per process "
        + f"in the best run): {split}."
    )
    sys.stdout.write(body + "\n")
    write_section(
        "backtest-mesh",
        "Neuro-fuzzy backtest: in-process and across the mesh",
        body,
        "python -m bench backtest",
    )


def _utc_after(start: dt.datetime, hours: int) -> dt.datetime:
    """About ``hours`` FX bars after ``start`` (weekends included: 7/5 of the hours)."""
    return start + dt.timedelta(hours=hours * 7 / 5)


if __name__ == "__main__":
    main()
