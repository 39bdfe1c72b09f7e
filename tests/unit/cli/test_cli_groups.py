"""``ktrdr strategies|models|backtest`` against a real mesh found through KTRDR_HOME alone.

One mesh per module (its Envoy edge and dev admin key): a small training, a short backtest
of its model, then the commands that read, page, cancel and delete. Every JSON output is
compared with the API's answer to the same question through the Python client.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ktrdr_cli import mesh, output
from ktrdr_cli.app import local_dev_key
from ktrdr_cli.exit_codes import ExitCode
from ktrdr_cli.main import run
from ktrdr_client import KtrdrClient

STRATEGY = "rsi_trend_eurusd_1h"
TRAIN = ["--start", "2017-04-19", "--end", "2017-10-01", "-c", "early_stopping=false"]
TEST = ["--start", "2017-11-01", "--end", "2018-01-01", "--confidence-threshold", "0"]
KTRDR = str(Path(sys.executable).parent / "ktrdr")


def ktrdr(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``ktrdr ARGS`` in this process, without --url or --base-port: (exit code, out, err)."""
    code = run(list(args))
    captured = capsys.readouterr()
    return int(code), captured.out, captured.err


def api(value: Any) -> Any:
    """The client's answer as the CLI's --json prints it."""
    return json.loads(json.dumps(output.jsonable(value)))


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def client(mesh_home: mesh.Layout) -> Any:
    with KtrdrClient(mesh.edge_url(mesh_home), local_dev_key(mesh_home.home)) as c:
        yield c


@pytest.fixture(scope="module")
def trained(mesh_home: mesh.Layout) -> list[dict[str, Any]]:
    """The NDJSON progress of `ktrdr models train` (three epochs on five months)."""
    capture = io.StringIO()
    real = sys.stdout
    sys.stdout = capture
    try:
        code = run(["models", "train", STRATEGY, *TRAIN, "--epochs", "3", "--json"])
    finally:
        sys.stdout = real
    assert code == ExitCode.OK
    return lines(capture.getvalue())


@pytest.fixture(scope="module")
def backtested(trained: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The NDJSON progress of `ktrdr backtest run` of the trained model on the next month."""
    capture = io.StringIO()
    real = sys.stdout
    sys.stdout = capture
    try:
        model = trained[-1]["model_name"]
        code = run(["backtest", "run", STRATEGY, *TEST, "--model", model, "--json"])
    finally:
        sys.stdout = real
    assert code == ExitCode.OK
    return lines(capture.getvalue())


# --- strategies ------------------------------------------------------------------------


def test_strategies_list_prints_the_apis_strategies(mesh_home, client, capsys):
    code, out, _ = ktrdr(capsys, "strategies", "list", "--json")
    assert code == ExitCode.OK
    assert json.loads(out) == api(client.strategies())
    code, table, _ = ktrdr(capsys, "strategies", "list")
    assert code == ExitCode.OK and STRATEGY in table and "goog_daily_raw_inputs" in table


def test_strategies_show_prints_the_resolved_features(mesh_home, client, capsys):
    code, out, _ = ktrdr(capsys, "strategies", "show", STRATEGY, "--json")
    assert code == ExitCode.OK
    detail = client.strategy(STRATEGY)
    assert json.loads(out) == api(detail)
    code, table, _ = ktrdr(capsys, "strategies", "show", STRATEGY)
    assert all(feature in table for feature in detail.features)
    code, text, _ = ktrdr(capsys, "strategies", "show", STRATEGY, "--yaml")
    assert text.strip() == detail.yaml.strip()


def test_validating_a_stored_valid_strategy_exits_0(mesh_home, capsys):
    code, out, _ = ktrdr(capsys, "strategies", "validate", STRATEGY)
    assert code == ExitCode.OK
    assert out.startswith(f"{STRATEGY}: valid;")


def _broken(tmp_path: Path) -> Path:
    text = (Path(__file__).parents[3] / "strategies" / f"{STRATEGY}.yaml").read_text()
    text = text.replace("type: rsi,", "type: rsii,").replace("epochs: 50", "epochs: -3")
    path = tmp_path / "broken_rsi.yaml"
    path.write_text(text)
    return path


def test_validating_a_broken_file_prints_every_problem_with_field_and_code_and_exits_3(
    mesh_home, client, capsys, tmp_path
):
    path = _broken(tmp_path)
    code, out, _ = ktrdr(capsys, "strategies", "validate", str(path), "--json")
    assert code == ExitCode.INVALID
    expected = client.validate_strategy("broken_rsi", yaml=path.read_text())
    assert json.loads(out) == api(expected)
    fields = {e["field"] for e in expected.errors}
    assert len(expected.errors) >= 2 and any("rsi_14" in f for f in fields)
    assert any("epochs" in f for f in fields)
    code, table, _ = ktrdr(capsys, "strategies", "validate", str(path))
    assert code == ExitCode.INVALID and "broken_rsi: invalid" in table
    assert all(e["code"] in table and e["field"] in table for e in expected.errors)
    assert "rsi" in table  # the suggestion for the misspelt indicator type


def test_validating_an_unknown_name_is_exit_4_with_a_suggestion(mesh_home, capsys):
    code, out, err = ktrdr(capsys, "strategies", "validate", "rsi_trend_eurusd_1")
    assert code == ExitCode.NOT_FOUND and out == ""
    assert "[" in err and STRATEGY in err and "hint:" in err


def test_validating_without_a_reachable_api_is_exit_6_not_invalid(capsys, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    code, _, err = ktrdr(
        capsys, "strategies", "validate", STRATEGY, "--url", url, "--home", str(tmp_path)
    )
    assert code == ExitCode.UNAVAILABLE != ExitCode.INVALID
    assert "[CLIENT-001]" in err


# --- models ------------------------------------------------------------------------------


def test_training_streams_epochs_and_ends_with_the_stored_model(trained, client):
    final = trained[-1]
    assert final["state"] == "succeeded"
    assert [u["epoch"] for u in trained if u["message"].startswith("epoch")] == [1, 2, 3]
    assert [e["name"] for e in final["evaluations"]] == ["model", "majority", "logistic_regression"]
    assert final["model_name"].startswith(f"{STRATEGY}.EURUSD_1h_v")
    assert api(client.training(final["training_id"])) == final


def test_models_list_and_show_print_the_apis_models(trained, client, capsys):
    name = trained[-1]["model_name"]
    code, out, _ = ktrdr(capsys, "models", "list", "--strategy", STRATEGY, "--json")
    assert code == ExitCode.OK
    assert json.loads(out) == api(client.list_models(STRATEGY))
    assert name in {m["name"] for m in json.loads(out)}
    code, out, _ = ktrdr(capsys, "models", "show", name, "--json")
    assert code == ExitCode.OK and json.loads(out) == api(client.model(name))
    code, table, _ = ktrdr(capsys, "models", "show", name)
    assert "confusion matrix" in table and "majority" in table


def test_ctrl_c_cancels_the_training_on_the_server(trained, client, mesh_home):
    env = {**os.environ, "KTRDR_HOME": str(mesh_home.home)}
    proc = subprocess.Popen(
        [KTRDR, "models", "train", STRATEGY, "--epochs", "500", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            update = json.loads(line)
            if update["state"] == "running":
                break
        training_id = update["training_id"]
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED
    assert f"training {training_id} cancelled on the server" in err
    assert lines(rest)[-1]["training_id"] == training_id
    for _ in range(300):
        state = client.training(training_id).state
        if state == "TRAINING_STATE_CANCELLED":
            break
        time.sleep(0.1)
    assert state == "TRAINING_STATE_CANCELLED"


# --- backtests ---------------------------------------------------------------------------


def test_backtest_run_streams_progress_and_its_result_is_the_stored_run(backtested, client):
    final = backtested[-1]
    assert final["progress"]["stage"] == "done"
    run_id = final["backtest"]["backtest_id"]
    assert final["backtest"] == api(client.backtest(run_id))
    assert final["backtest"]["state"] == "succeeded"
    assert final["backtest"]["buy_and_hold"]["totalReturnPct"] is not None


def test_backtest_show_prints_the_metrics_beside_both_baselines(backtested, client, capsys):
    run_id = backtested[-1]["backtest"]["backtest_id"]
    code, out, _ = ktrdr(capsys, "backtest", "show", run_id, "--json")
    assert code == ExitCode.OK and json.loads(out) == api(client.backtest(run_id))
    code, table, _ = ktrdr(capsys, "backtest", "show", run_id)
    stored = client.backtest(run_id)
    row = next(line for line in table.splitlines() if "total return %" in line)
    for metrics in (stored.metrics, stored.buy_and_hold):
        assert output.cell(float(metrics.get("totalReturnPct", 0))) in row
    assert "buy and hold" in table and "majority class" in table
    majority = next(line for line in table.splitlines() if "majority class" in line)
    assert output.cell(stored.model_metrics["majority_accuracy"]) in majority


def test_backtest_list_shows_the_run(backtested, capsys):
    run_id = backtested[-1]["backtest"]["backtest_id"]
    code, out, _ = ktrdr(capsys, "backtest", "list", "--strategy", STRATEGY, "--json")
    assert code == ExitCode.OK and run_id in {r["backtest_id"] for r in json.loads(out)}


def test_backtest_trades_pages_through_every_trade_with_traces(backtested, client, capsys):
    run_id = backtested[-1]["backtest"]["backtest_id"]
    everything = client.trades(run_id)
    code, out, _ = ktrdr(
        capsys, "backtest", "trades", run_id, "--limit", "0", "--page-size", "2", "--json"
    )
    assert code == ExitCode.OK and json.loads(out) == api(everything)
    assert len(everything) == int(backtested[-1]["backtest"]["metrics"]["totalTrades"]) > 1
    code, out, _ = ktrdr(
        capsys, "backtest", "trades", run_id, "--limit", "3", "--page-size", "2", "--json"
    )
    assert json.loads(out) == api(everything[:3])
    code, text, _ = ktrdr(capsys, "backtest", "trades", run_id, "--limit", "1", "--trace")
    decision = everything[0].entry_decision
    assert decision is not None
    assert all(name in text for name in decision.features)


def test_backtest_report_without_the_builder_is_exit_8_naming_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ktrdr_report.build", None)
    code, out, err = ktrdr(capsys, "backtest", "report", "any", "--out", "r.html")
    assert code == ExitCode.UNBUILT and out == ""
    assert "report builder is not available" in err


def test_backtest_report_writes_the_html_report(backtested, capsys, tmp_path):
    pytest.importorskip("ktrdr_report.build")
    run_id = backtested[-1]["backtest"]["backtest_id"]
    target = tmp_path / "report.html"
    code, out, err = ktrdr(capsys, "backtest", "report", run_id, "--out", str(target))
    assert code == ExitCode.OK, err
    assert out.strip() == f"report: {target.resolve()}"
    assert target.read_text().lstrip().lower().startswith("<!doctype html")


def test_unknown_backtest_is_exit_4(mesh_home, capsys):
    code, out, err = ktrdr(capsys, "backtest", "show", "no-such-run")
    assert code == ExitCode.NOT_FOUND and out == "" and "hint:" in err


# --- deleting (last: the runs above use the model) -----------------------------------------


def test_delete_asks_first_and_keeps_the_model_when_declined(trained, client, capsys, monkeypatch):
    name = trained[-1]["model_name"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, _, err = ktrdr(capsys, "models", "delete", name)
    assert code == ExitCode.FAILURE and f"kept {name}" in err
    assert client.model(name).name == name


def test_delete_with_yes_removes_the_model(backtested, trained, client, capsys):
    name = trained[-1]["model_name"]
    code, out, _ = ktrdr(capsys, "models", "delete", name, "--yes")
    assert code == ExitCode.OK and out.strip() == f"deleted {name}"
    code, _, err = ktrdr(capsys, "models", "show", name)
    assert code == ExitCode.NOT_FOUND and "hint:" in err


def test_status_progress_draws_the_epoch_and_losses_on_a_terminal_only():
    from rich.console import Console

    out = output.Output()
    out.err = Console(file=io.StringIO(), force_terminal=True, width=120)
    with out.status_progress("training") as update:
        update(0, status="queued")
        update(2, total=4, description="epoch 2/4", status="loss 1.0500 train")
    drawn = out.err.file.getvalue()
    assert "epoch 2/4" in drawn and "loss 1.0500 train" in drawn and "50%" in drawn
    quiet = output.Output(json_mode=True)
    quiet.err = Console(file=io.StringIO(), force_terminal=True)
    with quiet.status_progress("training") as update:
        update(1, total=1, status="x")
    assert quiet.err.file.getvalue() == ""
