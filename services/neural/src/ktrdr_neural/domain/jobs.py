"""Trainings as jobs: queued with a bounded concurrency, each in its own worker process.

A training is prepared (strategy, settings, data, labels, split — every check that can fail)
before it is queued, so a bad request fails at once and a queued training only waits for a
slot. Each runs ``python -m ktrdr_neural.worker`` in a job directory; the manager follows its
progress lines, keeps the status callers watch (a client that disconnects does not stop the
training), and on success publishes the model to the registry. A cancelled, failed or killed
training publishes nothing and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import math
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog
from safetensors.numpy import save_file

from ktrdr_core.errors import (
    FailedPreconditionError,
    NotFoundError,
    ResourceExhaustedError,
)
from ktrdr_core.strategy.training import NetworkSpec, spec_to_dict
from ktrdr_neural.domain import errors as codes
from ktrdr_neural.domain.dataset import PreparedDataset
from ktrdr_neural.domain.metrics import Evaluation
from ktrdr_neural.domain.registry import ModelRef, ModelRegistry

log = structlog.get_logger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})


@dataclasses.dataclass(frozen=True, slots=True)
class TrainingJob:
    """A prepared training: what the worker trains and what the registry records."""

    strategy: str
    symbols: tuple[str, ...]
    timeframe: str
    series: str
    spec: NetworkSpec
    dataset: PreparedDataset
    settings: dict[str, Any]
    strategy_digest: str


@dataclasses.dataclass(frozen=True, slots=True)
class TrainingStatus:
    """A snapshot of one training (what GetTraining and the progress stream report)."""

    training_id: str
    state: str
    strategy: str
    symbols: tuple[str, ...]
    device: str
    total_epochs: int
    epoch: int = 0
    train_loss: float = 0.0
    train_accuracy: float = 0.0
    val_loss: float = 0.0
    val_accuracy: float = 0.0
    val_macro_f1: float = 0.0
    learning_rate: float = 0.0
    best_epoch: int = 0
    eta_seconds: float = 0.0
    elapsed_seconds: float = 0.0
    queue_position: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    model_name: str = ""
    error: str = ""
    message: str = ""
    evaluations: tuple[Evaluation, ...] = ()

    @property
    def done(self) -> bool:
        return self.state in TERMINAL


class _Record:
    def __init__(self, training_id: str, job: TrainingJob, device: str) -> None:
        self.id = training_id
        self.job = job
        self.status = TrainingStatus(
            training_id=training_id,
            state=QUEUED,
            strategy=job.strategy,
            symbols=job.symbols,
            device=device,
            total_epochs=job.spec.training.epochs,
            message="queued",
        )
        self.changed = asyncio.Event()
        self.process: asyncio.subprocess.Process | None = None
        self.cancel_requested = False
        self.publishing = False
        self.clock = 0.0
        self.train_clock = 0.0

    def update(self, **fields: Any) -> None:
        self.status = dataclasses.replace(self.status, **fields)
        self.changed.set()
        self.changed = asyncio.Event()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def finite(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None (model.json is strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


class TrainingManager:
    """Queue, run, follow, cancel and publish trainings.

    Parameters
    ----------
    registry
        Where successful trainings are published.
    work_dir
        Job directories live here (emptied at start: a job of a previous run is lost).
    device
        ``"cpu"`` or ``"cuda[:n]"``, chosen once at start.
    max_concurrent
        Trainings running at once (1-64).
    max_queued
        Trainings waiting at most (0-1000); past it ``submit`` raises RESOURCE_EXHAUSTED.
    threads
        Torch threads per worker (1-256).
    code_version
        Recorded in every model.json.
    keep_finished
        Finished trainings remembered for GetTraining.
    """

    def __init__(
        self,
        *,
        registry: ModelRegistry,
        work_dir: Path,
        device: str,
        max_concurrent: int = 1,
        max_queued: int = 8,
        threads: int = 1,
        code_version: Mapping[str, str] | None = None,
        keep_finished: int = 200,
    ) -> None:
        if not 1 <= max_concurrent <= 64:
            raise ValueError(f"max_concurrent must be in [1, 64], got {max_concurrent}")
        if not 0 <= max_queued <= 1000:
            raise ValueError(f"max_queued must be in [0, 1000], got {max_queued}")
        if not 1 <= threads <= 256:
            raise ValueError(f"threads must be in [1, 256], got {threads}")
        self.registry = registry
        self.work_dir = Path(work_dir)
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.device = device
        self.max_concurrent = max_concurrent
        self.max_queued = max_queued
        self.threads = threads
        self.code_version = dict(code_version or {})
        self.keep_finished = keep_finished
        self._records: dict[str, _Record] = {}
        self._queue: list[str] = []
        self._wakeup: asyncio.Event | None = None
        self._runners: list[asyncio.Task[None]] = []
        self._spare: asyncio.subprocess.Process | None = None

    # ------------------------------------------------------------------ public API
    async def submit(self, job: TrainingJob) -> TrainingStatus:
        """Queue a prepared training; RESOURCE_EXHAUSTED (NEURAL-009) when the queue is full."""
        self._start_runners()
        if len(self._queue) >= self.max_queued + max(0, self.max_concurrent - self._running()):
            raise ResourceExhaustedError(
                codes.QUEUE_FULL,
                f"The training queue is full ({len(self._queue)} waiting); try again later.",
            )
        record = _Record(uuid.uuid4().hex[:16], job, self.device)
        self._records[record.id] = record
        self._queue.append(record.id)
        self._renumber()
        log.info("training_queued", training_id=record.id, strategy=job.strategy)
        assert self._wakeup is not None
        self._wakeup.set()
        return record.status

    def get(self, training_id: str) -> TrainingStatus:
        return self._record(training_id).status

    async def watch(self, training_id: str) -> AsyncIterator[TrainingStatus]:
        """Every status change until the training ends (the last one is terminal)."""
        record = self._record(training_id)
        while True:
            changed = record.changed
            status = record.status
            yield status
            if status.done:
                return
            await changed.wait()

    async def cancel(self, training_id: str) -> TrainingStatus:
        """Cancel a queued or running training (NEURAL-008 once it is finished or storing)."""
        record = self._record(training_id)
        if record.status.done or record.publishing:
            why = (
                f"it has already ended ({record.status.state})"
                if record.status.done
                else "it is storing its model"
            )
            raise FailedPreconditionError(
                codes.NOT_CANCELLABLE,
                f"Training {training_id} cannot be cancelled: {why}.",
                field="training_id",
            )
        record.cancel_requested = True
        if record.id in self._queue:
            self._queue.remove(record.id)
            self._renumber()
            self._finish(record, CANCELLED, error="cancelled before it started")
        elif record.process is not None and record.process.returncode is None:
            record.process.kill()
        for _ in range(100):  # wait (bounded) for the runner to record the outcome
            if record.status.done:
                break
            await asyncio.sleep(0.05)
        return record.status

    async def prewarm(self) -> None:
        """Start a spare worker now (it imports torch while nothing waits for it)."""
        if self._spare is None:
            self._spare = await self._spawn()

    async def close(self) -> None:
        """Kill running workers and stop the runners (service shutdown)."""
        if self._spare is not None and self._spare.returncode is None:
            self._spare.kill()
            await self._spare.wait()
        self._spare = None
        for record in self._records.values():
            if record.process is not None and record.process.returncode is None:
                record.cancel_requested = True
                record.process.kill()
        for task in self._runners:
            task.cancel()
        for task in self._runners:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._runners.clear()

    # ------------------------------------------------------------------ internals
    def _record(self, training_id: str) -> _Record:
        record = self._records.get(training_id)
        if record is None:
            raise NotFoundError(
                codes.TRAINING_NOT_FOUND,
                f"No training '{training_id}' (trainings are remembered by the service that "
                "ran them until it restarts).",
                field="training_id",
            )
        return record

    def _running(self) -> int:
        return sum(1 for r in self._records.values() if r.status.state == RUNNING)

    def _renumber(self) -> None:
        for i, tid in enumerate(self._queue, 1):
            self._records[tid].update(queue_position=i)

    def _start_runners(self) -> None:
        if self._runners:
            return
        self._wakeup = asyncio.Event()
        self._runners = [
            asyncio.create_task(self._runner(), name=f"training-runner-{i}")
            for i in range(self.max_concurrent)
        ]

    async def _runner(self) -> None:
        assert self._wakeup is not None
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            record = self._records[self._queue.pop(0)]
            self._renumber()
            try:
                await self._run(record)
            except Exception as exc:  # never lose the runner; record the failure
                log.exception("training_crashed", training_id=record.id)
                self._finish(record, FAILED, error=f"{type(exc).__name__}: {exc}")
            finally:
                shutil.rmtree(self.work_dir / record.id, ignore_errors=True)
                self._forget_old()

    async def _run(self, record: _Record) -> None:
        job_dir = self.work_dir / record.id
        await asyncio.to_thread(self._write_job, job_dir, record.job)
        record.clock = time.monotonic()
        record.update(state=RUNNING, started_at=_now(), queue_position=0, message="starting")
        log.info("training_started", training_id=record.id, device=self.device)
        process = await self._worker()
        assert process.stdin is not None
        process.stdin.write(f"{job_dir}\n".encode())
        await process.stdin.drain()
        process.stdin.close()
        record.process = process
        if record.cancel_requested:
            process.kill()
        assert process.stderr is not None
        stderr_tail = asyncio.create_task(_tail(process.stderr))
        failure = await self._follow(record, process)
        code = await process.wait()
        stderr = (await stderr_tail).decode(errors="replace")
        if record.cancel_requested:
            self._finish(record, CANCELLED, error="cancelled by request; no model was stored")
        elif code != 0 or failure:
            reason = failure or f"worker exited with code {code}: {stderr[-500:]}"
            self._finish(record, FAILED, error=f"{reason}; no model was stored")
        else:
            await self._publish(record, job_dir)

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ktrdr_neural.worker",
            "--wait",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 22,
        )

    async def _worker(self) -> asyncio.subprocess.Process:
        """The warm spare when there is one (then a new spare starts), else a new worker."""
        spare, self._spare = self._spare, None
        if spare is None or spare.returncode is not None:
            spare = await self._spawn()
        self._spare = await self._spawn()
        return spare

    async def _follow(self, record: _Record, process: asyncio.subprocess.Process) -> str:
        assert process.stdout is not None
        failure = ""
        async for raw in process.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            kind = event.get("event")
            if kind == "epoch":
                self._on_epoch(record, event)
            elif kind == "started":
                record.train_clock = time.monotonic()
                record.update(message="training")
            elif kind == "failed":
                failure = str(event.get("message", "the worker failed"))
                log.error("training_worker_failed", training_id=record.id, error=failure)
        return failure

    def _on_epoch(self, record: _Record, e: Mapping[str, Any]) -> None:
        now = time.monotonic()
        per_epoch = (now - (record.train_clock or record.clock)) / max(1, int(e["epoch"]))
        epoch, total = int(e["epoch"]), int(e["total_epochs"])
        record.update(
            epoch=epoch,
            train_loss=float(e["train_loss"]),
            train_accuracy=float(e["train_accuracy"]),
            val_loss=float(e["val_loss"]),
            val_accuracy=float(e["val_accuracy"]),
            val_macro_f1=float(e["val_macro_f1"]),
            learning_rate=float(e["learning_rate"]),
            best_epoch=int(e["best_epoch"]),
            elapsed_seconds=now - record.clock,
            eta_seconds=per_epoch * (total - epoch),
            message=f"epoch {epoch}/{total}",
        )

    def _write_job(self, job_dir: Path, job: TrainingJob) -> None:
        job_dir.mkdir(parents=True, exist_ok=True)
        save_file(job.dataset.arrays(), str(job_dir / "dataset.safetensors"))
        spec = {
            "spec": spec_to_dict(job.spec),
            "window": job.dataset.window,
            "device": self.device,
            "threads": self.threads,
        }
        (job_dir / "job.json").write_text(json.dumps(spec))

    async def _publish(self, record: _Record, job_dir: Path) -> None:
        record.publishing = True
        record.update(message="storing the model")
        result = json.loads((job_dir / "result" / "result.json").read_text())
        weights = (job_dir / "result" / "weights.safetensors").read_bytes()
        ref = await asyncio.to_thread(
            publish,
            self.registry,
            record.job,
            result,
            weights=weights,
            code_version=self.code_version,
        )
        evaluations = tuple(Evaluation.from_dict(e) for e in result["evaluations"])
        self._finish(record, SUCCEEDED, model_name=ref.name, evaluations=evaluations)

    def _finish(self, record: _Record, state: str, **fields: Any) -> None:
        elapsed = time.monotonic() - record.clock if record.clock else 0.0
        message = {SUCCEEDED: "done", FAILED: "failed", CANCELLED: "cancelled"}[state]
        record.update(
            state=state,
            finished_at=_now(),
            eta_seconds=0.0,
            elapsed_seconds=elapsed,
            queue_position=0,
            message=message,
            **fields,
        )
        log.info(
            "training_finished",
            training_id=record.id,
            state=state,
            model=record.status.model_name,
            error=record.status.error,
        )

    def _forget_old(self) -> None:
        done = [r for r in self._records.values() if r.status.done]
        for record in done[: max(0, len(done) - self.keep_finished)]:
            del self._records[record.id]


async def _tail(stream: asyncio.StreamReader, keep: int = 4096) -> bytes:
    """Read ``stream`` to its end (so the writer never blocks), keeping the last bytes."""
    tail = b""
    while chunk := await stream.read(65_536):
        tail = (tail + chunk)[-keep:]
    return tail


def build_metadata(
    job: TrainingJob, result: Mapping[str, Any], *, code_version: Mapping[str, str]
) -> dict[str, Any]:
    """The model.json content (the registry adds name, version and the weights' digest)."""
    data = job.dataset
    meta = {
        "format": "ktrdr-model/1",
        "strategy": job.strategy,
        "strategy_digest": job.strategy_digest,
        "symbols": list(job.symbols),
        "timeframe": job.timeframe,
        "created_at": _now().isoformat().replace("+00:00", "Z"),
        "features": [
            {"name": c.name, "dtype": "float64", "scaling": s.to_dict()}
            for c, s in zip(data.schema, data.scalers, strict=True)
        ],
        "outputs": ["BUY", "HOLD", "SELL"],
        "model": job.spec.model.to_dict(),
        "labels": job.spec.training.labels.to_dict(),
        "training": job.spec.training.to_dict(),
        "settings": job.settings,
        "data": data.data,
        "return_scale": result["return_scale"],
        "device": result["device"],
        "code_version": dict(code_version),
        "metrics": {
            "evaluations": result["evaluations"],
            "history": result["history"],
            "best_epoch": result["best_epoch"],
            "stopped_early": result["stopped_early"],
            "train_seconds": result["seconds"],
            "threads": result["threads"],
        },
    }
    return finite(meta)


def publish(
    registry: ModelRegistry,
    job: TrainingJob,
    result: Mapping[str, Any],
    *,
    weights: bytes,
    code_version: Mapping[str, str],
) -> ModelRef:
    """Store a finished training's model (its metadata from :func:`build_metadata`)."""
    return registry.publish(
        strategy=job.strategy,
        series=job.series,
        metadata=build_metadata(job, result, code_version=code_version),
        weights=weights,
    )


def summary_metrics(metadata: Mapping[str, Any]) -> dict[str, float]:
    """Flat headline figures of a model (what ModelInfo.metrics carries)."""
    out: dict[str, float] = {}
    for ev in metadata.get("metrics", {}).get("evaluations", []):
        prefix = "test" if ev["name"] == "model" else ev["name"]
        out[f"{prefix}_accuracy"] = float(ev["accuracy"])
        out[f"{prefix}_macro_f1"] = float(ev["macro_f1"])
    history: Sequence[Mapping[str, Any]] = metadata.get("metrics", {}).get("history", [])
    best = int(metadata.get("metrics", {}).get("best_epoch", 0))
    for h in history:
        if int(h["epoch"]) == best:
            out["val_loss"] = float(h["val_loss"] or 0.0)
            out["val_accuracy"] = float(h["val_accuracy"] or 0.0)
    return out
