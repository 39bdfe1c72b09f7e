"""The largest request of each kind the services allow keeps each service within its budget.

Every input that sizes work or memory is bounded (fuzzy inference systems, membership requests,
stream batches, replay speed, bodies at the edge, answers per message); this sends the largest
allowed request of each kind, through the edge where REST is the way in and over gRPC where gRPC
allows more, against a dedicated mesh holding a 500,000-bar series, and reads each service's
peak resident memory (``VmHWM``) afterwards. The budget, documented in the README (REST edge
section), is 1 GiB per service. Computations over stored history (CalculateIndicator,
CalculateFuzzy) grow with the history they cover, which the indicator domain bounds at
``MAX_CALCULATION_BARS`` (500,000): the series is exactly that long, so the whole-series
calculations are the largest allowed. The data routes' reads page: the largest REST read is one
full page, and an unpaged read of the whole series is refused before it is built.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import grpc
import httpx
import pytest

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_cli import mesh
from ktrdr_data.domain.paging import MAX_PAGE
from ktrdr_fuzzy.convert import MAX_MEMBERSHIPS, MAX_VALUES
from ktrdr_fuzzy.domain import inference
from ktrdr_indicators.domain.calculation import MAX_CALCULATION_BARS
from ktrdr_runtime.limits import MAX_MESSAGE_BYTES

from .test_gateway_common import mesh_with_series, running_edge

pytestmark = pytest.mark.integration

GIB = 2**30
BUDGET_BYTES = {"data": 1.0 * GIB, "indicators": 1.0 * GIB, "fuzzy": 1.0 * GIB}
LONG = "ZZLONG"
LONG_BARS = MAX_CALCULATION_BARS  # the longest history one calculation may cover
EDGE_BODY_BYTES = 4 * 2**20  # the edge's default request limit
OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


def _peak_rss(pid: int) -> int:
    for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: SIM115
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


@pytest.fixture(scope="module")
def budget_mesh(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[mesh.Layout, str, str]]:
    home = tmp_path_factory.mktemp("budget-home")
    with (
        mesh_with_series(home, LONG, LONG_BARS, seed=5) as layout,
        running_edge(
            layout,
            tmp_path_factory.mktemp("budget-edge"),
        ) as edge,
    ):
        yield layout, edge.url, edge.keys["admin"]


def _largest_inference_system() -> dict:
    terms = [
        {"name": f"t{j}", "type": "gbell", "parameters": [5, 2, j * 3]}
        for j in range(inference.MAX_TERMS)
    ]
    inputs = [
        {"name": f"x{i}", "minimum": 0, "maximum": 100, "terms": terms}
        for i in range(inference.MAX_INPUTS)
    ]
    output_terms = [
        {"name": f"o{j}", "type": "triangular", "parameters": [j / 32, (j + 1) / 32, 1]}
        for j in range(inference.MAX_TERMS)
    ]
    rules = [
        f"IF x{i % 16} IS t{i % 32} AND NOT x{(i + 1) % 16} IS t{(i * 7) % 32} "
        f"THEN signal IS o{i % 32}"
        for i in range(inference.MAX_RULES)
    ]
    return {
        "system": {
            "inputs": inputs,
            "output": {
                "name": "signal",
                "minimum": 0,
                "maximum": 1,
                "resolution": inference.MAX_RESOLUTION,
                "terms": output_terms,
            },
            "rules": rules,
        },
        "inputs": {f"x{i}": 50.0 for i in range(inference.MAX_INPUTS)},
    }


def _rest(url: str, key: str) -> None:
    """The REST requests: each the largest the edge and the services accept."""
    start = dt.datetime(2016, 1, 4)
    rows = int(EDGE_BODY_BYTES * 0.9) // 48
    csv = "Date,Open,High,Low,Close,Volume\n" + "\n".join(
        f"{(start + dt.timedelta(minutes=i)).isoformat()},1.1,1.2,1.0,1.15,{i % 1000}"
        for i in range(rows)
    )
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=600) as http:
        assert http.post("/api/v1/fuzzy/infer", json=_largest_inference_system()).status_code == 200
        membership = {
            "values": [float(i % 100) for i in range(MAX_VALUES)],
            "memberships": [
                {"name": f"m{j}", "type": "gaussian", "parameters": [j * 3, 5]}
                for j in range(MAX_MEMBERSHIPS)
            ],
        }
        assert http.post("/api/v1/fuzzy/membership", json=membership).status_code == 200
        whole = http.post("/api/v1/data/load", json={"symbol": LONG, "timeframe": "1m"})
        assert whole.status_code == 400 and whole.json()["details"][0]["code"] == "DATA-022"
        load = http.post(
            "/api/v1/data/load",
            json={"symbol": LONG, "timeframe": "1m", "pageSize": MAX_PAGE["bars"]},
        )
        assert load.status_code == 200, load.text[:300]
        assert len(load.json()["bars"]) == MAX_PAGE["bars"] and load.json()["nextPageToken"]
        with http.stream(
            "POST",
            "/api/v1/data/stream",
            json={"symbol": LONG, "timeframe": "1m", "batchSize": 10_000},
        ) as stream:
            assert stream.status_code == 200
            for _ in stream.iter_bytes():
                pass
        gaps = http.get(f"/api/v1/data/{LONG}/1m/gaps", params={"pageSize": MAX_PAGE["gaps"]})
        assert gaps.status_code == 200, gaps.text[:300]
        export = http.get(f"/api/v1/data/{LONG}/1m/export", params={"pageSize": MAX_PAGE["rows"]})
        assert export.status_code == 200, export.text[:300]
        imported = http.post(
            "/api/v1/data/import",
            json={"symbol": "ZZIMPORT", "timeframe": "1m", "csvContent": csv},
        )
        assert imported.status_code in (200, 400), imported.text[:300]


async def _grpc(layout: mesh.Layout) -> None:
    """The gRPC requests: the long series end to end, up to gRPC's own message limit."""
    source = indicators_pb2.DataSelection(symbol=LONG, timeframe="1m")
    async with grpc.aio.insecure_channel(layout.address("indicators"), options=OPTIONS) as ch:
        reply = await indicators_pb2_grpc.IndicatorServiceStub(ch).CalculateIndicator(
            indicators_pb2.CalculateIndicatorRequest(indicator="rsi", source=source), timeout=600
        )
        assert len(reply.timestamps) == LONG_BARS
    async with grpc.aio.insecure_channel(layout.address("fuzzy"), options=OPTIONS) as ch:
        try:
            await fuzzy_pb2_grpc.FuzzyServiceStub(ch).CalculateFuzzy(
                fuzzy_pb2.CalculateFuzzyRequest(
                    symbol=LONG, timeframe="1m", strategy="rsi_trend_eurusd_1h"
                ),
                timeout=600,
            )
        except grpc.aio.AioRpcError as exc:  # too large for one message, or over its deadline
            assert exc.code() in (
                grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.DEADLINE_EXCEEDED,
            ), exc.details()


def test_largest_allowed_requests_keep_every_service_within_its_memory_budget(
    budget_mesh, record_property
):
    layout, url, key = budget_mesh
    _rest(url, key)
    asyncio.run(_grpc(layout))
    processes = mesh.read_state(layout)["services"]  # the supervisor's record of each
    peaks = {s: _peak_rss(int(processes[s]["pid"])) for s in BUDGET_BYTES}
    mib = {s: p // 2**20 for s, p in peaks.items()}
    record_property("peak_rss_mib", mib)
    over = {s: mib[s] for s, p in peaks.items() if p > BUDGET_BYTES[s]}
    assert not over, f"over budget (MiB): {over}; all peaks (MiB): {mib}"
    assert all(mesh.status(layout)[s] == "SERVING" for s in BUDGET_BYTES)
