"""The mesh supervisor on small real processes: restarts with backoff, restart on request, stop."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from ktrdr_cli import mesh
from ktrdr_cli.supervisor import Backoff, Supervisor, describe_exit


def _spec(name: str, code: str, home: Path) -> mesh.ProcessSpec:
    return mesh.ProcessSpec(
        name=name,
        argv=[sys.executable, "-c", code],
        env={**os.environ, "KTRDR_HOME": str(home)},
        ports=[],
    )


SLEEPER = "import time; time.sleep(60)"
CRASHER = "import time, sys; time.sleep(0.3); sys.exit(3)"


def _until(predicate, supervisor: Supervisor, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the supervisor did not get there"
        supervisor.tick()
        time.sleep(0.02)


def test_backoff_doubles_from_its_initial_delay_up_to_its_cap():
    backoff = Backoff(initial=0.5, factor=2, maximum=30)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 7, 20)] == [0.5, 1, 2, 4, 30, 30]


@pytest.mark.parametrize(
    "kwargs", [{"initial": 0}, {"initial": 5, "maximum": 1}, {"factor": 0.5}, {"stable_after": 0}]
)
def test_backoff_rejects_settings_that_make_no_sense(kwargs):
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_supervisor_needs_processes_and_sane_timeouts(tmp_path):
    layout = mesh.Layout(home=tmp_path)
    with pytest.raises(ValueError, match="at least one"):
        Supervisor(layout, [])
    with pytest.raises(ValueError, match="start_timeout"):
        Supervisor(layout, [_spec("a", SLEEPER, tmp_path)], start_timeout=0)


def test_exit_descriptions_name_the_signal():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(3) == "exit 3"


def test_a_crashing_process_is_restarted_with_growing_backoff_and_counted(tmp_path):
    layout = mesh.Layout(home=tmp_path)
    backoff = Backoff(initial=0.05, factor=2, maximum=0.2, stable_after=60)
    sup = Supervisor(
        layout,
        [_spec("crasher", CRASHER, tmp_path), _spec("steady", SLEEPER, tmp_path)],
        backoff=backoff,
    )
    try:
        assert sup.start_all()
        crasher = sup.children["crasher"]
        _until(lambda: crasher.restarts >= 3, sup)
        assert crasher.last_exit == "exit 3"
        assert crasher.crashes >= 3  # never stable for 60 s: the delay kept growing
        recorded = mesh.read_state(layout)["services"]
        assert recorded["crasher"]["restarts"] >= 3
        assert recorded["steady"]["restarts"] == 0
        assert sup.children["steady"].proc.poll() is None
    finally:
        outcome = sup.stop_all()
    assert outcome["steady"] == "stopped"


def test_a_requested_restart_stops_and_starts_at_once_without_counting_a_crash(tmp_path):
    layout = mesh.Layout(home=tmp_path)
    sup = Supervisor(layout, [_spec("svc", SLEEPER, tmp_path)])
    try:
        assert sup.start_all()
        child = sup.children["svc"]
        old_pid = child.proc.pid
        assert sup.handle({"op": "restart", "service": "svc"}) == {"ok": True, "pid": old_pid}
        _until(lambda: child.proc is not None and child.proc.pid != old_pid, sup)
        assert child.restarts == 1 and child.crashes == 0 and child.last_exit == ""
        assert not mesh.pid_alive(old_pid)
        assert "error" in sup.handle({"op": "restart", "service": "nope"})
        assert "error" in sup.handle({"op": "launch"})
    finally:
        sup.stop_all()


def test_a_process_failing_during_start_up_fails_the_start_with_its_log(tmp_path):
    layout = mesh.Layout(home=tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    failing = dataclasses.replace(
        _spec("bad", "import sys; print('bad settings: X'); sys.exit(2)", tmp_path),
        ready_url=f"http://127.0.0.1:{closed}/ready",  # never ready: only its exit can end it
    )
    sup = Supervisor(layout, [failing, _spec("ok", SLEEPER, tmp_path)], start_timeout=60)
    try:
        assert not sup.start_all()
    finally:
        outcome = sup.stop_all()
    assert "bad exited with code 2 during start-up" in sup.error
    assert "bad settings: X" in sup.error
    assert outcome["ok"] == "stopped"


def test_children_get_the_supervisor_as_parent_and_die_with_it(tmp_path):
    import subprocess

    # A stand-in supervisor that starts one child through ktrdr_cli.child, then is killed.
    code = (
        "import os, subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-m', 'ktrdr_cli.child', str(os.getpid()), '--',"
        f" sys.executable, '-c', {SLEEPER!r}])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while mesh.pid_alive(child_pid) and "python" in mesh.process_command(child_pid):
        assert time.monotonic() < deadline, "the child outlived its supervisor"
        time.sleep(0.05)
