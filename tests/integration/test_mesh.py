"""The real mesh processes: SERVING, grpcurl through reflection, clean stops and clear failures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ktrdr_cli import mesh

pytestmark = pytest.mark.integration

GRPCURL = str(Path(sys.executable).parent / "grpcurl")
SERVICE_NAMES = {
    "data": "ktrdr.data.v1.DataService",
    "indicators": "ktrdr.indicators.v1.IndicatorService",
    "fuzzy": "ktrdr.fuzzy.v1.FuzzyService",
    "neural": "ktrdr.neural.v1.NeuralService",
    "backtest": "ktrdr.backtest.v1.BacktestService",
    "ib_gateway": "ktrdr.ib_gateway.v1.IbGatewayService",
}


def grpcurl(*args: str) -> str:
    done = subprocess.run(
        [GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_service_reports_serving(mesh_layout):
    health = mesh.status(mesh_layout)
    for service in SERVICE_NAMES:
        assert health[service] == "SERVING"


@pytest.mark.parametrize("service", list(SERVICE_NAMES))
def test_grpcurl_lists_and_describes_each_service(mesh_layout, service):
    address = mesh_layout.address(service)
    listed = grpcurl(address, "list").split()
    assert SERVICE_NAMES[service] in listed
    assert "grpc.health.v1.Health" in listed
    described = grpcurl(address, "describe", SERVICE_NAMES[service])
    assert f"service {SERVICE_NAMES[service].rsplit('.', 1)[1]} {{" in described
    assert described.count("rpc ") >= 4
    checked = json.loads(grpcurl(address, "grpc.health.v1.Health/Check"))
    assert checked == {"status": "SERVING"}


def test_grpcurl_sees_a_domain_error_with_its_stable_code_and_suggestion(mesh_layout):
    done = subprocess.run(
        [
            GRPCURL,
            "-plaintext",
            "-d",
            '{"symbol": "EURUSE", "timeframe": "1h"}',
            mesh_layout.address("data"),
            "ktrdr.data.v1.DataService/GetDataInfo",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "NotFound" in done.stderr
    assert "DATA-004" in done.stderr and "EURUSD" in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "KTRDR_HOME": str(tmp_path),
        "KTRDR_NEURAL_PORT": str(_free_port()),
        "KTRDR_NEURAL_METRICS_PORT": str(_free_port()),
        **extra,
    }


def test_sigterm_stops_a_service_cleanly_within_its_grace_period(tmp_path):
    env = _service_env(tmp_path, KTRDR_GRACE_SECONDS="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ktrdr_neural"], env=env, stderr=subprocess.PIPE, text=True
    )
    address = f"127.0.0.1:{env['KTRDR_NEURAL_PORT']}"
    deadline = time.monotonic() + 30
    while mesh.check_health(address) != "SERVING":
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    metrics = mesh.check_http(f"http://127.0.0.1:{env['KTRDR_NEURAL_METRICS_PORT']}/metrics")
    assert metrics == "SERVING"
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert time.monotonic() - start < 5
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[-2:] == ["service_stopping", "service_stopped"]
    assert mesh.check_health(address) == "UNREACHABLE"


def test_invalid_settings_exit_with_code_2_and_a_message(tmp_path):
    env = _service_env(tmp_path, KTRDR_NEURAL_PORT="not-a-port")
    done = subprocess.run(
        [sys.executable, "-m", "ktrdr_neural"], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "KTRDR_NEURAL_PORT='not-a-port'" in done.stderr


def test_port_in_use_names_the_service_and_starts_nothing(tmp_path):
    layout = mesh.Layout(home=tmp_path, base_port=mesh.find_free_base_port())
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", layout.port("fuzzy")))
        blocker.listen()
        with pytest.raises(mesh.MeshError, match=rf"fuzzy: port {layout.port('fuzzy')}"):
            mesh.up(layout)
    assert not layout.state_file.exists()
    assert mesh.read_state(layout) == {}


def test_a_service_failing_at_startup_is_named_and_nothing_is_left_running(
    tmp_path, mesh_processes
):
    layout = mesh.Layout(home=tmp_path, base_port=mesh.find_free_base_port())
    env = {**os.environ, "KTRDR_GRACE_SECONDS": "-1"}  # rejected by every service's settings
    with pytest.raises(mesh.MeshError, match=r"exited with code 2 during start-up") as info:
        mesh.up(layout, base_env=env, timeout=60)
    assert "KTRDR_GRACE_SECONDS=-1.0 must be >= 0" in str(info.value)
    assert not layout.state_file.exists()
    assert mesh_processes(tmp_path) == set()


def test_bad_gateway_setting_is_a_clear_error_and_nothing_starts(tmp_path):
    layout = mesh.Layout(home=tmp_path, base_port=mesh.find_free_base_port())
    env = {**os.environ, "KTRDR_GATEWAY_RATE_LIMIT_PER_MINUTE": "lots"}
    with pytest.raises(mesh.MeshError, match="KTRDR_GATEWAY_RATE_LIMIT_PER_MINUTE='lots'"):
        mesh.up(layout, base_env=env)
    assert mesh.read_state(layout) == {}
