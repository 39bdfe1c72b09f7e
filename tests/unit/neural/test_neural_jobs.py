"""The training queue: bounded, one worker process per training, failures say why."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from neural_testutil import MemorySource, make_strategy

from ktrdr_core.errors import ResourceExhaustedError
from ktrdr_neural.domain.jobs import TrainingManager
from ktrdr_neural.domain.plan import TrainRequest, plan_training
from ktrdr_neural.domain.registry import LocalStorage, ModelRegistry

LONG = (
    "{labels: {source: forward_return, horizon_bars: 4, threshold: 0.001}, epochs: 5000, "
    "early_stopping: false}"
)


async def _job(training: str = LONG):
    strategy = make_strategy(training=training)
    source = MemorySource.synthetic(strategy, {"AAA": 1}, n=600)
    return await plan_training(source, strategy, TrainRequest())


@pytest.fixture
def registry(tmp_path) -> ModelRegistry:
    return ModelRegistry(LocalStorage(tmp_path / "models"))


async def test_queue_is_bounded_and_a_queued_training_waits_for_a_slot(tmp_path, registry):
    job = await _job()
    manager = TrainingManager(
        registry=registry,
        work_dir=tmp_path / "jobs",
        device="cpu",
        max_concurrent=1,
        max_queued=1,
    )
    try:
        first = await manager.submit(job)
        second = await manager.submit(job)
        with pytest.raises(ResourceExhaustedError) as info:
            await manager.submit(job)
        assert info.value.code == "NEURAL-009"
        async for status in manager.watch(first.training_id):
            if status.state == "running":
                break
        waiting = manager.get(second.training_id)
        assert (waiting.state, waiting.queue_position) == ("queued", 1)
        cancelled = await manager.cancel(second.training_id)
        assert cancelled.state == "cancelled" and "before it started" in cancelled.error
        stopped = await manager.cancel(first.training_id)
        assert stopped.state == "cancelled" and "no model was stored" in stopped.error
    finally:
        await manager.close()
    assert registry.list() == []
    assert not list((tmp_path / "jobs").iterdir())  # job directories are removed


async def test_a_failing_worker_leaves_no_version_and_says_why(tmp_path, registry):
    job = await _job("{labels: {source: forward_return, horizon_bars: 4}, epochs: 2}")
    data = job.dataset
    broken = dataclasses.replace(
        data, rows={**data.rows, "train": data.rows["train"] + np.int64(10**9)}
    )
    manager = TrainingManager(registry=registry, work_dir=tmp_path / "jobs", device="cpu")
    try:
        status = await manager.submit(dataclasses.replace(job, dataset=broken))
        final = [s async for s in manager.watch(status.training_id)][-1]
    finally:
        await manager.close()
    assert final.state == "failed"
    assert "IndexError" in final.error and "no model was stored" in final.error
    assert registry.list() == []
