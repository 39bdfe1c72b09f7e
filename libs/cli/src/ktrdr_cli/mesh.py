"""The local mesh: every service (and the edge gateway) as local processes on 127.0.0.1.

``up`` checks every port first, starts the processes detached (logs under
``$KTRDR_HOME/logs``), waits until each reports SERVING, and records them in
``$KTRDR_HOME/run/mesh.json``; if any fails, it names it, shows the end of its log and stops
the others, so nothing is left running. ``down`` sends SIGTERM and waits for a clean exit
(SIGKILL only after the grace period). ``status`` asks each process's health.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ktrdr_runtime.settings import DEFAULT_PORTS

SERVICES: tuple[str, ...] = tuple(DEFAULT_PORTS)
REPO_ROOT = Path(__file__).resolve().parents[4]


class MeshError(Exception):
    """The mesh could not be started or stopped; the message names the process."""


@dataclasses.dataclass(frozen=True)
class ProcessSpec:
    """One process of the mesh and how to tell it is ready."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    ports: Sequence[int]
    # gRPC address answering the standard health service, or an HTTP URL answering 200.
    grpc_address: str | None = None
    ready_url: str | None = None
    # Address users connect to (shown by `up` and `status`).
    listen: str = ""


ProcessFactory = Callable[["Layout", Mapping[str, str]], list[ProcessSpec]]
ENTRY_POINT_GROUP = "ktrdr.mesh_processes"


def extra_process_factories() -> list[ProcessFactory]:
    """Packages add processes to the mesh (the edge gateway does) through entry points."""
    from importlib.metadata import entry_points

    return [ep.load() for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)]


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where each process listens. Ports are ``base_port + offset``; 0 keeps the defaults."""

    home: Path
    base_port: int = 0
    host: str = "127.0.0.1"

    def port(self, service: str) -> int:
        if self.base_port:
            return self.base_port + SERVICES.index(service)
        return DEFAULT_PORTS[service]

    def metrics_port(self, service: str) -> int:
        if self.base_port:
            return self.base_port + 10 + SERVICES.index(service)
        return 9100 + 1 + SERVICES.index(service)

    def extra_port(self, offset: int, default: int) -> int:
        """Ports for extra processes (gateway): ``base_port + 20 + offset`` or the default."""
        return self.base_port + 20 + offset if self.base_port else default

    def address(self, service: str) -> str:
        return f"{self.host}:{self.port(service)}"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "mesh.json"


def service_env(layout: Layout) -> dict[str, str]:
    """Environment shared by every mesh process: ports, dependency addresses, paths."""
    env = {"KTRDR_HOME": str(layout.home)}
    for service in SERVICES:
        upper = service.upper()
        env[f"KTRDR_{upper}_PORT"] = str(layout.port(service))
        env[f"KTRDR_{upper}_METRICS_PORT"] = str(layout.metrics_port(service))
        env[f"KTRDR_{upper}_HOST"] = layout.host
        env[f"KTRDR_{upper}_ADDRESS"] = layout.address(service)
    strategies = REPO_ROOT / "strategies"
    if strategies.is_dir():
        env.setdefault("KTRDR_STRATEGIES_DIR", str(strategies))
    return env


FAKE_TWS_PORT = 7500  # with --base-port N: N + 29


def fake_tws_spec(layout: Layout, env: dict[str, str]) -> ProcessSpec:
    """The test suite's fake TWS (synthetic prices) for local use; points the ib_gateway at it."""
    if not (REPO_ROOT / "tests" / "faketws").is_dir():
        raise MeshError("--fake-tws needs a source checkout (the fake lives in tests/faketws)")
    port = layout.extra_port(9, FAKE_TWS_PORT)
    env.update(KTRDR_IB_GATEWAY_IB_HOST=layout.host, KTRDR_IB_GATEWAY_IB_PORT=str(port))
    argv = [sys.executable, "-m", "tests.faketws", "--host", layout.host, "--port", str(port)]
    return ProcessSpec(
        name="faketws",
        argv=argv,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        ports=[port],
        listen=f"tws://{layout.host}:{port} (fake TWS, synthetic prices)",
    )


def process_specs(
    layout: Layout, base_env: Mapping[str, str] | None = None, *, fake_tws: bool = False
) -> list[ProcessSpec]:
    env = {**(os.environ if base_env is None else base_env), **service_env(layout)}
    fake = [fake_tws_spec(layout, env)] if fake_tws else []
    specs = fake + [
        ProcessSpec(
            name=service,
            argv=[sys.executable, "-m", f"ktrdr_{service}"],
            env=env,
            ports=[layout.port(service), layout.metrics_port(service)],
            grpc_address=layout.address(service),
            listen=f"grpc://{layout.address(service)}",
        )
        for service in SERVICES
    ]
    for factory in extra_process_factories():
        try:
            specs.extend(factory(layout, env))
        except (ValueError, OSError) as exc:
            raise MeshError(f"{factory.__module__}: cannot prepare its processes: {exc}") from exc
    return specs


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_free_base_port(span: int = 40, low: int = 20000, high: int = 60000) -> int:
    """A base port whose whole block ``[base, base + span)`` is free on 127.0.0.1."""
    import random

    for _ in range(100):
        base = random.randrange(low, high, 50)
        if all(port_free("127.0.0.1", base + i) for i in range(span)):
            return base
    raise MeshError(f"no free block of {span} loopback ports between {low} and {high}")


def check_health(address: str, timeout: float = 1.0) -> str:
    """The overall health status name of a gRPC server, or ``UNREACHABLE``."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def check_http(url: str, timeout: float = 1.0) -> str:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return "SERVING" if reply.status == 200 else f"HTTP {reply.status}"
    except (urllib.error.URLError, OSError):
        return "UNREACHABLE"


def _ready(spec: ProcessSpec) -> str:
    if spec.grpc_address:
        return check_health(spec.grpc_address)
    if spec.ready_url:
        return check_http(spec.ready_url)
    return "SERVING"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def read_state(layout: Layout) -> dict[str, dict[str, object]]:
    try:
        return json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        return {}


def _write_state(layout: Layout, state: Mapping[str, object]) -> None:
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    tmp = layout.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, layout.state_file)


def up(
    layout: Layout,
    *,
    timeout: float = 60.0,
    base_env: Mapping[str, str] | None = None,
    echo: Callable[[str], None] = lambda _: None,
    fake_tws: bool = False,
) -> dict[str, dict[str, object]]:
    """Start every process and wait until all are SERVING; raise MeshError naming a failure."""
    running = {name: s for name, s in read_state(layout).items() if _pid_alive(int(s["pid"]))}  # type: ignore[call-overload]
    if running:
        raise MeshError(
            f"The mesh is already running ({', '.join(running)}); run `ktrdr mesh down` first."
        )
    specs = process_specs(layout, base_env, fake_tws=fake_tws)
    for spec in specs:
        for port in spec.ports:
            if not port_free(layout.host, port):
                raise MeshError(
                    f"{spec.name}: port {port} on {layout.host} is in use; stop what uses it or "
                    f"choose other ports (--base-port)."
                )
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, dict[str, object]] = {}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for spec in specs:
            log_path = layout.log_dir / f"{spec.name}.log"
            with open(log_path, "ab") as log_file:
                procs[spec.name] = subprocess.Popen(
                    list(spec.argv),
                    env=dict(spec.env),
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    cwd=str(layout.home),
                )
            state[spec.name] = {
                "pid": procs[spec.name].pid,
                "listen": spec.listen,
                "log": str(log_path),
                "grpc_address": spec.grpc_address,
                "ready_url": spec.ready_url,
            }
        _write_state(layout, state)
        deadline = time.monotonic() + timeout
        pending = {spec.name: spec for spec in specs}
        while pending:
            for name, spec in list(pending.items()):
                code = procs[name].poll()
                if code is not None:
                    raise MeshError(
                        f"{name} exited with code {code} during start-up. End of "
                        f"{state[name]['log']}:\n{_tail(Path(str(state[name]['log'])))}"
                    )
                if _ready(spec) == "SERVING":
                    echo(f"{name:<11} SERVING  {spec.listen}")
                    del pending[name]
            if pending and time.monotonic() > deadline:
                names = ", ".join(pending)
                raise MeshError(
                    f"{names} did not report SERVING within {timeout:.0f} s; see {layout.log_dir}."
                )
            if pending:
                time.sleep(0.1)
    except BaseException as exc:
        _stop_all(state, grace=5.0)
        layout.state_file.unlink(missing_ok=True)
        if isinstance(exc, MeshError):
            raise MeshError(f"{exc}\nEvery process started was stopped.") from None
        raise
    return state


def _stop_all(state: Mapping[str, Mapping[str, object]], grace: float) -> dict[str, str]:
    """SIGTERM every process, wait, SIGKILL stragglers. Returns how each ended."""
    outcome: dict[str, str] = {}
    pids = {name: int(s["pid"]) for name, s in state.items()}  # type: ignore[call-overload]
    for name, pid in pids.items():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            outcome[name] = "not running"
    deadline = time.monotonic() + grace
    for name, pid in pids.items():
        if name in outcome:
            continue
        while time.monotonic() < deadline:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not our child: poll for existence
                done, status = (pid, 0) if not _pid_alive(pid) else (0, 0)
            if done:
                code = os.waitstatus_to_exitcode(status) if status else 0
                outcome[name] = "stopped" if code in (0, -signal.SIGTERM) else f"exit {code}"
                break
            time.sleep(0.05)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
                outcome[name] = "killed after grace period"
            except ProcessLookupError:
                outcome[name] = "stopped"
    return outcome


def down(layout: Layout, *, grace: float = 15.0) -> dict[str, str]:
    """Stop every mesh process; returns how each one ended."""
    state = read_state(layout)
    if not state:
        return {}
    outcome = _stop_all(state, grace)
    layout.state_file.unlink(missing_ok=True)
    return outcome


def status(layout: Layout) -> dict[str, str]:
    """Health of each recorded process (``STOPPED`` when its process is gone)."""
    result = {}
    for name, info in read_state(layout).items():
        if not _pid_alive(int(info["pid"])):  # type: ignore[call-overload]
            result[name] = "STOPPED"
            continue
        grpc_address = info.get("grpc_address")
        ready_url = info.get("ready_url")
        if grpc_address:
            result[name] = check_health(str(grpc_address))
        elif ready_url:
            result[name] = check_http(str(ready_url))
        else:
            result[name] = "RUNNING"
    return result
