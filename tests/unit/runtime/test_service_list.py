"""The service list exists once (ktrdr_runtime.services); everything that enumerates services
derives from it, and it agrees with the contracts and the service packages."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from ktrdr_gateway import contracts
from ktrdr_runtime import services
from ktrdr_runtime.settings import DEFAULT_METRICS_PORTS, DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[3]


def test_the_list_matches_the_contracts_and_the_service_packages() -> None:
    with_service = {
        p.parent.parent.name
        for p in (ROOT / "protos/ktrdr").glob("*/v1/*.proto")
        if "\nservice " in p.read_text()
    }
    assert with_service == set(services.NAMES)
    packaged = {p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")}
    assert packaged == set(services.NAMES)
    for s in services.SERVICES:
        project = tomllib.loads((ROOT / s.path / "pyproject.toml").read_text())["project"]
        assert project["name"] == s.distribution
        assert (ROOT / s.path / "src" / s.python_package / "app.py").is_file()


def test_ports_package_map_and_tags_derive_from_the_list() -> None:
    assert list(DEFAULT_PORTS) == list(services.NAMES) == list(DEFAULT_METRICS_PORTS)
    assert DEFAULT_PORTS["data"] == 50051 and DEFAULT_PORTS["ib_gateway"] == 50056
    assert {f"ktrdr.{n}.v1": n for n in services.NAMES} == contracts.SERVICE_OF_PACKAGE


def test_the_image_and_the_development_install_name_no_service_themselves() -> None:
    for path in ("services/Dockerfile", "scripts/bootstrap", "requirements/dev.txt"):
        text = (ROOT / path).read_text()
        assert not [n for n in services.NAMES if f"services/{n}" in text or f"ktrdr_{n}" in text]
    assert "ktrdr_runtime/services.py paths" in (ROOT / "services/Dockerfile").read_text()
    assert "services.py" in (ROOT / "scripts/bootstrap").read_text()


def test_the_list_runs_as_a_script_without_anything_installed() -> None:
    script = ROOT / "libs/runtime/src/ktrdr_runtime/services.py"
    done = subprocess.run(
        [sys.executable, "-S", "-I", str(script), "paths"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"services/{n}" for n in services.NAMES]
