"""Fixtures that run the real mesh processes on free loopback ports."""

from __future__ import annotations

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
