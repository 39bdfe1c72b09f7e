"""The Envoy config deployed to Kubernetes is exactly what the gateway code generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "k8s" / "base" / "gateway" / "envoy.json"


def test_committed_k8s_envoy_config_is_freshly_generated_and_valid(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ktrdr_gateway",
            "generate",
            "--flavour",
            "k8s",
            "--namespace",
            "ktrdr",
            "--out",
            str(tmp_path),
            "--validate",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    fresh = (tmp_path / "envoy.json").read_text()
    assert fresh == COMMITTED.read_text(), (
        "k8s/base/gateway/envoy.json is stale: run `python -m ktrdr_gateway generate --flavour "
        "k8s --namespace ktrdr --out k8s/base/gateway`"
    )
