"""``python -m ktrdr_neural.train``: the one-shot training a Kubernetes Job runs on a GPU node.

Against real data, indicator and fuzzy services (in-process) and the bundled EURUSD bars: the
training is published to the registry under KTRDR_HOME/models, where a neural service started
on the same home serves it; bad input exits 2 before any work, an unreachable service exits 1
(a retry may succeed).
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from google.protobuf import json_format
from neural_testutil import STRATEGIES, feature_services

from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_neural import train
from ktrdr_neural.app import SPEC as NEURAL
from ktrdr_neural.settings import NeuralSettings
from ktrdr_runtime.testing import serve_in_process

REQUEST = {
    "strategy": "rsi_trend_eurusd_1h",
    "symbols": ["EURUSD"],
    "startDate": "2017-06-01",
    "endDate": "2018-01-01",
    "config": {"epochs": 2, "batch_size": 128},
}


@contextlib.asynccontextmanager
async def addresses(home: Path) -> AsyncIterator[dict[str, str]]:
    """The real feature services; yields the neural settings that reach them."""
    async with feature_services(home) as (data, fuzzy, _):
        yield {"KTRDR_DATA_ADDRESS": data.address, "KTRDR_FUZZY_ADDRESS": fuzzy.address}


def settings(home: Path, **environ: str) -> NeuralSettings:
    env = {"KTRDR_HOME": str(home), "KTRDR_STRATEGIES_DIR": str(STRATEGIES)}
    return NeuralSettings.from_env({**env, "KTRDR_NEURAL_DEVICE": "cpu", **environ})


def request(**changes: object) -> neural_pb2.TrainModelRequest:
    return json_format.ParseDict({**REQUEST, **changes}, neural_pb2.TrainModelRequest())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_training_job_publishes_a_model_the_service_then_serves(tmp_path, capsys):
    async with addresses(tmp_path) as reach:
        code = await train._run(request(), settings(tmp_path, **reach))
        out = capsys.readouterr().out.splitlines()  # (unconfigured logs come here too)
        progress = [json.loads(line) for line in out if line.startswith("{")]
        async with serve_in_process(
            NEURAL, home=tmp_path, strategies_dir=STRATEGIES, prewarm_worker=False
        ) as (_, channel):
            listed = await neural_pb2_grpc.NeuralServiceStub(channel).ListModels(
                neural_pb2.ListModelsRequest(strategy="rsi_trend_eurusd_1h")
            )
    assert code == 0
    assert progress[0]["state"] in {"TRAINING_STATE_QUEUED", "TRAINING_STATE_RUNNING"}
    assert progress[-1]["state"] == "TRAINING_STATE_SUCCEEDED"
    assert max(p.get("epoch", 0) for p in progress) == 2
    assert [m.name for m in listed.models] == [progress[-1]["modelName"]]


@pytest.mark.parametrize(
    "content",
    ['{"strategy": "x", "epochs": 3}', "not json", '{"strategy": 7}'],
    ids=["unknown field", "not json", "wrong type"],
)
def test_a_bad_request_file_exits_2(tmp_path, content, monkeypatch):
    path = tmp_path / "request.json"
    path.write_text(content)
    monkeypatch.setenv("KTRDR_HOME", str(tmp_path))
    assert train.main(["--request", str(path)]) == 2
    assert train.main(["--request", str(tmp_path / "missing.json")]) == 2


async def test_an_unknown_strategy_exits_2_and_an_unreachable_service_exits_1(tmp_path):
    down = f"127.0.0.1:{closed_port()}"
    env = {"KTRDR_DATA_ADDRESS": down, "KTRDR_FUZZY_ADDRESS": down}
    assert await train._run(request(strategy="rsi_trend_eurusd"), settings(tmp_path, **env)) == 2
    assert await train._run(request(), settings(tmp_path, **env)) == 1
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("*.json"))
