"""The sync and async REST clients offer the same operations and read real answers."""

from __future__ import annotations

import inspect
import math

import pytest

from ktrdr_client import AsyncKtrdrClient, KtrdrClient
from ktrdr_client.client import _Operations

pytestmark = pytest.mark.integration

OPERATIONS = sorted(
    name
    for name, fn in vars(_Operations).items()
    if inspect.isfunction(fn) and not name.startswith("_")
)


INFER_SYSTEM = {
    "inputs": [
        {
            "name": "rsi",
            "minimum": 0,
            "maximum": 100,
            "terms": [{"name": "low", "type": "triangular", "parameters": [0, 0, 50]}],
        }
    ],
    "output": {
        "name": "signal",
        "minimum": -1,
        "maximum": 1,
        "terms": [{"name": "buy", "type": "triangular", "parameters": [0, 1, 1]}],
    },
    "rules": ["IF rsi IS low THEN signal IS buy"],
    "method": "INFERENCE_METHOD_MAMDANI",
}


def _url(layout) -> str:
    return f"http://127.0.0.1:{layout.extra_port(0, 8080)}"


def _exercise_sync(client: KtrdrClient) -> dict[str, object]:
    out: dict[str, object] = {
        "timeframes": [t.code for t in client.timeframes()],
        "symbols": sorted(s.symbol for s in client.symbols()),
        "load": len(client.load_data("EURUSD", "1h", start="2017-06-01", end="2017-06-02").bars),
        "stream": sum(
            len(b["close"])
            for b in client.stream_bars(
                "EURUSD", "1h", start="2017-06-01", end="2017-06-02", batch_size=5
            )
        ),
        "rsi": client.indicator_info("rsi").name,
        "sma": client.calculate_indicator(
            "sma",
            symbol="EURUSD",
            timeframe="1h",
            start="2017-06-01",
            end="2017-06-02",
            parameters={"period": 3},
        )
        .columns[0]
        .values[-1],
        "membership": [
            m.name
            for m in client.fuzzy_membership(
                [10.0],
                memberships=[{"name": "low", "type": "triangular", "parameters": [0, 10, 20]}],
            )
        ],
        "fuzzy": len(
            client.fuzzy_calculate(
                "EURUSD", strategy="rsi_trend_eurusd_1h", start="2017-06-01", end="2017-06-02"
            ).columns
        ),
    }
    out |= {
        "info": client.data_info("EURUSD", "1h").series.bar_count,
        "export": client.export_bars(
            "EURUSD", "1h", start="2017-06-01", end="2017-06-02"
        ).bar_count,
        "gaps": client.analyze_gaps(
            "EURUSD", "1h", start="2017-06-01", end="2017-07-01", include_expected=True
        ).gap_count,
        "sets": len(client.fuzzy_sets(strategy="rsi_trend_eurusd_1h")),
        "infer": client.infer(INFER_SYSTEM, {"rsi": 20}).output,
    }
    out["strategies"] = sorted(s.strategy_id for s in client.strategies())
    return out


async def _exercise_async(client: AsyncKtrdrClient) -> dict[str, object]:
    bars = 0
    async for batch in client.stream_bars(
        "EURUSD", "1h", start="2017-06-01", end="2017-06-02", batch_size=5
    ):
        bars += len(batch["close"])
    out: dict[str, object] = {
        "timeframes": [t.code for t in await client.timeframes()],
        "symbols": sorted(s.symbol for s in await client.symbols()),
        "load": len(
            (await client.load_data("EURUSD", "1h", start="2017-06-01", end="2017-06-02")).bars
        ),
        "stream": bars,
        "rsi": (await client.indicator_info("rsi")).name,
        "sma": (
            await client.calculate_indicator(
                "sma",
                symbol="EURUSD",
                timeframe="1h",
                start="2017-06-01",
                end="2017-06-02",
                parameters={"period": 3},
            )
        )
        .columns[0]
        .values[-1],
        "membership": [
            m.name
            for m in await client.fuzzy_membership(
                [10.0],
                memberships=[{"name": "low", "type": "triangular", "parameters": [0, 10, 20]}],
            )
        ],
        "fuzzy": len(
            (
                await client.fuzzy_calculate(
                    "EURUSD", strategy="rsi_trend_eurusd_1h", start="2017-06-01", end="2017-06-02"
                )
            ).columns
        ),
    }
    out |= {
        "info": (await client.data_info("EURUSD", "1h")).series.bar_count,
        "export": (
            await client.export_bars("EURUSD", "1h", start="2017-06-01", end="2017-06-02")
        ).bar_count,
        "gaps": (
            await client.analyze_gaps(
                "EURUSD", "1h", start="2017-06-01", end="2017-07-01", include_expected=True
            )
        ).gap_count,
        "sets": len(await client.fuzzy_sets(strategy="rsi_trend_eurusd_1h")),
        "infer": (await client.infer(INFER_SYSTEM, {"rsi": 20})).output,
    }
    out["strategies"] = sorted(s.strategy_id for s in await client.strategies())
    return out


async def test_sync_and_async_clients_have_the_same_operations_and_answers(mesh_layout):
    assert {"calculate_indicator", "fuzzy_calculate", "run_backtest", "train_model"} <= set(
        OPERATIONS
    )
    for name in OPERATIONS:
        assert callable(getattr(KtrdrClient, name)) and callable(getattr(AsyncKtrdrClient, name))
    with KtrdrClient(_url(mesh_layout), home=mesh_layout.home) as client:
        sync = _exercise_sync(client)
    async with AsyncKtrdrClient(_url(mesh_layout), home=mesh_layout.home) as client:
        asynchronous = await _exercise_async(client)
    assert sync == asynchronous
    # Other tests of the session import series of their own: the bundled ones are there.
    assert {"EURUSD", "GOOG"} <= set(sync["symbols"])
    assert sync["info"] == 5000 and sync["export"] == 24 and sync["gaps"] >= 1
    assert sync["sets"] == 3 and sync["infer"] > 0
    assert sync["load"] == sync["stream"] == 24
    assert sync["fuzzy"] == 9 and sync["membership"] == ["low"]
    assert {"rsi_trend_eurusd_1h", "mtf_trend_follow_1h_4h_1d"} <= set(sync["strategies"])
    assert isinstance(sync["sma"], float) and not math.isnan(sync["sma"])
