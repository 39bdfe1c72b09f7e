"""The package graph of README's layout section, enforced on every import of our code.

    ktrdr_core  <-  each domain (ktrdr_<service>.domain)  <-  ktrdr_pipeline (in-process root)
        ^                          ^
    ktrdr_runtime  <-  each service's app and servicer (its composition root)

* the core imports nothing of ours and no grpc;
* a domain imports the core and itself only: no grpc or protobuf, no runtime, no other service;
* the runtime (grpc, generated code, gRPC-client sources) imports no service and no pipeline;
* a service's app/servicer imports the core, the runtime, the generated code and itself (and
  the in-process pipeline), never another service's package;
* the pipeline imports the core and the domains, no grpc and no runtime.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ktrdr_runtime.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
GRPC = ("grpc", "grpc_status", "grpc_health", "grpc_reflection", "google.protobuf", "google.rpc")
PACKAGES: dict[str, Path] = {
    "ktrdr_core": ROOT / "libs/core/src/ktrdr_core",
    "ktrdr_runtime": ROOT / "libs/runtime/src/ktrdr_runtime",
    "ktrdr_pipeline": ROOT / "libs/pipeline/src/ktrdr_pipeline",
    **{s.python_package: ROOT / s.path / "src" / s.python_package for s in SERVICES},
}
SERVICE_PACKAGES = {s.python_package for s in SERVICES}


def _module(path: Path) -> str:
    for package, root in PACKAGES.items():
        if path.is_relative_to(root):
            parts = path.relative_to(root).with_suffix("").parts
            return ".".join([package, *(p for p in parts if p != "__init__")])
    raise AssertionError(path)


def _imports(path: Path) -> Iterator[str]:
    module = _module(path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                parts = module.split(".")
                package = parts if path.name == "__init__.py" else parts[:-1]
                base = package[: len(package) - node.level + 1]
                yield ".".join([*base, *([node.module] if node.module else [])])
            else:
                yield str(node.module)


def _is(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _ours(name: str) -> bool:
    return _is(name, "ktrdr") or name.split(".")[0].startswith("ktrdr_")


def _allowed(module: str, name: str) -> bool:
    package = module.split(".")[0]
    domain = package in SERVICE_PACKAGES and _is(module, f"{package}.domain")
    if not _ours(name):
        grpc_free = domain or package in ("ktrdr_core", "ktrdr_pipeline")
        return not (grpc_free and _is(name, *GRPC))
    if package == "ktrdr_core":
        return _is(name, "ktrdr_core")
    if domain:
        return _is(name, "ktrdr_core", f"{package}.domain")
    if package == "ktrdr_pipeline":
        return _is(name, "ktrdr_core", "ktrdr_pipeline") or any(
            _is(name, f"{p}.domain") for p in SERVICE_PACKAGES
        )
    if package == "ktrdr_runtime":
        return _is(name, "ktrdr_core", "ktrdr_runtime", "ktrdr")
    return _is(name, "ktrdr_core", "ktrdr_runtime", "ktrdr", "ktrdr_pipeline", package)


def _files() -> list[Path]:
    return sorted(p for root in PACKAGES.values() for p in root.rglob("*.py"))


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_follows_the_package_graph(path: Path) -> None:
    module = _module(path)
    bad = [name for name in _imports(path) if not _allowed(module, name)]
    assert not bad, f"{module} may not import {', '.join(bad)} (see README, layout)"


def test_the_checker_refuses_what_the_graph_forbids() -> None:
    assert not _allowed("ktrdr_core.bars", "ktrdr_runtime.bars")
    assert not _allowed("ktrdr_fuzzy.domain.features", "ktrdr_indicators.domain.catalogue")
    assert not _allowed("ktrdr_indicators.domain.sources", "grpc")
    assert not _allowed("ktrdr_indicators.domain.sources", "ktrdr_runtime.sources")
    assert not _allowed("ktrdr_fuzzy.app", "ktrdr_indicators.domain.catalogue")
    assert not _allowed("ktrdr_runtime.sources", "ktrdr_fuzzy.domain.sources")
    assert not _allowed("ktrdr_pipeline.sources", "ktrdr_runtime.bars")
    assert not _allowed("ktrdr_pipeline.sources", "ktrdr_data.app")
    assert _allowed("ktrdr_pipeline.sources", "ktrdr_data.domain.storage")
    assert _allowed("ktrdr_fuzzy.app", "ktrdr_runtime.sources")


def _dependencies(distribution: str, seen: set[str] | None = None) -> set[str]:
    """Every requirement name ``distribution`` brings, through our own packages."""
    locations = {
        "ktrdr-core": "libs/core",
        "ktrdr-runtime": "libs/runtime",
        "ktrdr-pipeline": "libs/pipeline",
        **{s.distribution: s.path for s in SERVICES},
    }
    seen = set() if seen is None else seen
    project = tomllib.loads((ROOT / locations[distribution] / "pyproject.toml").read_text())
    for requirement in project["project"]["dependencies"]:
        name = requirement.split(";")[0].split("[")[0]
        name = name.split("=")[0].split(">")[0].split("<")[0].strip().lower()
        if name not in seen:
            seen.add(name)
            if name in locations:
                _dependencies(name, seen)
    return seen


@pytest.mark.parametrize("distribution", ["ktrdr-fuzzy", "ktrdr-neural"])
def test_fuzzy_and_neural_images_carry_no_indicator_or_storage_engines(distribution: str) -> None:
    brought = _dependencies(distribution)
    assert "ktrdr-runtime" in brought  # the walk follows our own packages
    assert not brought & {"ta-lib", "pandas-ta-classic", "pyarrow", "ktrdr-indicators"}
