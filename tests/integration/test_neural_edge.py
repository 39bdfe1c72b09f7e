"""A model trained on the bundled EURUSD hours through the REST edge, served two ways, restarted.

The mesh's own Envoy and dev admin key: TrainModel streams its progress as NDJSON, the model
appears in the registry routes, predicts identically through REST (rows) and through the
StreamPredictions stream (native gRPC through the edge), and a restarted neural service loads
it from disk and predicts the same bits.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from ktrdr.common.v1 import common_pb2
from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_cli import mesh
from ktrdr_gateway import keys

pytestmark = pytest.mark.integration

STRATEGY = "rsi_trend_eurusd_1h"
RANGE = {"start_date": "2017-12-01", "end_date": "2017-12-06"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def edge(mesh_layout: mesh.Layout) -> Iterator[tuple[str, str]]:
    url = f"http://127.0.0.1:{mesh_layout.extra_port(0, 8080)}"
    key = keys.dev_key_path(mesh_layout.home).read_text().strip()
    yield url, key


@pytest.fixture(scope="module")
def trained(edge: tuple[str, str]) -> dict[str, Any]:
    url, key = edge
    body = {
        "strategy": STRATEGY,
        "startDate": "2017-05-01",
        "endDate": "2018-01-01",
        "config": {"epochs": 3, "batch_size": 128},
    }
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=600) as http:
        resp = http.post("/api/v1/models/train", json=body)
    assert resp.status_code == 200, resp.text
    updates = [json.loads(line)["training"] for line in resp.text.splitlines() if line.strip()]
    return {"updates": updates, "final": updates[-1]}


def test_training_streams_progress_through_the_edge(trained: dict[str, Any]) -> None:
    updates, final = trained["updates"], trained["final"]
    assert final["state"] == "TRAINING_STATE_SUCCEEDED", final
    assert updates[0]["state"] == "TRAINING_STATE_QUEUED"
    epochs = [u for u in updates if u.get("message", "").startswith("epoch")]
    assert [u["epoch"] for u in epochs] == [1, 2, 3]
    assert all(u["device"] == "cpu" and "valLoss" in u for u in epochs)
    assert [e["name"] for e in final["evaluations"]] == ["model", "majority", "logistic_regression"]
    assert final["modelName"].startswith(f"{STRATEGY}.EURUSD_1h_v")


def test_model_appears_in_the_registry_routes(
    edge: tuple[str, str], trained: dict[str, Any], mesh_layout: mesh.Layout
) -> None:
    url, key = edge
    name = trained["final"]["modelName"]
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=30) as http:
        listed = http.get("/api/v1/models/list", params={"strategy": STRATEGY}).json()
        assert name in [m["name"] for m in listed["models"]]
        model = http.get(f"/api/v1/models/{name}").json()["model"]
        missing = http.get(f"/api/v1/models/{STRATEGY}.EURUSD_1h_v999")
    assert model["features"][0] == "1h_rsi_14_oversold" and model["latest"]
    assert model["metadata"]["code_version"]["torch"].startswith("2.13.0")
    assert missing.status_code == 404
    assert missing.json()["details"][0]["code"] == "NEURAL-002"
    version_dir = mesh_layout.home / "models" / STRATEGY / name.split(".", 1)[1]
    assert sorted(p.name for p in version_dir.iterdir()) == ["model.json", "weights.safetensors"]


def _features(http: httpx.Client) -> tuple[list[str], list[str], list[list[float]]]:
    reply = http.post(
        "/api/v1/fuzzy/calculate", json={"symbol": "EURUSD", "strategy": STRATEGY, **_camel(RANGE)}
    ).json()
    names = [c["name"] for c in reply["columns"]]
    rows = [list(r) for r in zip(*(c["values"] for c in reply["columns"]), strict=True)]
    return reply["timestamps"], names, rows


def _camel(d: dict[str, str]) -> dict[str, str]:
    return {k.split("_")[0] + "".join(p.title() for p in k.split("_")[1:]): v for k, v in d.items()}


def _stream(target: str, model: str, names, stamps_us, rows, metadata=()) -> list[list[float]]:
    def requests():
        yield neural_pb2.StreamPredictionsRequest(
            config=neural_pb2.StreamPredictionsConfig(model=model)
        )
        for a in range(0, len(rows), 25):
            chunk = rows[a : a + 25]
            yield neural_pb2.StreamPredictionsRequest(
                features=neural_pb2.FeatureBatch(
                    timestamps_us=stamps_us[a : a + 25],
                    columns=[
                        common_pb2.ValueColumn(name=n, values=[r[j] for r in chunk])
                        for j, n in enumerate(names)
                    ],
                )
            )

    with grpc.insecure_channel(target) as channel:
        stub = neural_pb2_grpc.NeuralServiceStub(channel)
        out = []
        for reply in stub.StreamPredictions(requests(), timeout=60, metadata=metadata):
            out += [
                [b, h, s]
                for b, h, s in zip(
                    reply.buy_probabilities,
                    reply.hold_probabilities,
                    reply.sell_probabilities,
                    strict=True,
                )
            ]
    return out


def _us(stamp: str) -> int:
    from google.protobuf.timestamp_pb2 import Timestamp

    ts = Timestamp()
    ts.FromJsonString(stamp)
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def test_rest_and_stream_predict_identically_and_survive_a_restart(
    edge: tuple[str, str], trained: dict[str, Any], mesh_layout: mesh.Layout, tmp_path
) -> None:
    url, key = edge
    name = trained["final"]["modelName"]
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=60) as http:
        stamps, names, rows = _features(http)
        body = {
            "model": STRATEGY,
            "featureNames": names,
            "rows": [{"timestamp": t, "values": r} for t, r in zip(stamps, rows, strict=True)],
        }
        rest = http.post("/api/v1/models/predict", json=body).json()
        swapped = {**body, "featureNames": [names[1], names[0], *names[2:]]}
        bad = http.post("/api/v1/models/predict", json=swapped)
    assert rest["modelName"] == name
    rest_probs = [p["probabilities"] for p in rest["predictions"]]
    assert len(rest_probs) == len(rows) > 50
    assert bad.status_code == 400 and bad.json()["details"][0]["code"] == "NEURAL-004"
    stamps_us = [_us(s) for s in stamps]
    target = url.removeprefix("http://")
    streamed = _stream(target, STRATEGY, names, stamps_us, rows, [("x-api-key", key)])
    assert streamed == rest_probs

    # a neural service started afresh on the same KTRDR_HOME reloads the model from disk
    for _ in range(2):
        with _neural_process(mesh_layout) as address:
            again = _stream(address, name, names, stamps_us, rows)
        assert again == rest_probs


@contextlib.contextmanager
def _neural_process(layout: mesh.Layout) -> Iterator[str]:
    port, metrics = _free_port(), _free_port()
    env = {
        **os.environ,
        **mesh.service_env(layout),
        "KTRDR_NEURAL_PORT": str(port),
        "KTRDR_NEURAL_METRICS_PORT": str(metrics),
        "KTRDR_NEURAL_PREWARM_WORKER": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ktrdr_neural"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while mesh.check_health(address) != "SERVING":
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        yield address
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_training_routes_and_delete_through_the_edge(
    edge: tuple[str, str], trained: dict[str, Any]
) -> None:
    url, key = edge
    final = trained["final"]
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=30) as http:
        got = http.get(f"/api/v1/trainings/{final['trainingId']}").json()["training"]
        late = http.post(f"/api/v1/trainings/{final['trainingId']}:cancel", json={})
        unpinned = http.delete(f"/api/v1/models/{STRATEGY}")
        deleted = http.delete(f"/api/v1/models/{final['modelName']}")
        gone = http.get(f"/api/v1/models/{final['modelName']}")
    assert got["state"] == "TRAINING_STATE_SUCCEEDED" and got["modelName"] == final["modelName"]
    assert late.status_code == 400 and late.json()["details"][0]["code"] == "NEURAL-008"
    assert "already ended (succeeded)" in late.json()["message"]
    assert unpinned.status_code == 400 and final["modelName"] in unpinned.json()["message"]
    assert deleted.status_code == 200 and deleted.json()["name"] == final["modelName"]
    assert gone.status_code == 404
