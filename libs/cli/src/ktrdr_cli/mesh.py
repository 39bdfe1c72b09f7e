"""The local mesh: every service (and the edge gateway) as local processes on 127.0.0.1.

One supervisor process (:mod:`ktrdr_cli.supervisor`) owns them. ``up`` checks every port
first (naming any process, KTRDR's or not, that holds one), starts the supervisor detached
(logs under ``$KTRDR_HOME/logs``) and waits until it reports every process SERVING; if any
fails, the error names it with the end of its log and nothing is left running. The supervisor
restarts a crashed process with backoff and records everything in ``$KTRDR_HOME/run/mesh.json``.
``down`` stops the supervisor (which stops its children gracefully) and any KTRDR service
started by hand on the mesh's ports; ``status`` shows each process's health, pid and restarts,
including services started by hand; ``restart`` restarts one process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import socket
import subprocess  # nosec B404 # starts the supervisor (fixed argv, no shell)
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

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

    @property
    def stopped_file(self) -> Path:
        """How each process ended when the supervisor last stopped (or why it failed)."""
        return self.run_dir / "mesh-stopped.json"


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
    """Every process of the mesh; with ``fake_tws`` the test suite's fake TWS comes first and
    the ib_gateway service is pointed at it."""
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


def find_free_base_port(span: int = 40, low: int = 20000, high: int = 32000) -> int:
    """A base port whose whole block ``[base, base + span)`` is free on 127.0.0.1.

    The default range stays below Linux's ephemeral ports (32768-60999), which the kernel hands
    to outgoing connections at any moment: a block there can be taken between this check and
    the services binding it.
    """
    import random

    for _ in range(100):
        base = random.randrange(low, high, 50)  # nosec B311 # picks ports, not a secret
        if all(port_free("127.0.0.1", base + i) for i in range(span)):
            return base
    raise MeshError(f"no free block of {span} loopback ports between {low} and {high}")


def check_health(address: str, timeout: float = 1.0) -> str:
    """The overall health status name of a gRPC server, or ``UNREACHABLE``."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def check_http(url: str, timeout: float = 1.0) -> str:
    """``SERVING`` when ``GET url`` answers 200 (``http://`` URLs only: a readiness probe)."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"readiness URL {url!r} is not an http:// URL")
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/")
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return "UNREACHABLE"
    finally:
        conn.close()
    return "SERVING" if status == 200 else f"HTTP {status}"


def probe(spec: ProcessSpec, timeout: float = 1.0) -> str:
    """Health of one mesh process: gRPC health, HTTP readiness, or SERVING when it has none."""
    if spec.grpc_address:
        return check_health(spec.grpc_address, timeout)
    if spec.ready_url:
        return check_http(spec.ready_url, timeout)
    return "SERVING"


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file (``(no log)`` when there is none)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON to a temporary file and rename it over ``path`` (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_state(layout: Layout) -> dict[str, Any]:
    """The supervisor's state file (``{}`` when the mesh is not running)."""
    return _read_json(layout.state_file)


def supervisor_pid(state: Mapping[str, Any]) -> int | None:
    """The pid of the state's supervisor if it is still running (never a reused pid)."""
    pid = (state.get("supervisor") or {}).get("pid")
    if not pid or not pid_alive(int(pid)):
        return None
    command = process_command(int(pid))
    return int(pid) if not command or "ktrdr_cli.supervisor" in command else None


def control_socket(layout: Layout) -> Path:
    """The supervisor's Unix socket (under ``run/``, or in the temp dir if that is too long)."""
    path = layout.run_dir / "supervisor.sock"
    if len(str(path)) < 100:
        return path
    digest = hashlib.sha256(str(layout.home).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"ktrdr-{os.getuid()}-{digest}.sock"


def resolve_layout(home: Path, base_port: int | None = None) -> Layout:
    """The running mesh's layout for ``home`` (its state file), unless ``base_port`` is given."""
    home = home.expanduser().resolve()
    if base_port is not None:
        return Layout(home=home, base_port=base_port)
    recorded = read_state(Layout(home=home)).get("layout") or {}
    return Layout(
        home=home,
        base_port=int(recorded.get("base_port") or 0),
        host=str(recorded.get("host") or "127.0.0.1"),
    )


def edge_url(layout: Layout) -> str:
    """The REST base URL of the running mesh's edge (its state file), else the layout's."""
    recorded = read_state(layout).get("edge_url")
    return str(recorded) if recorded else f"http://{layout.host}:{layout.extra_port(0, 8080)}"


# --- processes holding the mesh's ports --------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Listener:
    """A process listening on a TCP port, found through /proc (Linux)."""

    pid: int
    command: str

    @property
    def ktrdr_service(self) -> str | None:
        """The KTRDR service this process runs (``python -m ktrdr_<service>``), if any."""
        for service in SERVICES:
            if f"-m ktrdr_{service}" in self.command:
                return service
        return None


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def process_command(pid: int) -> str:
    """A process's command line ("" when it cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def find_listener(port: int) -> Listener | None:
    """The process listening on ``port`` (any address), or None (also where /proc is absent)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc_dir / "fd").iterdir()}
        except OSError:
            continue
        if links & wanted:
            pid = int(proc_dir.name)
            return Listener(pid=pid, command=process_command(pid))
    return None


def _check_ports(layout: Layout, specs: Sequence[ProcessSpec]) -> None:
    for spec in specs:
        for port in spec.ports:
            if port_free(layout.host, port):
                continue
            holder = find_listener(port)
            who = f" by pid {holder.pid} ({holder.command[:120]})" if holder else ""
            hint = (
                "it is a KTRDR service started by hand: `ktrdr mesh down` stops it"
                if holder and holder.ktrdr_service
                else "stop what uses it or choose other ports (--base-port)"
            )
            raise MeshError(f"{spec.name}: port {port} on {layout.host} is in use{who}; {hint}.")


def started_by_hand(layout: Layout, state: Mapping[str, Any] | None = None) -> dict[str, Listener]:
    """KTRDR services listening on this layout's ports that the supervisor does not own."""
    state = read_state(layout) if state is None else state
    owned = {info.get("pid") for info in (state.get("services") or {}).values()}
    found = {}
    for service in SERVICES:
        holder = find_listener(layout.port(service))
        if holder and holder.pid not in owned and holder.ktrdr_service:
            found[service] = holder
    return found


# --- status ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ProcessStatus:
    """One row of ``ktrdr mesh status``."""

    name: str
    health: str
    state: str
    pid: int | None = None
    restarts: int = 0
    last_exit: str = ""
    listen: str = ""
    supervised: bool = True


def _supervised_status(name: str, info: Mapping[str, Any]) -> ProcessStatus:
    pid = info.get("pid")
    state = str(info.get("state", ""))
    if pid and pid_alive(int(pid)) and state != "stopping":
        spec = ProcessSpec(
            name=name,
            argv=[],
            env={},
            ports=[],
            grpc_address=info.get("grpc_address"),
            ready_url=info.get("ready_url"),
        )
        health = probe(spec)
        if state == "starting" and health != "SERVING":
            health = "STARTING"
    else:
        health = "RESTARTING" if state in ("backoff", "stopping", "starting") else "STOPPED"
    return ProcessStatus(
        name=name,
        health=health,
        state=state,
        pid=int(pid) if pid else None,
        restarts=int(info.get("restarts") or 0),
        last_exit=str(info.get("last_exit") or ""),
        listen=str(info.get("listen") or ""),
    )


def describe(layout: Layout) -> list[ProcessStatus]:
    """Every mesh process: supervised ones, services started by hand, and the missing ones."""
    state = read_state(layout)
    supervised = supervisor_pid(state) is not None
    recorded = state.get("services") or {} if supervised else {}
    rows = [_supervised_status(name, info) for name, info in recorded.items()]
    for service, holder in started_by_hand(layout, state if supervised else {}).items():
        rows = [r for r in rows if r.name != service or r.health == "SERVING"]
        rows.append(
            ProcessStatus(
                name=service,
                health=check_health(layout.address(service)),
                state="started by hand",
                pid=holder.pid,
                listen=f"grpc://{layout.address(service)}",
                supervised=False,
            )
        )
    named = {r.name for r in rows}
    rows += [
        ProcessStatus(name=s, health="STOPPED", state="not running")
        for s in SERVICES
        if s not in named
    ]
    return rows


def status(layout: Layout) -> dict[str, str]:
    """Health of each process: SERVING, NOT_SERVING, UNREACHABLE, RESTARTING or STOPPED."""
    return {row.name: row.health for row in describe(layout)}


# --- up, down, restart -------------------------------------------------------------------


def up(
    layout: Layout,
    *,
    timeout: float = 60.0,
    base_env: Mapping[str, str] | None = None,
    echo: Callable[[str], None] = lambda _: None,
    grace: float = 15.0,
    fake_tws: bool = False,
) -> dict[str, Any]:
    """Start the supervisor and wait until it reports every process SERVING.

    ``fake_tws`` also starts the test suite's fake TWS (synthetic prices, for local use) and
    points the ib_gateway service at it.

    Returns the state file's content. Raises MeshError naming what failed (nothing is left
    running then). When the mesh already runs on the same ports, says so and returns its state.
    """
    state = read_state(layout)
    if supervisor_pid(state):
        running_on = int((state.get("layout") or {}).get("base_port") or 0)
        if running_on != layout.base_port:
            raise MeshError(
                f"The mesh of {layout.home} already runs with --base-port {running_on}; "
                "run `ktrdr mesh down` first."
            )
        echo("The mesh is already running (`ktrdr mesh status` shows its processes).")
        return state
    # bad settings fail here, before anything starts
    specs = process_specs(layout, base_env, fake_tws=fake_tws)
    _check_ports(layout, specs)
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    layout.stopped_file.unlink(missing_ok=True)
    layout.state_file.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "ktrdr_cli.supervisor", "--home", str(layout.home)]
    argv += ["--base-port", str(layout.base_port), "--timeout", str(timeout)]
    argv += ["--grace", str(grace)] + (["--fake-tws"] if fake_tws else [])
    with open(layout.log_dir / "supervisor.log", "ab") as log_file:
        proc = subprocess.Popen(  # nosec B603 # our interpreter and module; no secret in argv
            argv,
            env=dict(os.environ if base_env is None else base_env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=str(layout.home),
        )
    return _await_running(layout, proc, timeout=timeout + 15, grace=grace, echo=echo)


def _await_running(
    layout: Layout,
    proc: subprocess.Popen[bytes],
    *,
    timeout: float,
    grace: float,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    announced: set[str] = set()
    deadline = time.monotonic() + timeout
    try:
        while True:
            state = read_state(layout)
            for name, info in (state.get("services") or {}).items():
                if info.get("state") == "serving" and name not in announced:
                    echo(f"{name:<11} SERVING  {info.get('listen', '')}")
                    announced.add(name)
            if state.get("phase") == "running" and proc.poll() is None:
                return state
            code = proc.poll()
            if code is not None:
                error = _read_json(layout.stopped_file).get("error") or (
                    f"the supervisor exited with code {code}; see {layout.log_dir}/supervisor.log"
                )
                raise MeshError(f"{error}\nEvery process started was stopped.")
            if time.monotonic() > deadline:
                raise MeshError(f"the mesh did not start within {timeout:.0f} s; see logs.")
            time.sleep(0.1)
    except BaseException:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=grace + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        layout.state_file.unlink(missing_ok=True)
        raise


def terminate(pid: int, *, grace: float) -> str:
    """SIGTERM ``pid``, wait up to ``grace`` seconds, then SIGKILL. Returns how it ended."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "not running"
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child: poll for existence
            done, status = (pid, 0) if not pid_alive(pid) else (0, 0)
        if done:
            code = os.waitstatus_to_exitcode(status) if status else 0
            return "stopped" if code in (0, -signal.SIGTERM) else f"exit {code}"
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return "stopped"
    return "killed after grace period"


def _leftovers(state: Mapping[str, Any]) -> dict[str, int]:
    """Recorded children still alive (checked to be mesh processes, never a reused pid)."""
    alive = {}
    for name, info in (state.get("services") or {}).items():
        pid = info.get("pid")
        if pid and pid_alive(int(pid)):
            command = process_command(int(pid))
            if "ktrdr_" in command or "envoy" in command:
                alive[name] = int(pid)
    return alive


def down(layout: Layout, *, grace: float = 15.0) -> dict[str, str]:
    """Stop the mesh and any KTRDR service started by hand on its ports.

    Returns how each process ended (``stopped`` after a clean exit); ``{}`` if nothing ran.
    """
    state = read_state(layout)
    outcome: dict[str, str] = {}
    pid = supervisor_pid(state)
    if pid:
        layout.stopped_file.unlink(missing_ok=True)
        how = terminate(pid, grace=grace + 10)
        outcome = dict(_read_json(layout.stopped_file).get("outcome") or {})
        if how != "stopped" and not outcome:
            outcome["supervisor"] = how
    for name, child_pid in _leftovers(state).items():  # the supervisor was killed
        outcome[name] = terminate(child_pid, grace=grace)
    for name, holder in started_by_hand(layout, {}).items():
        how = terminate(holder.pid, grace=grace)
        outcome[name] = f"{how} (started by hand)" if how != "stopped" else "stopped"
    layout.state_file.unlink(missing_ok=True)
    return outcome


def _control(state: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    path = str((state.get("supervisor") or {}).get("socket") or "")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10.0)
        try:
            conn.connect(path)
            conn.sendall((json.dumps(request) + "\n").encode())
            reply = json.loads(conn.makefile("r").readline() or "{}")
        except (OSError, ValueError) as exc:
            raise MeshError(f"the mesh supervisor did not answer on {path}: {exc}") from exc
    return reply if isinstance(reply, dict) else {"error": f"unexpected reply {reply!r}"}


def restart(layout: Layout, service: str, *, timeout: float = 60.0) -> ProcessStatus:
    """Restart one supervised process and wait until it is SERVING again."""
    from ktrdr_core.errors import suggest

    state = read_state(layout)
    if not supervisor_pid(state):
        raise MeshError("The mesh is not running; start it with `ktrdr mesh up`.")
    services = state.get("services") or {}
    if service not in services:
        close = suggest(service, services)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise MeshError(f"No process named {service!r} in the mesh ({', '.join(services)}).{hint}")
    old_pid = services[service].get("pid")
    reply = _control(state, {"op": "restart", "service": service})
    if "error" in reply:
        raise MeshError(str(reply["error"]))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = (read_state(layout).get("services") or {}).get(service) or {}
        if info.get("pid") not in (None, old_pid) and info.get("state") == "serving":
            return _supervised_status(service, info)
        time.sleep(0.1)
    raise MeshError(f"{service} did not report SERVING within {timeout:.0f} s of its restart.")
