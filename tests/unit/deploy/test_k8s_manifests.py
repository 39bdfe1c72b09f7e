"""The Kubernetes manifests render with kustomize and pass strict schema validation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
KUSTOMIZATIONS = [
    p.parent for p in (ROOT / "k8s").rglob("kustomization.yaml") if "components" not in p.parts
]


def render(path: Path) -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with kustomize) is not installed")
    out = subprocess.run(
        ["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_manifests_render_and_validate_strictly(path, tmp_path):
    docs = render(path)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(docs))
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "kubernetes-validate"),
            "--strict",
            "--quiet",
            str(rendered),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_container_is_hardened_and_bounded_with_grpc_probes():
    deployments = [
        d for d in render(ROOT / "k8s" / "overlays" / "local") if d["kind"] == "Deployment"
    ]
    assert {d["metadata"]["name"] for d in deployments} >= {
        "data",
        "indicators",
        "fuzzy",
        "neural",
        "neural-gpu",
        "backtest",
        "ib-gateway",
    }
    for d in deployments:
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc["allowPrivilegeEscalation"] is False
            assert {"cpu", "memory"} <= set(c["resources"]["requests"])
            assert {"cpu", "memory"} <= set(c["resources"]["limits"])
            if c["name"] != "envoy":
                assert "grpc" in c["readinessProbe"]


def test_gpu_neural_requests_a_gpu_and_keeps_a_cpu_fallback_behind_one_service():
    docs = render(ROOT / "k8s" / "overlays" / "local")
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    gpu = by_name[("Deployment", "neural-gpu")]["spec"]["template"]["spec"]
    cpu = by_name[("Deployment", "neural")]["spec"]["template"]["spec"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "nvidia.com/gpu" not in cpu["containers"][0]["resources"]["limits"]
    service = by_name[("Service", "neural")]["spec"]["selector"]
    gpu_labels = by_name[("Deployment", "neural-gpu")]["spec"]["template"]["metadata"]["labels"]
    cpu_labels = by_name[("Deployment", "neural")]["spec"]["template"]["metadata"]["labels"]
    assert service.items() <= gpu_labels.items() and service.items() <= cpu_labels.items()
    gpu_sel = by_name[("Deployment", "neural-gpu")]["spec"]["selector"]["matchLabels"]
    cpu_sel = by_name[("Deployment", "neural")]["spec"]["selector"]["matchLabels"]
    assert not (gpu_sel.items() <= cpu_labels.items() or cpu_sel.items() <= gpu_labels.items())
