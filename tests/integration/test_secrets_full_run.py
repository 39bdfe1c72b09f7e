"""A full local run with every secret configured, over HTTPS, and encryption at rest on.

Secrets with known values (the encryption key, the database URL with its password, the IB
account, an API key, the mesh's dev key) are given as files (``*_FILE``) to ``ktrdr mesh up``.
The run: the main job (``ktrdr demo`` on the running mesh), a small model trained, listed and
used to predict through the HTTPS edge, backtests listed, the IB status read (fake TWS). Then:

- no process of the mesh has a secret in its command line;
- the model registry and the key store on disk are sealed, and a flipped byte in the trained
  model's weights answers DATA_LOSS naming the file while the rest keeps serving;
- no log file (nor the CLI's output) holds any secret, in any obvious encoding;
- a wrong encryption key: ``mesh up`` refuses naming the key store, the neural service alone
  refuses naming the model registry, and neither store is changed.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import ssl
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ktrdr_cli import mesh
from ktrdr_core import sealed
from ktrdr_core.sealed import EncryptionKey
from ktrdr_gateway import keys
from ktrdr_gateway.tls import LocalCA

from .conftest import processes_of

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

KTRDR = str(Path(sys.executable).parent / "ktrdr")
STRATEGY = "rsi_trend_eurusd_1h"


def _postgres() -> Iterator[object]:
    sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "backtest"))
    from pg_server import PostgresServer, require_bin_dir

    server = PostgresServer(require_bin_dir())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postgres() -> Iterator[object]:
    yield from _postgres()


def _secret_file(directory: Path, name: str, value: str) -> Path:
    path = directory / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def _encodings(value: str) -> set[str]:
    raw = value.encode()
    forms = {
        value,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        urllib.parse.quote(value, safe=""),
    }
    return {f for f in forms if len(f) >= 6}


class Run:
    """The secrets, the environment and the mesh of the run."""

    def __init__(self, root: Path, postgres: object) -> None:
        self.home = root / "home"
        self.secrets_dir = root / "secrets"
        self.secrets_dir.mkdir(mode=0o700)
        self.key = EncryptionKey.generate()
        self.db_password = "pg-" + secrets.token_urlsafe(18)
        port = postgres.port  # type: ignore[attr-defined]
        self.db_url = f"postgresql+psycopg://postgres:{self.db_password}@127.0.0.1:{port}/postgres"
        self.ib_account = "DU" + "".join(secrets.choice("0123456789") for _ in range(9))
        ca = LocalCA("full-run CA")
        certs = root / "certs"
        certs.mkdir()
        ca.issue().write(certs / "tls.crt", certs / "tls.key")
        (certs / "ca.pem").write_bytes(ca.cert_pem)
        self.ca = certs / "ca.pem"
        store = keys.open_store(self.home, sealed.Keyring(self.key), runtime_dir=root / "shm")
        self.api_key, _ = store.create("admin", "full-run")
        self.layout = mesh.Layout(home=self.home, base_port=mesh.find_free_base_port())
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KTRDR_")},
            "KTRDR_HOME": str(self.home),
            "KTRDR_ENCRYPTION_KEY_FILE": str(
                _secret_file(self.secrets_dir, "encryption.key", self.key.to_text())
            ),
            "KTRDR_DATABASE_URL_FILE": str(_secret_file(self.secrets_dir, "db.url", self.db_url)),
            "KTRDR_IB_GATEWAY_IB_ACCOUNT_FILE": str(
                _secret_file(self.secrets_dir, "ib.account", self.ib_account)
            ),
            "KTRDR_API_KEY_FILE": str(_secret_file(self.secrets_dir, "api.key", self.api_key)),
            "KTRDR_GATEWAY_TLS_CERT": str(certs / "tls.crt"),
            "KTRDR_GATEWAY_TLS_KEY": str(certs / "tls.key"),
            "KTRDR_GATEWAY_RUNTIME_DIR": str(root / "shm"),
            "SSL_CERT_FILE": str(self.ca),
        }
        self.outputs: list[str] = []

    def ktrdr(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [KTRDR, "--base-port", str(self.layout.base_port), *args],
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.outputs += [done.stdout, done.stderr]
        return done

    def secret_values(self) -> dict[str, str]:
        dev_key = keys.read_dev_key(self.home, sealed.Keyring(self.key)) or ""
        return {
            "encryption key": self.key.to_text(),
            "encryption key (hex)": self.key.material.hex(),
            "database URL": self.db_url,
            "database password": self.db_password,
            "IB account": self.ib_account,
            "API key": self.api_key,
            "dev admin key": dev_key,
        }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, postgres: object) -> Iterator[Run]:
    r = Run(tmp_path_factory.mktemp("full-run"), postgres)
    up = r.ktrdr("mesh", "up", "--fake-tws", "--timeout", "180")
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield r
    finally:
        r.ktrdr("mesh", "down")


def _http(run: Run) -> httpx.Client:
    url = mesh.edge_url(run.layout)
    assert url.startswith("https://")
    trust = ssl.create_default_context(cafile=str(run.ca))
    return httpx.Client(base_url=url, headers={"x-api-key": run.api_key}, timeout=600, verify=trust)


@pytest.fixture(scope="module")
def flow(run: Run) -> dict[str, object]:
    """The main job and the model/backtest/IB calls; returns what the checks need."""
    demo = run.ktrdr("demo")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "== 7. HTML report" in demo.stdout and "Done in " in demo.stdout
    info = run.ktrdr("data", "info", "--json")
    assert info.returncode == 0, info.stderr
    with _http(run) as http:
        body = {
            "strategy": STRATEGY,
            "startDate": "2017-09-01",
            "endDate": "2018-01-01",
            "config": {"epochs": 2, "batch_size": 128},
        }
        trained = http.post("/api/v1/models/train", json=body)
        assert trained.status_code == 200, trained.text
        final = json.loads(trained.text.strip().splitlines()[-1])["training"]
        assert final["state"] == "TRAINING_STATE_SUCCEEDED", final
        fuzzy = http.post(
            "/api/v1/fuzzy/calculate",
            json={
                "symbol": "EURUSD",
                "strategy": STRATEGY,
                "startDate": "2017-12-01",
                "endDate": "2017-12-04",
            },
        ).json()
        names = [c["name"] for c in fuzzy["columns"]]
        rows = [list(r) for r in zip(*(c["values"] for c in fuzzy["columns"]), strict=True)]
        predict = {
            "model": STRATEGY,
            "featureNames": names,
            "rows": [
                {"timestamp": t, "values": r}
                for t, r in zip(fuzzy["timestamps"], rows, strict=True)
            ],
        }
        predicted = http.post("/api/v1/models/predict", json=predict)
        assert predicted.status_code == 200, predicted.text
        listed = http.get("/api/v1/models/list").json()
        assert final["modelName"] in [m["name"] for m in listed["models"]]
        backtests = http.get("/api/v1/backtests")
        assert backtests.status_code == 200, backtests.text
        ib = http.get("/api/v1/ib/status")
        assert ib.status_code == 200, ib.text
    return {"model": final["modelName"], "predict": predict}


def test_no_process_of_the_mesh_has_a_secret_in_its_command_line(
    run: Run, flow: dict[str, object]
) -> None:
    pids = processes_of(run.home)
    assert len(pids) >= 8  # supervisor, six services, Envoy, the fake TWS
    values = run.secret_values()
    for pid in pids:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for what, value in values.items():
            for form in _encodings(value):
                assert form not in command, f"{what} in the argv of pid {pid}"


def test_the_stores_on_disk_are_sealed(run: Run, flow: dict[str, object]) -> None:
    files = [p for p in (run.home / "models").rglob("*") if p.is_file()]
    sealed_files = [p for p in files if p.parent.name.startswith("EURUSD")]
    assert {p.name for p in sealed_files} == {"model.json", "weights.safetensors"}
    for path in sealed_files:
        assert sealed.key_id_of(path.read_bytes()) == run.key.key_id
    assert sealed.is_sealed(keys.store_path(run.home).read_bytes())
    assert not keys.dev_key_path(run.home).exists()
    assert sealed.is_sealed(keys.sealed_dev_key_path(run.home).read_bytes())
    status = run.ktrdr("security", "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    assert all(row["state"] != "plain" for row in json.loads(status.stdout))


def test_a_tampered_model_is_data_loss_naming_the_file_and_the_rest_serves(
    run: Run, flow: dict[str, object]
) -> None:
    strategy, version = str(flow["model"]).split(".", 1)
    weights = run.home / "models" / strategy / version / "weights.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-100] ^= 0x01
    weights.write_bytes(bytes(blob))
    restarted = run.ktrdr("mesh", "restart", "neural")  # drops the model cache
    assert restarted.returncode == 0, restarted.stderr
    with _http(run) as http:
        broken = http.post("/api/v1/models/predict", json=flow["predict"])
        symbols = http.get("/api/v1/data/symbols")
    assert broken.status_code == 500, broken.text
    detail = broken.json()["details"][0]
    assert detail["code"] == "COMMON-007"
    assert f"{version}/weights.safetensors" in broken.json()["message"]
    assert symbols.status_code == 200


def test_no_log_holds_a_secret_in_any_encoding(run: Run, flow: dict[str, object]) -> None:
    logs = sorted((run.home / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {*mesh.SERVICES, "gateway", "supervisor"}
    texts = {str(p): p.read_text(errors="replace") for p in logs}
    texts["cli output"] = "\n".join(run.outputs)
    assert any("http_request" in t for t in texts.values())  # the edge's access log is there
    for what, value in run.secret_values().items():
        assert value, what
        for form in _encodings(value):
            for where, text in texts.items():
                assert form not in text, f"{what} found in {where}"


def test_a_wrong_encryption_key_refuses_to_start_and_changes_nothing(
    run: Run, flow: dict[str, object]
) -> None:
    down = run.ktrdr("mesh", "down")
    assert down.returncode == 0, down.stderr
    before = {
        p: p.read_bytes() for p in run.home.rglob("*") if p.is_file() and "logs" not in p.parts
    }
    wrong = _secret_file(run.secrets_dir, "wrong.key", EncryptionKey.generate().to_text())
    env = {**run.env, "KTRDR_ENCRYPTION_KEY_FILE": str(wrong)}
    refused = run.ktrdr("mesh", "up", "--timeout", "60", env=env)
    assert refused.returncode == 9
    assert "API key store" in refused.stderr and "not configured" in refused.stderr
    assert str(keys.store_path(run.home)) in refused.stderr
    neural = subprocess.run(
        [sys.executable, "-m", "ktrdr_neural"],
        env={**env, "KTRDR_NEURAL_PORT": "0", "KTRDR_NEURAL_METRICS_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert neural.returncode == 3, neural.stderr[-2000:]
    assert "model registry" in neural.stderr and "not configured" in neural.stderr
    for path, data in before.items():
        if path.exists() and "run" not in path.relative_to(run.home).parts:
            assert path.read_bytes() == data, f"{path} was changed"
