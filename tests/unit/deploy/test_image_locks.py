"""The hashed lock of each service image covers everything the service installs.

The reference is independent of the lock generator (uv): the closure of the service's
requirements computed here from the metadata of the installed distributions (the development
environment installs the same pinned versions from constraints.txt).
"""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ktrdr_runtime.services import NAMES

ROOT = Path(__file__).resolve().parents[3]
LOCKS = ROOT / "requirements" / "locks"
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
REGENERATE = "regenerate: pip install uv==0.13.8 && python scripts/lock_images.py"


def _generator():
    spec = importlib.util.spec_from_file_location("lock_images", ROOT / "scripts/lock_images.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lock(service: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a lock file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in (LOCKS / f"{service}.txt").read_text().splitlines():
        match = ENTRY.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            entries[current] = (match.group(2), [])
        elif line.strip().startswith("--hash=sha256:") and current:
            entries[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return entries


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements/constraints.txt").read_text().splitlines():
        match = ENTRY.match(line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _closure(requirements: list[str]) -> dict[str, str]:
    """Installed name -> version of everything ``requirements`` pull in on this platform."""
    found: dict[str, str] = {}
    todo = [(Requirement(r), ()) for r in requirements]
    while todo:
        req, _ = todo.pop()
        name = canonicalize_name(req.name)
        if name in found or name.startswith("ktrdr-"):
            continue
        dist = metadata.distribution(name)
        found[name] = dist.version
        for text in dist.requires or []:
            sub = Requirement(text)
            extras = req.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append((sub, ()))
    return found


@pytest.mark.parametrize("service", NAMES)
def test_the_lock_pins_with_hashes_everything_the_service_installs(service: str) -> None:
    lock = _lock(service)
    assert lock, f"requirements/locks/{service}.txt is missing; {REGENERATE}"
    installed = _closure(_generator().third_party(service))
    missing = sorted(set(installed) - set(lock))
    assert not missing, f"{service} lock misses {missing}; {REGENERATE}"
    for name, version in installed.items():
        assert Version(lock[name][0]) == Version(Version(version).base_version), (name, version)
    pins = _constraints()
    for name, (version, hashes) in lock.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
        if name in pins:
            assert version == pins[name], f"{name}: lock {version}, constraints {pins[name]}"


@pytest.mark.parametrize("service", NAMES)
def test_the_lock_inputs_match_the_service_pyproject(service: str) -> None:
    text = (LOCKS / f"{service}.in").read_text().splitlines()
    assert [line for line in text if not line.startswith("#")] == _generator().third_party(
        service
    ), f"{service}.in is stale; {REGENERATE}"


def test_the_closure_reference_sees_extras_and_transitive_packages() -> None:
    closure = _closure(["psycopg[binary]>=3.2", "alembic>=1.13"])
    assert {"psycopg", "psycopg-binary", "alembic", "sqlalchemy", "mako"} <= set(closure)
