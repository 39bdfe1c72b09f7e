"""Fixtures that run the real mesh processes on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ktrdr_cli import mesh


@pytest.fixture(scope="session")
def mesh_layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mesh.Layout]:
    """The whole mesh, started once for the session with its own KTRDR_HOME, then stopped."""
    home: Path = tmp_path_factory.mktemp("ktrdr-home")
    layout = mesh.Layout(home=home, base_port=mesh.find_free_base_port())
    mesh.up(layout, timeout=120)
    try:
        yield layout
    finally:
        outcome = mesh.down(layout, grace=15)
        bad = {k: v for k, v in outcome.items() if v != "stopped"}
        assert not bad, f"mesh processes did not stop cleanly: {bad}"


def processes_of(home: Path) -> set[int]:
    """Live processes (not zombies) whose environment has KTRDR_HOME=home."""
    wanted = f"KTRDR_HOME={home}".encode()
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if (
                wanted in (proc / "environ").read_bytes().split(b"\0")
                and (proc / "cmdline").read_bytes()
            ):
                found.add(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def mesh_processes():
    """``processes_of(home)``: the live processes of a mesh home (to check nothing is left)."""
    return processes_of
