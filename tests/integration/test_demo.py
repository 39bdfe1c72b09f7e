"""The README's main command (`ktrdr demo`): the whole main job on the bundled data."""

from __future__ import annotations

import pytest

from ktrdr_cli import mesh
from ktrdr_cli.demo import DemoSettings, run_demo
from ktrdr_cli.exit_codes import ExitCode
from ktrdr_cli.output import Output

pytestmark = pytest.mark.integration


def test_demo_trains_backtests_reports_and_stops_the_mesh(tmp_path, capsys):
    layout = mesh.Layout(home=tmp_path, base_port=mesh.find_free_base_port())
    report = tmp_path / "out" / "report.html"
    code = run_demo(
        layout,
        out=Output(),
        settings=DemoSettings(epochs=3, report=report),
        timeout=120,
    )
    text = capsys.readouterr().out
    assert code == ExitCode.OK, text
    for step in ("== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6.", "== 7.", "== 8."):
        assert step in text
    assert "5000 bars 2017-04-19 .. 2018-02-07" in text
    assert "training: epoch 3/3" in text
    assert "backtest: done bars 642" in text
    assert "buy & hold" in text and "majority class" in text
    assert f"written: {report}" in text
    assert report.stat().st_size > 100_000
    assert mesh.read_state(layout) == {}
    assert "7 processes stopped" in text


def test_a_failed_step_is_named_with_its_reason_and_exit_code(mesh_layout, capsys):
    code = run_demo(
        mesh_layout, out=Output(), settings=DemoSettings(strategy="rsi_trend_eurusd_1hh")
    )
    captured = capsys.readouterr()
    assert code == ExitCode.NOT_FOUND
    assert "step 'validate strategy' failed" in captured.err
    assert "it is left running" in captured.out
    assert mesh.supervisor_pid(mesh.read_state(mesh_layout))
