"""`ktrdr mesh up --fake-tws`: a missing range loaded through the REST edge -> data service ->
IB gateway -> fake TWS is stored, and `ktrdr ib status` shows the connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ktrdr_cli import mesh
from ktrdr_cli.main import main as ktrdr
from ktrdr_client import KtrdrClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ib_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mesh.Layout]:
    home: Path = tmp_path_factory.mktemp("ktrdr-ib-home")
    layout = mesh.Layout(home=home, base_port=mesh.find_free_base_port())
    mesh.up(layout, timeout=120, fake_tws=True)
    try:
        yield layout
    finally:
        outcome = mesh.down(layout, grace=15)
        assert all(v == "stopped" for v in outcome.values()), outcome


def client(layout: mesh.Layout) -> KtrdrClient:
    return KtrdrClient(f"http://{layout.host}:{layout.extra_port(0, 8080)}", home=layout.home)


def wait_connected(layout: mesh.Layout) -> dict:
    deadline = time.monotonic() + 30
    with client(layout) as api:
        while True:
            state = api.ib_status()
            if state.get("connected") or time.monotonic() > deadline:
                return state
            time.sleep(0.2)


def test_a_missing_range_travels_edge_data_gateway_fake_tws_and_is_stored(ib_mesh):
    assert wait_connected(ib_mesh).get("connected")
    with client(ib_mesh) as api:
        loaded = api.load_data(
            "EURUSD", "1h", start="2017-03-01", end="2017-05-01", mode="LOAD_MODE_BACKFILL"
        )
        again = api.load_data("EURUSD", "1h", start="2017-03-01", end="2017-05-01")
        state = api.ib_status()
    fetched = int(loaded.provenance.get("fetchedBars", 0))
    assert loaded.provenance.get("complete") and fetched > 600  # about seven weeks of FX hours
    assert [b.timestamp for b in again.bars] == [b.timestamp for b in loaded.bars]  # stored
    assert int(again.provenance.get("fetchedBars", 0)) == 0
    assert int(state["pacing"]["requestsTotal"]) >= 2
    assert int(state["pacing"].get("violationsTotal", 0)) == 0


def test_ktrdr_ib_status_shows_the_connection(ib_mesh, capsys):
    wait_connected(ib_mesh)
    code = ktrdr(["--home", str(ib_mesh.home), "--base-port", str(ib_mesh.base_port), "ib",
                  "status"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    fake_port = ib_mesh.extra_port(9, mesh.FAKE_TWS_PORT)
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines()
            if line.count("│") == 3}  # fmt: skip
    assert rows["TWS"] == f"127.0.0.1:{fake_port}" and rows["client id"] == "1"
    assert rows["connection"] == "connected" and rows["breaker"] == "closed"
    assert "ushmds" in out


def test_mesh_status_counts_the_fake_tws_as_serving(ib_mesh):
    # The fake has no health service: the supervisor counts it as serving while it runs.
    assert mesh.status(ib_mesh)["faketws"] == "SERVING"
    assert ktrdr(["--home", str(ib_mesh.home), "--base-port", str(ib_mesh.base_port), "mesh",
                  "status"]) == 0  # fmt: skip
