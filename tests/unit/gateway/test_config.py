"""Envoy config generation, and `envoy --mode validate` on every flavour."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ktrdr_gateway import __main__ as cli
from ktrdr_gateway import contracts, envoy_config, keys, policy

UPSTREAMS = {
    s: envoy_config.Upstream("127.0.0.1", 50051 + i)
    for i, s in enumerate(["data", "indicators", "fuzzy", "neural", "backtest", "ib_gateway"])
}


def _hcm(boot: dict[str, Any]) -> dict[str, Any]:
    return boot["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]


def _filter(boot: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f["typed_config"] for f in _hcm(boot)["http_filters"] if f["name"] == name)


@pytest.fixture(scope="module")
def boot() -> dict[str, Any]:
    cfg = envoy_config.GatewayConfig(upstreams=UPSTREAMS, key_file="/tmp/k")
    return envoy_config.build(cfg, contracts.descriptor_bytes(), "{}")


def test_routes_cover_every_service(boot: dict[str, Any]) -> None:
    routes = _hcm(boot)["route_config"]["virtual_hosts"][0]["routes"]
    prefixes = {
        r["match"].get("prefix"): r["route"]["cluster"]
        for r in routes
        if "route" in r and "prefix" in r["match"]
    }
    for svc, cluster in contracts.grpc_services(contracts.load_descriptor_set()).items():
        assert prefixes[f"/{svc}/"] == cluster
    streams = {
        r["match"]["path"]: r["route"]["timeout"]
        for r in routes
        if "route" in r and "path" in r["match"]
    }
    assert streams["/ktrdr.neural.v1.NeuralService/TrainModel"] == "0s"
    clusters = boot["static_resources"]["clusters"]
    assert {c["name"] for c in clusters} == set(UPSTREAMS)
    assert all(c["type"] == "STATIC" for c in clusters)


def test_transcoder_strict_options(boot: dict[str, Any]) -> None:
    tc = _filter(boot, "envoy.filters.http.grpc_json_transcoder")
    assert tc["convert_grpc_status"] is True
    # A JSON array from the transcoder: the Lua filter turns it into NDJSON (and can end a
    # failed stream with an error line once the array closes).
    assert tc["print_options"]["stream_newline_delimited"] is False
    assert all(tc["request_validation_options"].values())
    assert len(tc["services"]) == 6


def test_lua_has_roles_and_no_keys(boot: dict[str, Any]) -> None:
    lua = _filter(boot, "envoy.filters.http.lua")["default_source_code"]["inline_string"]
    assert '["/ktrdr.neural.v1.NeuralService/TrainModel"] = "admin"' in lua
    assert '{"DELETE", "^/api/v1/models/[^/]+$", "admin"}' in lua
    assert '"ktrdr.data.v1.LoadDataRequest"' in lua
    assert 'KEY_FILE = "/tmp/k"' in lua
    assert policy.role_for("/ktrdr.data.v1.DataService/ListTimeframes") == "read"


def test_no_plaintext_key_in_generated_config(tmp_path: Path) -> None:
    key, _ = keys.KeyStore(tmp_path / "api-keys").create("admin")
    cfg = envoy_config.GatewayConfig(upstreams=UPSTREAMS, key_file=str(tmp_path / "api-keys"))
    text = envoy_config.write(cfg, tmp_path, openapi_json="{}").read_text()
    assert key not in text and keys.hash_key(key) not in text


def test_rate_limit_and_cors_settings() -> None:
    cfg = envoy_config.GatewayConfig(
        upstreams=UPSTREAMS,
        rate_limit_per_minute=60,
        rate_limit_burst=10,
        cors_origins=("https://ui.example",),
    )
    boot = envoy_config.build(cfg, contracts.descriptor_bytes(), "{}")
    rl = _filter(boot, "envoy.filters.http.local_ratelimit")["descriptors"][0]["token_bucket"]
    assert rl == {"max_tokens": 10, "tokens_per_fill": 1, "fill_interval": "1s"}
    vh = _hcm(boot)["route_config"]["virtual_hosts"][0]
    cors = vh["typed_per_filter_config"]["envoy.filters.http.cors"]
    assert cors["allow_origin_string_match"] == [{"exact": "https://ui.example"}]


def test_k8s_flavour_uses_service_dns() -> None:
    cfg = envoy_config.k8s_config("prod")
    boot = envoy_config.build(cfg, contracts.descriptor_bytes(), "{}")
    hosts = {
        c["name"]: c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
            "socket_address"
        ]["address"]
        for c in boot["static_resources"]["clusters"]
    }
    assert hosts["ib_gateway"] == "ib-gateway.prod.svc.cluster.local"
    assert all(c["type"] == "STRICT_DNS" for c in boot["static_resources"]["clusters"])


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    if shutil.which("openssl"):
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
        return cert, key
    crypto = pytest.importorskip("cryptography")  # noqa: F841
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    pk = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    c = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pk.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(pk, hashes.SHA256())
    )
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        pk.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


@pytest.mark.parametrize("flavour", ["local", "k8s", "local-tls"])
def test_envoy_validates_generated_config(flavour: str, tmp_path: Path) -> None:
    if flavour == "k8s":
        cfg = envoy_config.k8s_config()
    elif flavour == "local-tls":
        cert, key = _self_signed(tmp_path)
        cfg = envoy_config.GatewayConfig(upstreams=UPSTREAMS, tls_cert=str(cert), tls_key=str(key))
    else:
        cfg = envoy_config.GatewayConfig(upstreams=UPSTREAMS)
    path = envoy_config.write(cfg, tmp_path)
    ok, tail = cli.validate(path)
    assert ok, tail
    assert json.loads(path.read_text())["static_resources"]["listeners"]
