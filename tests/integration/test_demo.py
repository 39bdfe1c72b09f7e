"""The README's main command (`ktrdr demo`) runs the whole pipeline on the bundled data."""

from __future__ import annotations

import pytest

from ktrdr_cli import mesh
from ktrdr_cli.demo import run_demo

pytestmark = pytest.mark.integration


def test_demo_runs_every_built_service_and_stops_the_mesh(tmp_path):
    layout = mesh.Layout(home=tmp_path, base_port=mesh.find_free_base_port())
    lines: list[str] = []
    assert run_demo(layout, echo=lines.append, timeout=120) == 0
    text = "\n".join(lines)
    assert "LoadData EURUSD 1h 2017-06-01..2018-01-01: 3623 bars" in text
    assert "5000 bars through three services" in text
    assert "CalculateFuzzy: 3623 bars x 9 features" in text
    assert "CalculateFuzzy mtf_trend_follow_1h_4h_1d: 3623 1h bars x 27 features" in text
    assert "GET /api/v1/data/symbols (dev admin key): EURUSD, GOOG" in text
    assert "wrong key: HTTP 401 AUTH-002" in text
    assert "Demo finished" in text
    assert mesh.read_state(layout) == {}
    stopped = [line for line in lines if line.split()[-1:] == ["stopped"]]
    assert len(stopped) == len(mesh.SERVICES) + 1  # the services and the edge gateway
