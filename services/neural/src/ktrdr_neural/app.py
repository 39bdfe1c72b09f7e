"""The neural service: its contract, settings and composition root."""

from __future__ import annotations

import platform
import shutil
import subprocess  # nosec B404 # asks git for the commit recorded in model.json
from importlib import metadata
from pathlib import Path

import numpy as np
import structlog
import torch
from grpc import aio

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.neural.v1 import neural_pb2_grpc
from ktrdr_core.errors import FailedPreconditionError
from ktrdr_neural.domain.device import choose_device
from ktrdr_neural.domain.jobs import TrainingManager
from ktrdr_neural.domain.registry import EncryptedStorage, LocalStorage, ModelRegistry
from ktrdr_neural.domain.serving import ModelServer, limit_blas_threads
from ktrdr_neural.feature_client import GrpcFeatureSource
from ktrdr_neural.servicer import DESCRIPTOR, NeuralServiceServicer
from ktrdr_neural.settings import NeuralSettings
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.server import Cleanup, ServiceSpec, StartupError

log = structlog.get_logger("ktrdr.neural")

DATA = data_pb2.DESCRIPTOR.services_by_name["DataService"]
FUZZY = fuzzy_pb2.DESCRIPTOR.services_by_name["FuzzyService"]


def code_version() -> dict[str, str]:
    """Versions recorded in every model.json: the package, the git commit, the libraries."""
    commit = "unknown"
    git = shutil.which("git")
    if git is None:
        return _versions(commit)
    try:
        done = subprocess.run(  # nosec B603 # fixed argv, git found on PATH, no shell
            [git, "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if done.returncode == 0:
            commit = done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return _versions(commit)


def _versions(commit: str) -> dict[str, str]:
    return {
        "ktrdr_neural": metadata.version("ktrdr-neural"),
        "git_commit": commit,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def feature_source(settings: NeuralSettings) -> tuple[GrpcFeatureSource, Cleanup]:
    """Features and bars over gRPC (the fuzzy and data services), and how to close them."""
    timeout = settings.call_timeout_seconds
    data_channel = open_channel(settings.data_address, services=[DATA], timeout_seconds=timeout)
    fuzzy_channel = open_channel(settings.fuzzy_address, services=[FUZZY], timeout_seconds=timeout)
    source = GrpcFeatureSource(
        fuzzy=fuzzy_pb2_grpc.FuzzyServiceStub(fuzzy_channel),
        data=data_pb2_grpc.DataServiceStub(data_channel),
        timeout_seconds=settings.feature_timeout_seconds,
        channels=(data_channel, fuzzy_channel),
    )

    async def close() -> None:
        await data_channel.close()
        await fuzzy_channel.close()

    return source, close


def open_registry(settings: NeuralSettings) -> ModelRegistry:
    """The model registry, sealed with the settings' keyring when encryption at rest is on.

    Raises
    ------
    StartupError
        A wrong or missing encryption key: never serve (or train into) a store it cannot read.
    """
    try:
        storage = EncryptedStorage.open(LocalStorage(settings.models_dir), settings.keyring())
    except FailedPreconditionError as exc:
        raise StartupError(f"neural: {exc.full_message}") from None
    return ModelRegistry(storage)


async def setup(server: aio.Server, settings: NeuralSettings) -> Cleanup:
    limit_blas_threads(1)
    device = choose_device(settings.device)
    log.info("neural_device", device=device, cuda_available=torch.cuda.is_available())
    registry = open_registry(settings)
    source, close_source = feature_source(settings)
    trainings = TrainingManager(
        registry=registry,
        work_dir=settings.home / "neural" / "jobs",
        device=device,
        max_concurrent=settings.max_concurrent_trainings,
        max_queued=settings.max_queued_trainings,
        threads=settings.torch_threads,
        code_version=code_version(),
    )
    if settings.prewarm_worker:
        await trainings.prewarm()
    servicer = NeuralServiceServicer(
        strategies_dir=settings.strategies,
        source=source,
        registry=registry,
        server=ModelServer(registry, cache_size=settings.model_cache_size),
        trainings=trainings,
    )
    neural_pb2_grpc.add_NeuralServiceServicer_to_server(servicer, server)

    async def cleanup() -> None:
        await trainings.close()
        await close_source()

    return cleanup


SPEC = ServiceSpec("neural", NeuralSettings, [DESCRIPTOR], setup)
