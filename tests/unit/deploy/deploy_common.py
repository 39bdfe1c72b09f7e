"""Shared helpers of the deployment tests (no tests here): rendering with the dev environment's
kubectl, walking pods and containers, the generator as a module, the services' settings."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from ktrdr_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "k8s"
OVERLAYS = {"dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}
Doc = dict[str, Any]


def tool(name: str) -> str:
    """A command of the dev environment (kubectl, hadolint, envoy come as wheels), else PATH.

    Never a skip: scripts/bootstrap installs them everywhere the tests run.
    """
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    assert found, f"{name} is missing: run scripts/bootstrap (requirements/dev.txt installs it)"
    return found


def kustomizations() -> list[Path]:
    """Every buildable kustomization under k8s/ (components are built through the overlays)."""
    found = []
    for path in sorted(K8S.rglob("kustomization.yaml")):
        if yaml.safe_load(path.read_text()).get("kind") == "Kustomization":
            found.append(path.parent)
    return found


def roots() -> list[Path]:
    """The kustomizations no other one includes: building them builds every object."""
    included = set()
    for path in kustomizations():
        resources = yaml.safe_load((path / "kustomization.yaml").read_text()).get("resources", [])
        included |= {(path / r).resolve() for r in resources if (path / r).is_dir()}
    return [p for p in kustomizations() if p.resolve() not in included]


@functools.cache
def render(path: Path) -> tuple[Doc, ...]:
    """``kubectl kustomize path``, parsed."""
    done = subprocess.run(
        [tool("kubectl"), "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def overlay(name: str) -> tuple[Doc, ...]:
    return render(OVERLAYS[name])


def named(docs: tuple[Doc, ...], kind: str) -> dict[str, Doc]:
    """The objects of one kind by name."""
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_template(doc: Doc) -> Doc | None:
    """The pod template of a workload (Deployment, StatefulSet, Job, CronJob), else None."""
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]
    if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
        return spec["template"]
    return None


def workloads(docs: tuple[Doc, ...]) -> Iterator[tuple[Doc, Doc]]:
    """(workload, pod template) for every workload."""
    for doc in docs:
        template = pod_template(doc)
        if template is not None:
            yield doc, template


def container_env(container: Doc, docs: tuple[Doc, ...]) -> dict[str, str]:
    """What a container's environment holds: its ConfigMaps (in order), then its own env."""
    config_maps = named(docs, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "<from a reference>")
    return env


def volume_of(pod: Doc, mount: Doc) -> Doc:
    """The pod volume a container's volume mount names (a StatefulSet's claim template when the
    pod has no volume of that name)."""
    found = [v for v in pod["spec"].get("volumes", []) if v["name"] == mount["name"]]
    assert len(found) <= 1
    return found[0] if found else {"name": mount["name"], "volumeClaimTemplate": True}


@functools.cache
def generator() -> ModuleType:
    """k8s/generate.py, imported (it holds the one description of workloads and calls)."""
    spec = importlib.util.spec_from_file_location("ktrdr_k8s_generate", K8S / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of a service of the service list."""
    module = importlib.import_module(f"ktrdr_{service}.settings")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and getattr(value, "SERVICE", "") == service
    ]
    (cls,) = found
    return cls
