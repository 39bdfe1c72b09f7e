"""The ktrdr command against the real mesh: found without flags, tables, JSON, errors, pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ktrdr_cli import mesh

pytestmark = pytest.mark.integration

KTRDR = str(Path(sys.executable).parent / "ktrdr")
RANGE = ["--start", "2017-06-01", "--end", "2017-06-02"]


def run(
    layout: mesh.Layout, *args: str, stdin: str | None = None, home: Path | None = None
) -> subprocess.CompletedProcess:
    """``ktrdr ARGS`` with only KTRDR_HOME set: no --base-port, no --url."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTRDR_API")}
    env["KTRDR_HOME"] = str(home or layout.home)
    return subprocess.run(
        [KTRDR, *args], env=env, capture_output=True, text=True, input=stdin, timeout=120
    )


def as_json(done: subprocess.CompletedProcess) -> object:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_rest_commands_find_the_running_edge_from_its_state_file(mesh_layout):
    assert mesh_layout.base_port  # not the default ports: only the state file says where
    done = run(mesh_layout, "data", "info")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "EURUSD" in line or "GOOG" in line]
    assert "5000" in lines[0] and "fx" in lines[0] and "1h" in lines[0]
    assert "2148" in lines[1] and "1d" in lines[1]


def test_global_options_work_after_the_subcommand(mesh_layout, tmp_path):
    # KTRDR_HOME names an empty home; only --home, given last, leads to the running mesh.
    elsewhere = run(
        mesh_layout,
        "data",
        "info",
        "GOOG",
        "1d",
        "--json",
        "--home",
        str(mesh_layout.home),
        home=tmp_path,
    )
    info = as_json(elsewhere)
    assert info["series"]["bar_count"] == 2148
    assert info["instrument"]["instrument_type"] == "stock"  # short enum, not INSTRUMENT_TYPE_


def test_an_unknown_symbol_is_exit_4_with_the_servers_code_suggestion_and_hint(mesh_layout):
    done = run(mesh_layout, "data", "load", "EURUSDX", "1h")
    assert done.returncode == 4
    assert done.stdout == ""
    assert "[DATA-" in done.stderr and "did you mean: EURUSD" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_load_reports_the_range_and_the_mode_in_short_form(mesh_layout):
    loaded = as_json(
        run(mesh_layout, "data", "load", "EURUSD", "1h", *RANGE, "--mode", "local", "--json")
    )
    assert len(loaded["bars"]) == 24
    assert loaded["bars"][0]["timestamp"] == "2017-06-01T00:00:00Z"
    table = run(mesh_layout, "data", "load", "EURUSD", "1h", *RANGE)
    assert "EURUSD 1h" in table.stdout and "24" in table.stdout


def test_show_streams_the_same_bars_as_load_as_ndjson(mesh_layout):
    rows = [
        json.loads(line)
        for line in run(
            mesh_layout, "--json", "data", "show", "EURUSD", "1h", *RANGE
        ).stdout.splitlines()
    ]
    loaded = as_json(run(mesh_layout, "data", "load", "EURUSD", "1h", *RANGE, "--json"))
    assert [r["close"] for r in rows] == [b["close"] for b in loaded["bars"]]
    assert [r["timestamp"] for r in rows] == [b["timestamp"] for b in loaded["bars"]]


def test_show_with_a_replay_speed_paces_the_stream_and_delivers_every_bar(mesh_layout):
    done = run(
        mesh_layout,
        "data",
        "show",
        "EURUSD",
        "1h",
        "--start",
        "2017-06-01T00:00",
        "--end",
        "2017-06-01T03:00",
        "--replay-speed",
        "36000",  # an hour of bars per 0.1 s
        "--batch-size",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 + 3


def test_piping_into_head_ends_quietly_with_141(mesh_layout):
    env = {**os.environ, "KTRDR_HOME": str(mesh_layout.home)}
    done = subprocess.run(
        f'{KTRDR} data show EURUSD 1h | head -3; echo "rc=${{PIPESTATUS[0]}}"',
        shell=True,
        executable="/bin/bash",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and lines[-1] == "rc=141"
    assert done.stderr == ""


def test_gaps_print_kinds_in_short_form(mesh_layout):
    report = as_json(
        run(
            mesh_layout,
            "data",
            "gaps",
            "EURUSD",
            "1h",
            "--start",
            "2017-06-01",
            "--end",
            "2017-07-01",
            "--all",
            "--json",
        )
    )
    kinds = {g["kind"] for g in report["gaps"]}
    assert kinds and kinds <= {"weekend", "holiday", "outside_trading_hours", "unexpected"}
    assert report["gap_count"] == len(report["gaps"])


def test_export_then_import_round_trips_a_range(mesh_layout, tmp_path):
    exported = tmp_path / "eurusd.csv"
    done = run(mesh_layout, "data", "export", "EURUSD", "1h", *RANGE, "-o", str(exported))
    assert done.returncode == 0, done.stderr
    csv = exported.read_text()
    assert csv.count("\n") == 1 + 24
    imported = as_json(
        run(mesh_layout, "data", "import", "CLICOPY", "1h", "-", "--json", stdin=csv)
    )
    assert imported["imported"] == 24
    assert imported["series"]["bar_count"] == 24
    again = run(mesh_layout, "data", "export", "CLICOPY", "1h")
    assert again.stdout.strip() == csv.strip()


def test_indicator_compute_passes_parameters(mesh_layout):
    sma = as_json(
        run(
            mesh_layout,
            "indicators",
            "compute",
            "sma",
            "EURUSD",
            "1h",
            *RANGE,
            "-p",
            "period=3",
            "--json",
        )
    )
    bars = as_json(run(mesh_layout, "data", "load", "EURUSD", "1h", *RANGE, "--json"))["bars"]
    closes = np.array([b["close"] for b in bars])
    assert sma["indicator_id"] == "sma_3"
    assert sma["columns"][0]["values"][-1] == pytest.approx(closes[-3:].mean(), rel=1e-12)


def test_indicator_list_prints_categories_in_short_form(mesh_layout):
    listed = as_json(run(mesh_layout, "indicators", "list", "--category", "momentum", "--json"))
    assert listed and {i["category"] for i in listed} == {"momentum"}
    assert "rsi" in {i["name"] for i in listed}


def test_fuzzy_evaluate_and_infer(mesh_layout, tmp_path):
    degrees = as_json(
        run(mesh_layout, "fuzzy", "evaluate", "5", "15", "--mf", "low:triangular:0,10,20", "--json")
    )
    assert degrees == [{"name": "low", "degrees": [0.5, 0.5]}]
    system = tmp_path / "system.yaml"
    system.write_text(
        "method: mamdani\n"
        "inputs:\n"
        "  - {name: rsi, minimum: 0, maximum: 100, terms: [\n"
        "      {name: low, type: triangular, parameters: [0, 0, 50]},\n"
        "      {name: high, type: triangular, parameters: [50, 100, 100]}]}\n"
        "output: {name: signal, minimum: -1, maximum: 1, terms: [\n"
        "    {name: sell, type: triangular, parameters: [-1, -1, 0]},\n"
        "    {name: buy, type: triangular, parameters: [0, 1, 1]}]}\n"
        "rules: ['IF rsi IS low THEN signal IS buy', 'IF rsi IS high THEN signal IS sell']\n"
    )
    inferred = as_json(
        run(mesh_layout, "fuzzy", "infer", "--system", str(system), "-i", "rsi=25", "--json")
    )
    # rsi 25 is 0.5 low and 0 high: only "buy" fires, clipped at 0.5, so the centroid is
    # the centroid of the clipped right triangle on [0, 1]: positive.
    assert inferred["activations"] == {
        "IF rsi IS low THEN signal IS buy": 0.5,
        "IF rsi IS high THEN signal IS sell": 0.0,
    }
    assert inferred["output"] > 0


def test_fuzzy_calculate_and_sets_for_a_strategy(mesh_layout):
    sets = as_json(run(mesh_layout, "fuzzy", "sets", "--strategy", "rsi_trend_eurusd_1h", "--json"))
    assert {s["id"] for s in sets} == {"rsi_14", "adx_strength", "macd_momentum"}
    features = as_json(
        run(
            mesh_layout,
            "fuzzy",
            "calculate",
            "EURUSD",
            "--strategy",
            "rsi_trend_eurusd_1h",
            *RANGE,
            "--json",
        )
    )
    assert len(features["timestamps"]) == 24 and len(features["columns"]) == 9


def test_a_read_key_cannot_import_and_a_revoked_key_is_refused(mesh_layout, tmp_path):
    created = as_json(run(mesh_layout, "keys", "create", "--role", "read", "--json"))
    key = created["key"]
    listed = as_json(run(mesh_layout, "keys", "list", "--json"))
    assert created["key_id"] in {k["key_id"] for k in listed}
    assert key not in json.dumps(listed)
    key_file = tmp_path / "read.key"
    key_file.write_text(key + "\n")
    refused_argv = run(mesh_layout, "data", "timeframes", "--api-key", key)
    assert refused_argv.returncode == 2 and "--api-key-file" in refused_argv.stderr
    assert key not in refused_argv.stderr
    ok = run(mesh_layout, "data", "timeframes", "--api-key-file", str(key_file))
    assert ok.returncode == 0, ok.stderr
    refused = run(
        mesh_layout, "data", "import", "X", "1h", "-", "--api-key-file", str(key_file), stdin="x\n"
    )
    assert refused.returncode == 5 and "[AUTH-003]" in refused.stderr
    assert run(mesh_layout, "keys", "revoke", created["key_id"]).returncode == 0
    deadline = time.monotonic() + 30  # the edge re-reads the key store every 2 s
    timeframes = ("data", "timeframes", "--api-key-file", str(key_file))
    while (done := run(mesh_layout, *timeframes)).returncode == 0:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.5)
    assert done.returncode == 5 and "[AUTH-002]" in done.stderr
    assert run(mesh_layout, "keys", "revoke", "00000000").returncode == 4
