"""The main job end to end through the edge: train, backtest, report, opened in Chromium.

On a small slice of the bundled EURUSD hours, everything through the mesh's Envoy with the
httpx client: a model is trained (streamed), backtested out of sample (streamed), the report
is built from the API's answers only, opened in headless Chromium (no console error, rendered)
and the numbers it shows are compared with what the API answers for the same run.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ktrdr_cli import mesh
from ktrdr_client import KtrdrClient
from ktrdr_gateway import keys
from ktrdr_report import write_report
from ktrdr_report.browser import check_page, find_chromium
from ktrdr_report.build import report_from_api

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        find_chromium() is None and os.environ.get("CI") != "true",
        reason="chromium not installed (required in CI)",
    ),
]

STRATEGY = "rsi_trend_eurusd_1h"
MAX_REPORT_BYTES = 1_500_000


@pytest.fixture(scope="module")
def client(mesh_layout: mesh.Layout) -> Iterator[KtrdrClient]:
    key = keys.dev_key_path(mesh_layout.home).read_text().strip()
    with KtrdrClient(mesh.edge_url(mesh_layout), key, timeout=300) as c:
        yield c


@pytest.fixture(scope="module")
def run(client: KtrdrClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    body = {
        "strategy": STRATEGY,
        "startDate": "2017-06-01",
        "endDate": "2018-01-01",
        "config": {"epochs": 3, "learning_rate": 0.01},
    }
    updates = [m["training"] for m in client.stream("POST", "/api/v1/models/train", json_body=body)]
    final = updates[-1]
    assert final["state"] == "TRAINING_STATE_SUCCEEDED", final
    backtest = {
        "startDate": "2018-01-01",
        "endDate": "2018-01-20",
        "model": final["modelName"],
        "confidenceThreshold": 0.0,  # act on whichever class the network prefers: trades
    }
    path = f"/api/v1/strategies/{STRATEGY}/backtest"
    messages = list(client.stream("POST", path, json_body=backtest))
    run_id = messages[-1]["backtest"]["backtestId"]
    report = write_report(
        tmp_path_factory.mktemp("report") / "report.html", report_from_api(client, run_id)
    )
    return {
        "training": updates,
        "progress": [m.get("progress") or {} for m in messages],
        "backtest": client.request("GET", f"/api/v1/backtests/{run_id}")["backtest"],
        "trades": client.request("GET", f"/api/v1/backtests/{run_id}/trades")["trades"],
        "model": client.request("GET", f"/api/v1/models/{final['modelName']}")["model"],
        "report": report,
        "page": check_page(report),
    }


def _shown(value: Any, digits: int = 2) -> str:
    """How the report prints a number (thousands separators; a dash when undefined)."""
    number = float(value)
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    return f"{number:,.{digits}f}"


def _cells(dom: str, row_attr: str) -> dict[str, list[str]]:
    rows = re.findall(rf'<tr [^>]*{row_attr}="([^"]+)"[^>]*>(.*?)</tr>', dom, flags=re.S)
    return {
        key: [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body)]
        for key, body in rows
    }


def test_the_flow_streams_progress_for_training_and_backtest(run: dict[str, Any]) -> None:
    epochs = [u["epoch"] for u in run["training"] if u.get("message", "").startswith("epoch")]
    assert epochs == [1, 2, 3]
    assert run["progress"][-1]["stage"] == "done"
    assert run["backtest"]["state"] == "BACKTEST_STATE_SUCCEEDED"
    assert run["trades"], "a zero threshold makes the network trade"


def test_the_report_renders_offline_in_chromium_without_errors(run: dict[str, Any]) -> None:
    page = run["page"]
    assert page.errors == []
    assert page.rendered == "ok"
    assert page.dom.count("<canvas") >= 4
    assert run["report"].stat().st_size < MAX_REPORT_BYTES


def test_the_metrics_shown_equal_the_api(run: dict[str, Any]) -> None:
    rows = re.findall(r'<tr data-metric="(\w+)">(.*?)</tr>', run["page"].dom, flags=re.S)
    shown = {
        key: {
            html.unescape(column): html.unescape(text)
            for column, text in re.findall(r'data-column="([^"]+)">([^<]*)</td>', body)
        }
        for key, body in rows
    }
    b = run["backtest"]
    for field in ("totalReturnPct", "sharpeRatio", "maxDrawdownPct", "totalTrades", "finalEquity"):
        assert shown[field]["strategy (net)"] == _shown(b["metrics"][field]), field
        assert shown[field]["strategy (gross)"] == _shown(b["grossMetrics"][field]), field
        assert shown[field]["buy & hold"] == _shown(b["buyAndHold"][field]), field
        assert shown[field]["majority class"] == _shown(b["majorityClass"][field]), field
    assert b["majorityClass"]["basis"] == "majority"
    accuracy = shown["testAccuracy"]["strategy (net)"]
    assert accuracy == _shown(b["modelMetrics"]["test_accuracy"])
    ppy = _shown(b["metrics"]["periodsPerYear"], 1)
    assert f"periods per year: {ppy}" in run["page"].dom


def test_the_trades_shown_equal_the_api_with_their_decision_traces(run: dict[str, Any]) -> None:
    dom = run["page"].dom
    rows = _cells(dom, "data-trade")
    assert len(rows) == len(run["trades"])
    for i, trade in enumerate(run["trades"]):
        cells = rows[str(i)]
        assert cells[7] == _shown(trade["pnl"])
        assert cells[4] == _shown(trade["entryPrice"], 5)
    features = run["trades"][0]["entryDecision"]["features"]
    for feature in features:
        assert f'<td>{feature["name"]}</td><td class="num">{_shown(feature["value"], 3)}' in dom


def test_the_training_and_provenance_shown_equal_the_api(run: dict[str, Any]) -> None:
    dom = run["page"].dom
    model = run["model"]
    network = next(e for e in model["evaluations"] if e["name"] == "model")
    table = re.search(r'<table class="confusion">(.*?)</table>', dom, flags=re.S)
    assert table is not None
    shown = [int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', table.group(1))]
    assert shown == [int(n) for n in network["confusionMatrix"]]
    meta = model["metadata"]
    assert meta["strategy_digest"] in dom
    assert meta["weights"]["sha256"] in dom
    assert meta["code_version"]["git_commit"] in dom
    assert model["name"] in dom


def test_a_report_of_an_unknown_run_is_refused(client: KtrdrClient, tmp_path: Path) -> None:
    from ktrdr_client.errors import NotFoundError

    with pytest.raises(NotFoundError):
        report_from_api(client, "0" * 32)
