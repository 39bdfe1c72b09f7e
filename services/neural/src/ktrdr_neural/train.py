"""python -m ktrdr_neural.train --request FILE: one training, published, then exit.

What a Kubernetes Job on a GPU node runs (``k8s/components/gpu-neural``). ``FILE`` holds a
``ktrdr.neural.v1.TrainModelRequest`` in proto JSON. The training is prepared exactly as the
``TrainModel`` RPC prepares it (strategy from the strategies directory, features and bars from
the fuzzy and data services at ``KTRDR_FUZZY_ADDRESS`` / ``KTRDR_DATA_ADDRESS``), runs in a
worker process on ``KTRDR_NEURAL_DEVICE`` and is published to the model registry under
``$KTRDR_HOME/models``: the volume the serving pods read, whose lock and atomic rename make a
second writer safe. Progress goes to stdout, one JSON object per line (the ``Training``
message, as the REST stream shows it); logs go to stderr.

Exit codes: 0 published; 1 the training failed or was stopped (SIGTERM; nothing published);
2 bad settings or a bad request (a retry cannot help).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import structlog
from google.protobuf import json_format

from ktrdr.neural.v1 import neural_pb2
from ktrdr_core.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    KtrdrError,
    ResourceExhaustedError,
    UnavailableError,
)
from ktrdr_core.strategy.document import find_strategy
from ktrdr_neural import convert
from ktrdr_neural.app import code_version, feature_source, open_registry
from ktrdr_neural.domain.device import choose_device
from ktrdr_neural.domain.features import FeatureSource
from ktrdr_neural.domain.jobs import SUCCEEDED, TrainingManager, TrainingStatus
from ktrdr_neural.domain.plan import plan_training
from ktrdr_neural.settings import NeuralSettings
from ktrdr_runtime.logging import configure_logging
from ktrdr_runtime.server import StartupError
from ktrdr_runtime.settings import SettingsError, read_bounded

log = structlog.get_logger("ktrdr.neural.train")

# Bound on the request file (a TrainModelRequest is a few hundred bytes).
MAX_REQUEST_BYTES = 1024 * 1024
Emit = Callable[[TrainingStatus], None]
# Errors a later attempt may not meet (a service starting, overloaded): exit 1, the Job retries.
# Any other error is the request's or the strategy's: exit 2, the Job fails at once.
RETRYABLE = (UnavailableError, DeadlineExceededError, ResourceExhaustedError, InternalError)


class RequestError(Exception):
    """The request file is unreadable or not a TrainModelRequest."""


def read_request(path: Path) -> neural_pb2.TrainModelRequest:
    """Parse ``path`` strictly (unknown fields are errors); at most ``MAX_REQUEST_BYTES``."""
    try:
        data = read_bounded(path, MAX_REQUEST_BYTES)
    except OSError as exc:
        raise RequestError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise RequestError(f"{path} {exc}") from None
    try:
        return json_format.Parse(data, neural_pb2.TrainModelRequest())
    except json_format.ParseError as exc:
        raise RequestError(f"{path}: {exc}") from None


def print_status(status: TrainingStatus) -> None:
    """One JSON line on stdout: the Training message of the status."""
    sys.stdout.write(json.dumps(json_format.MessageToDict(convert.training(status))) + "\n")
    sys.stdout.flush()


async def train_once(
    request: neural_pb2.TrainModelRequest,
    *,
    settings: NeuralSettings,
    source: FeatureSource,
    emit: Emit = print_status,
) -> TrainingStatus:
    """Prepare, train and publish one model; the final status (SIGTERM cancels it).

    Raises
    ------
    KtrdrError
        When the request or the strategy is invalid, or the data cannot be had (before any
        training starts).
    """
    device = choose_device(settings.device)  # cuda asked for and absent: refused first
    train = convert.train_request(request)
    strategy = await asyncio.to_thread(find_strategy, settings.strategies, request.strategy)
    job = await plan_training(source, strategy, train)
    trainings = TrainingManager(
        registry=open_registry(settings),
        work_dir=settings.home / "neural" / "train-jobs",
        device=device,
        max_concurrent=1,
        max_queued=1,
        threads=settings.torch_threads,
        code_version=code_version(),
    )
    loop = asyncio.get_running_loop()
    try:
        status = await trainings.submit(job)
        training_id = status.training_id

        async def stop() -> None:
            with contextlib.suppress(FailedPreconditionError):  # already storing: let it end
                await trainings.cancel(training_id)

        stopping: list[asyncio.Task[None]] = []
        loop.add_signal_handler(signal.SIGTERM, lambda: stopping.append(loop.create_task(stop())))
        async for status in trainings.watch(training_id):
            emit(status)
        return status
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        await trainings.close()


async def _run(request: neural_pb2.TrainModelRequest, settings: NeuralSettings) -> int:
    source, close_source = feature_source(settings)
    try:
        final = await train_once(request, settings=settings, source=source)
    except KtrdrError as exc:
        log.error("training_not_started", code=exc.code, error=exc.full_message)
        return 1 if isinstance(exc, RETRYABLE) else 2
    finally:
        await close_source()
    log.info("training_finished", state=final.state, model=final.model_name, error=final.error)
    return 0 if final.state == SUCCEEDED else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit code says what happened (module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m ktrdr_neural.train", description=__doc__)
    parser.add_argument("--request", type=Path, required=True, help="TrainModelRequest JSON")
    args = parser.parse_args(argv)
    configure_logging("neural-train")
    try:
        settings = NeuralSettings.from_env()
        request = read_request(args.request)
        open_registry(settings)  # a wrong encryption key refuses before any work
    except (SettingsError, RequestError, StartupError) as exc:
        log.error("invalid_input", error=str(exc))
        return 2
    configure_logging("neural-train", settings.log_level)
    return asyncio.run(_run(request, settings))


if __name__ == "__main__":
    sys.exit(main())
