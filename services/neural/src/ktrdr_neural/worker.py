"""The training worker process: ``python -m ktrdr_neural.worker JOB_DIR`` (or ``--wait``).

With ``--wait`` the process imports and warms up torch first (seconds on a busy machine), says
``ready`` and then reads the job directory from stdin: the service keeps one such spare so a
training starts at once.

Reads ``JOB_DIR/job.json`` and ``JOB_DIR/dataset.safetensors`` (no pickle), trains, and writes
``JOB_DIR/result/weights.safetensors`` and ``JOB_DIR/result/result.json``. Progress goes to
stdout as one JSON object per line (``started``, ``epoch``, ``done`` or ``failed``). The service
runs one such process per training, off its event loop; killing it loses only that training
(nothing is written to the registry here).
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import torch
from safetensors.numpy import load_file, save_file

from ktrdr_core.strategy.training import spec_from_dict
from ktrdr_neural.domain.training import EpochReport, run_training


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def run(job_dir: Path) -> int:
    """Run the job in ``job_dir``; the exit code is 0 on success."""
    job = json.loads((job_dir / "job.json").read_text())
    arrays = load_file(str(job_dir / "dataset.safetensors"))
    spec = spec_from_dict(job["spec"])
    device = str(job.get("device", "cpu"))
    _emit("started", device=device, samples=len(arrays["rows_train"]))

    def on_epoch(report: EpochReport) -> None:
        _emit("epoch", **report.to_dict())

    weights, summary = run_training(
        arrays,
        spec,
        window=int(job["window"]),
        device=device,
        threads=int(job.get("threads", 1)),
        on_epoch=on_epoch,
    )
    out = job_dir / "result"
    out.mkdir(exist_ok=True)
    save_file(weights, str(out / "weights.safetensors"))
    (out / "result.json").write_text(json.dumps(summary))
    _emit("done")
    return 0


def _warm_up() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    torch.optim.Adam([param]).step()  # the first optimizer imports torch's compiler stack


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m ktrdr_neural.worker JOB_DIR | --wait\n")
        return 2
    job_dir = argv[0]
    if job_dir == "--wait":
        _warm_up()
        _emit("ready")
        job_dir = sys.stdin.readline().strip()
        if not job_dir:
            return 0  # the service stopped without a job for this spare
    try:
        return run(Path(job_dir))
    except Exception as exc:  # report any failure to the service, which records it
        _emit(
            "failed", message=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc()[-4000:]
        )
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
