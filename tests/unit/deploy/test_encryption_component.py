"""The encryption-at-rest Kubernetes component: an overlay that includes it seals the model
registry with a key read from a Secret file, keeps training scratch in memory, and validates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .test_k8s_manifests import render

ROOT = Path(__file__).resolve().parents[3]
COMPONENT = ROOT / "k8s" / "components" / "encryption-at-rest"


def _overlay(tmp_path: Path) -> Path:
    rel = lambda p: os.path.relpath(p, tmp_path)  # noqa: E731
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": "ktrdr",
                "resources": [rel(ROOT / "k8s/base")],
                "components": [rel(ROOT / "k8s/components/gpu-neural"), rel(COMPONENT)],
            }
        )
    )
    return tmp_path


def test_an_overlay_with_the_component_reads_the_key_from_a_secret_file(tmp_path: Path) -> None:
    docs = render(_overlay(tmp_path))
    neural = [
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("neural")
    ]
    assert {d["metadata"]["name"] for d in neural} == {"neural", "neural-gpu"}
    for deployment in neural:
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["KTRDR_ENCRYPTION_KEY_FILE"]["value"] == "/etc/ktrdr/encryption/key"
        assert "KTRDR_ENCRYPTION_KEY" not in env  # never the key itself in the pod spec
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["encryption-key"]["secret"]["secretName"] == "ktrdr-encryption-key"
        assert volumes["encryption-key"]["secret"]["defaultMode"] == 0o400
        assert volumes["training-scratch"]["emptyDir"]["medium"] == "Memory"
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["encryption-key"]["readOnly"] is True
        assert mounts["training-scratch"]["mountPath"] == "/var/lib/ktrdr/neural"
        assert not any("encryption" in a for a in container.get("args", []))
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(docs))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "--quiet", rendered],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_rotation_patch_names_the_previous_keys_file() -> None:
    patch = yaml.safe_load((COMPONENT / "rotation.yaml").read_text())
    assert patch[0]["value"] == {
        "name": "KTRDR_ENCRYPTION_PREVIOUS_KEYS_FILE",
        "value": "/etc/ktrdr/encryption/previous",
    }


def test_the_training_job_reads_the_same_key_and_keeps_scratch_in_memory(tmp_path: Path) -> None:
    docs = render(_overlay(tmp_path))
    (job,) = [d for d in docs if d["kind"] == "CronJob" and d["metadata"]["name"] == "neural-train"]
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    key_file = env["KTRDR_ENCRYPTION_KEY_FILE"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # the key file lies in a mounted copy of the Secret the neural Deployments read
    (secret_mount,) = [p for p in mounts if key_file.startswith(p + "/")]
    assert volumes[mounts[secret_mount]]["secret"]["secretName"] == "ktrdr-encryption-key"
    assert volumes[mounts["/var/lib/ktrdr/neural"]]["emptyDir"]["medium"] == "Memory"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_seals_the_models(overlay: str) -> None:
    path = ROOT / "k8s" / "overlays" / overlay / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text())
    assert "../../components/encryption-at-rest" in kustomization["components"]
