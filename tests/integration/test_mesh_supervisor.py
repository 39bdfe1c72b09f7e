"""The supervised mesh with real processes: kill -9 a service and it comes back (counted),
``ktrdr mesh restart``, services started by hand are visible and stopped, and after ``down``
(or a killed supervisor) nothing is left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ktrdr_cli import mesh

pytestmark = pytest.mark.integration

KTRDR = str(Path(sys.executable).parent / "ktrdr")


def ktrdr(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KTRDR_HOME": str(home)}
    env.pop("KTRDR_API_URL", None)
    return subprocess.run([KTRDR, *args], env=env, capture_output=True, text=True, timeout=300)


def status(home: Path) -> dict[str, dict[str, object]]:
    done = ktrdr(home, "mesh", "status", "--json")
    return {p["process"]: p for p in json.loads(done.stdout)["processes"]}


def wait_for(predicate, *, seconds: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.2)


@pytest.fixture
def running_mesh(tmp_path):
    """A mesh of its own, started through the CLI; the test stops it (or this does)."""
    home = tmp_path / "home"
    home.mkdir()
    base = mesh.find_free_base_port()
    up = ktrdr(home, "mesh", "up", "--base-port", str(base), "--timeout", "150")
    assert up.returncode == 0, up.stderr
    yield home
    if mesh.supervisor_pid(mesh.read_state(mesh.Layout(home=home))):
        ktrdr(home, "mesh", "down")


def test_a_killed_service_is_restarted_counted_and_down_leaves_nothing(
    running_mesh, mesh_processes
):
    home = running_mesh
    before = status(home)
    assert {p["health"] for p in before.values()} == {"SERVING"}
    victim = int(before["indicators"]["pid"])
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: (s := status(home)["indicators"])["health"] == "SERVING" and s["pid"] != victim,
        what="indicators back after kill -9",
    )
    after = status(home)
    assert after["indicators"]["restarts"] == 1
    assert after["indicators"]["last_exit"] == "killed by SIGKILL"
    assert all(after[p]["restarts"] == 0 for p in after if p != "indicators")
    # A request that needs the restarted service works again through the edge.
    rsi = ktrdr(home, "indicators", "info", "rsi", "--json")
    assert rsi.returncode == 0 and json.loads(rsi.stdout)["name"] == "rsi"

    restarted = ktrdr(home, "mesh", "restart", "fuzzy", "--json")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout)["pid"] != after["fuzzy"]["pid"]
    assert status(home)["fuzzy"]["restarts"] == 1

    supervisor = mesh.supervisor_pid(mesh.read_state(mesh.Layout(home=home)))
    assert supervisor in mesh_processes(home)
    down = ktrdr(home, "mesh", "down", "--json")
    assert down.returncode == 0, down.stderr
    assert set(json.loads(down.stdout).values()) == {"stopped"}
    assert mesh_processes(home) == set()
    assert ktrdr(home, "mesh", "status").returncode == 1


def test_killing_the_supervisor_takes_every_mesh_process_with_it(running_mesh, mesh_processes):
    home = running_mesh
    state = mesh.read_state(mesh.Layout(home=home))
    children = {int(info["pid"]) for info in state["services"].values()}
    assert children <= mesh_processes(home)
    os.kill(int(state["supervisor"]["pid"]), signal.SIGKILL)
    wait_for(lambda: mesh_processes(home) == set(), what="children gone with the supervisor")
    down = ktrdr(home, "mesh", "down")
    assert down.returncode == 0


def test_a_service_started_by_hand_is_shown_refused_by_up_and_stopped_by_down(tmp_path):
    home = tmp_path
    layout = mesh.Layout(home=home, base_port=mesh.find_free_base_port())
    env = {**os.environ, **mesh.service_env(layout)}
    by_hand = subprocess.Popen(
        [sys.executable, "-m", "ktrdr_neural"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: mesh.check_health(layout.address("neural")) == "SERVING",
            what="neural started by hand",
        )
        base = ["--base-port", str(layout.base_port)]
        shown = json.loads(ktrdr(home, "mesh", "status", "--json", *base).stdout)
        neural = next(p for p in shown["processes"] if p["process"] == "neural")
        assert neural["state"] == "started by hand" and neural["pid"] == by_hand.pid
        assert neural["health"] == "SERVING" and neural["supervised"] is False

        refused = ktrdr(home, "mesh", "up", *base)
        assert refused.returncode == 9
        assert f"in use by pid {by_hand.pid}" in refused.stderr
        assert "`ktrdr mesh down` stops it" in refused.stderr

        down = ktrdr(home, "mesh", "down", "--json", *base)
        assert json.loads(down.stdout) == {"neural": "stopped"}
        assert by_hand.wait(timeout=30) == 0
    finally:
        if by_hand.poll() is None:
            by_hand.kill()
            by_hand.wait()


def test_the_demo_uses_a_running_mesh_and_leaves_it_running(running_mesh, capsys):
    from ktrdr_cli.demo import DemoSettings, run_demo
    from ktrdr_cli.output import Output

    layout = mesh.resolve_layout(running_mesh)
    before = mesh.supervisor_pid(mesh.read_state(layout))
    code = run_demo(layout, out=Output(), settings=DemoSettings(epochs=2))
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    assert "Using the running KTRDR mesh" in lines[0]
    assert not any("Stopping the mesh" in line for line in lines)
    assert mesh.supervisor_pid(mesh.read_state(layout)) == before
