"""A real mesh (services and Envoy edge) for the CLI command groups, once per module."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ktrdr_cli import mesh


@pytest.fixture(scope="module")
def mesh_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mesh.Layout]:
    """The mesh on a free port block with its own KTRDR_HOME, which alone leads to it."""
    home = tmp_path_factory.mktemp("ktrdr-home")
    layout = mesh.Layout(home=home, base_port=mesh.find_free_base_port())
    mesh.up(layout, timeout=120)
    with pytest.MonkeyPatch.context() as mp:
        for name in [k for k in os.environ if k.startswith("KTRDR_API")]:
            mp.delenv(name)
        mp.setenv("KTRDR_HOME", str(home))
        try:
            yield layout
        finally:
            outcome = mesh.down(layout, grace=15)
    assert all(v == "stopped" for v in outcome.values()), outcome
