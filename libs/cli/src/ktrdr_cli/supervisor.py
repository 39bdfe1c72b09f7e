"""The mesh supervisor: one process that owns every process of the local mesh.

``ktrdr mesh up`` starts it detached (``python -m ktrdr_cli.supervisor``). It starts the
services and the edge as its children, waits until each reports SERVING (any failure then
stops everything and ends the supervisor with the error in the state file), and from then on:

- a child that exits unexpectedly is restarted after a backoff (0.5 s, doubling up to 30 s;
  the doubling starts again once a child has stayed up for 30 s); every restart is counted;
- ``ktrdr mesh restart SERVICE`` asks it, over a Unix socket (owner-only), to stop the child
  gracefully and start it again at once;
- SIGTERM or SIGINT stops every child (SIGTERM, then SIGKILL after the grace period), records
  how each ended in ``run/mesh-stopped.json`` and removes the state file.

It is the only writer of ``$KTRDR_HOME/run/mesh.json`` (written atomically on every change),
which the CLI reads for ``status``, ``down``, ``restart`` and the edge's address. Children are
started through :mod:`ktrdr_cli.child`, which makes the kernel stop them if the supervisor
itself is killed, so no process outlives it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import selectors
import signal
import socket
import subprocess  # nosec B404 # starts the mesh's processes (fixed argv, no shell)
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from ktrdr_cli import mesh

log = structlog.get_logger("ktrdr_cli.supervisor")
TICK_SECONDS = 0.2


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Delay before restarting a crashed child: ``initial * factor**(n-1)``, capped.

    ``n`` counts the crashes since the child last stayed up ``stable_after`` seconds.
    """

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    stable_after: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError(f"initial={self.initial} must be > 0 and <= maximum={self.maximum}")
        if self.factor < 1:
            raise ValueError(f"factor={self.factor} must be >= 1")
        if self.stable_after <= 0:
            raise ValueError(f"stable_after={self.stable_after} must be > 0")

    def delay(self, crashes: int) -> float:
        """Seconds to wait before the restart that follows the ``crashes``-th crash."""
        return min(self.initial * self.factor ** max(crashes - 1, 0), self.maximum)


@dataclasses.dataclass
class Child:
    """One supervised process and what happened to it."""

    spec: mesh.ProcessSpec
    proc: subprocess.Popen[bytes] | None = None
    state: str = "starting"  # starting | serving | backoff | stopping | stopped
    restarts: int = 0
    crashes: int = 0
    last_exit: str = ""
    started_at: float = 0.0
    serving_since: float = 0.0
    next_start: float = 0.0
    restart_requested: bool = False

    def record(self) -> dict[str, Any]:
        return {
            "pid": self.proc.pid if self.proc else None,
            "state": self.state,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "started_at": self.started_at,
            "listen": self.spec.listen,
            "log": str(self.log_path),
            "grpc_address": self.spec.grpc_address,
            "ready_url": self.spec.ready_url,
            "ports": list(self.spec.ports),
        }

    @property
    def log_path(self) -> Path:
        return Path(self.spec.env["KTRDR_HOME"]) / "logs" / f"{self.spec.name}.log"


def describe_exit(returncode: int) -> str:
    """``exit 3`` or ``killed by SIGKILL``."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


class Supervisor:
    """Starts, watches, restarts and stops the mesh's processes (see the module docstring)."""

    def __init__(
        self,
        layout: mesh.Layout,
        specs: Sequence[mesh.ProcessSpec],
        *,
        start_timeout: float = 90.0,
        grace: float = 15.0,
        backoff: Backoff | None = None,
    ) -> None:
        if not specs:
            raise ValueError("a supervisor needs at least one process to supervise")
        if start_timeout <= 0 or grace < 0:
            raise ValueError(f"start_timeout={start_timeout} must be > 0 and grace={grace} >= 0")
        self.layout = layout
        self.children = {spec.name: Child(spec) for spec in specs}
        self.start_timeout = start_timeout
        self.grace = grace
        self.backoff = backoff or Backoff()
        self.phase = "starting"
        self.error = ""
        self._stop = False
        self._selector = selectors.DefaultSelector()
        self._server: socket.socket | None = None

    # --- the state file ----------------------------------------------------------------
    def write_state(self) -> None:
        edge = self.children.get("gateway")
        state = {
            "supervisor": {"pid": os.getpid(), "socket": str(mesh.control_socket(self.layout))},
            "phase": self.phase,
            "error": self.error,
            "layout": {
                "home": str(self.layout.home),
                "base_port": self.layout.base_port,
                "host": self.layout.host,
            },
            "edge_url": edge.spec.listen if edge else "",
            "services": {name: child.record() for name, child in self.children.items()},
        }
        mesh.write_json_atomic(self.layout.state_file, state)

    # --- processes ---------------------------------------------------------------------
    def _spawn(self, child: Child) -> None:
        self.layout.log_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "ktrdr_cli.child", str(os.getpid()), "--", *child.spec.argv]
        with open(child.log_path, "ab") as log_file:
            child.proc = subprocess.Popen(  # nosec B603 # argv from the mesh's own specs
                argv,
                env=dict(child.spec.env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=str(self.layout.home),
            )
        child.state = "starting"
        child.started_at = time.time()
        child.serving_since = 0.0
        child.restart_requested = False
        log.info("process_started", process=child.spec.name, pid=child.proc.pid)

    def _probe(self, child: Child) -> None:
        if child.state == "starting" and mesh.probe(child.spec, timeout=0.5) == "SERVING":
            child.state = "serving"
            child.serving_since = time.monotonic()
            log.info("process_serving", process=child.spec.name, pid=child.proc and child.proc.pid)
            self.write_state()
        if (
            child.state == "serving"
            and child.crashes
            and time.monotonic() - child.serving_since >= self.backoff.stable_after
        ):
            child.crashes = 0

    def start_all(self) -> bool:
        """Start every process and wait until each is SERVING; False (and ``error``) if not."""
        for child in self.children.values():
            self._spawn(child)
        self.write_state()
        deadline = time.monotonic() + self.start_timeout
        while any(c.state != "serving" for c in self.children.values()):
            for child in self.children.values():
                assert child.proc is not None
                code = child.proc.poll()
                if code is not None:
                    self.error = (
                        f"{child.spec.name} exited with code {code} during start-up. End of "
                        f"{child.log_path}:\n{mesh.tail(child.log_path)}"
                    )
                    return False
                self._probe(child)
            if self._stop:
                self.error = "interrupted during start-up"
                return False
            if time.monotonic() > deadline:
                late = ", ".join(n for n, c in self.children.items() if c.state != "serving")
                self.error = (
                    f"{late} did not report SERVING within {self.start_timeout:.0f} s; "
                    f"see {self.layout.log_dir}."
                )
                return False
            time.sleep(0.1)
        return True

    def _reap(self, child: Child) -> None:
        """Notice a child that has exited and schedule its restart."""
        assert child.proc is not None
        code = child.proc.poll()
        if code is None:
            if child.restart_requested and time.monotonic() > child.next_start:
                child.proc.kill()  # did not stop within the grace period
            return
        if child.restart_requested:
            log.info("process_restart_requested", process=child.spec.name, exit=code)
            child.restarts += 1
            self._spawn(child)
            self.write_state()
            return
        child.crashes += 1
        child.last_exit = describe_exit(code)
        delay = self.backoff.delay(child.crashes)
        child.state = "backoff"
        child.next_start = time.monotonic() + delay
        log.warning(
            "process_exited",
            process=child.spec.name,
            pid=child.proc.pid,
            exit=child.last_exit,
            restart_in_seconds=delay,
            consecutive_crashes=child.crashes,
        )
        child.proc = None
        self.write_state()

    def tick(self) -> None:
        """One round of supervision: reap, restart what is due, probe what is starting."""
        for child in self.children.values():
            if child.state == "backoff":
                if time.monotonic() >= child.next_start:
                    child.restarts += 1
                    self._spawn(child)
                    self.write_state()
                continue
            self._reap(child)
            if child.proc is not None:
                self._probe(child)

    def request_restart(self, name: str) -> dict[str, Any]:
        """Stop ``name`` gracefully; the next tick starts it again (no backoff)."""
        child = self.children.get(name)
        if child is None:
            return {"error": f"no process named {name!r} in this mesh ({', '.join(self.children)})"}
        if child.state == "backoff":
            child.next_start = 0.0
            child.crashes = 0
            return {"ok": True, "pid": None}
        assert child.proc is not None
        child.restart_requested = True
        child.next_start = time.monotonic() + self.grace  # SIGKILL after this
        child.crashes = 0
        child.state = "stopping"
        child.proc.send_signal(signal.SIGTERM)
        self.write_state()
        return {"ok": True, "pid": child.proc.pid}

    def stop_all(self) -> dict[str, str]:
        """SIGTERM every child, wait up to the grace period, SIGKILL the rest."""
        self.phase = "stopping"
        running = {n: c for n, c in self.children.items() if c.proc and c.proc.poll() is None}
        outcome = {n: "stopped" for n in self.children if n not in running}
        for child in running.values():
            assert child.proc is not None
            child.state = "stopping"
            child.proc.send_signal(signal.SIGTERM)
        self.write_state()
        deadline = time.monotonic() + self.grace
        for name, child in running.items():
            assert child.proc is not None
            try:
                code = child.proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
                clean = code in (0, -signal.SIGTERM)
                outcome[name] = "stopped" if clean else describe_exit(code)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
                outcome[name] = "killed after grace period"
            child.state = "stopped"
        return outcome

    # --- control socket ----------------------------------------------------------------
    def open_control(self) -> None:
        path = mesh.control_socket(self.layout)
        path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            server.bind(str(path))
        finally:
            os.umask(old)
        server.listen(8)
        server.setblocking(False)
        self._selector.register(server, selectors.EVENT_READ)
        self._server = server

    def serve_control(self, timeout: float) -> None:
        """Answer control requests for up to ``timeout`` seconds (the supervision tick)."""
        for _key, _ in self._selector.select(timeout):
            assert self._server is not None
            try:
                conn, _addr = self._server.accept()
            except BlockingIOError:
                continue
            with conn:
                conn.settimeout(2.0)
                try:
                    request = json.loads(conn.makefile("r").readline() or "{}")
                    reply = self.handle(request)
                except (OSError, ValueError) as exc:
                    reply = {"error": f"bad control request: {exc}"}
                with contextlib.suppress(OSError):
                    conn.sendall((json.dumps(reply) + "\n").encode())

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "phase": self.phase}
        if op == "restart":
            return self.request_restart(str(request.get("service", "")))
        return {"error": f"unknown operation {op!r} (known: ping, restart)"}

    def close_control(self) -> None:
        if self._server is not None:
            self._selector.unregister(self._server)
            self._server.close()
            mesh.control_socket(self.layout).unlink(missing_ok=True)

    # --- the whole life ------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: object) -> None:
        log.info("supervisor_stopping", signal=signal.Signals(signum).name)
        self._stop = True

    def run(self) -> int:
        """Start, supervise until SIGTERM/SIGINT, stop. 0 after a clean life, 1 on failure."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.layout.run_dir.mkdir(parents=True, exist_ok=True)
        self.open_control()
        try:
            if self.start_all():
                self.phase = "running"
                self.write_state()
                log.info("mesh_running", processes=list(self.children))
                while not self._stop:
                    self.serve_control(TICK_SECONDS)
                    self.tick()
        finally:
            outcome = self.stop_all()
            self.close_control()
            mesh.write_json_atomic(
                self.layout.stopped_file, {"outcome": outcome, "error": self.error}
            )
            self.layout.state_file.unlink(missing_ok=True)
            log.info("mesh_stopped", outcome=outcome, error=self.error or None)
        return 1 if self.error else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ktrdr_cli.supervisor")
    parser.add_argument("--home", required=True, help="KTRDR_HOME of the mesh")
    parser.add_argument("--base-port", type=int, default=0, help="port block (0: defaults)")
    parser.add_argument("--timeout", type=float, default=90.0, help="start-up timeout, seconds")
    parser.add_argument("--grace", type=float, default=15.0, help="stop grace period, seconds")
    parser.add_argument("--fake-tws", action="store_true", help="also run the fake TWS")
    args = parser.parse_args(argv)
    from ktrdr_runtime.logging import configure_logging

    configure_logging("supervisor")
    layout = mesh.Layout(home=Path(args.home), base_port=args.base_port)
    try:
        specs = mesh.process_specs(layout, fake_tws=args.fake_tws)
    except mesh.MeshError as exc:
        mesh.write_json_atomic(layout.stopped_file, {"outcome": {}, "error": str(exc)})
        return 2
    supervisor = Supervisor(layout, specs, start_timeout=args.timeout, grace=args.grace)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
