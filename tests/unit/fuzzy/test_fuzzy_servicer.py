"""The fuzzy service over gRPC, in-process, checked against scikit-fuzzy."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
import pytest
import skfuzzy as fuzz
from skfuzzy import control as ctrl

from ktrdr.common.v1 import common_pb2
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_fuzzy import convert
from ktrdr_fuzzy.app import SPEC
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_runtime.bars import value_columns_to_arrays
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.testing import serve_in_process

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
MF = fuzzy_pb2.MembershipFunction


@pytest.fixture
async def fuzzy(tmp_path):
    # Strategies are validated by the indicator service's catalogue (no data service needed).
    async with (
        serve_in_process(INDICATORS, home=tmp_path, data_address="127.0.0.1:1") as (ind, _),
        serve_in_process(
            SPEC, home=tmp_path, strategies_dir=STRATEGIES, indicators_address=ind.address
        ) as (_, channel),
    ):
        yield fuzzy_pb2_grpc.FuzzyServiceStub(channel)


async def test_evaluate_adhoc_memberships_matches_skfuzzy(fuzzy):
    x = np.linspace(-10, 110, 241)
    reply = await fuzzy.EvaluateMembership(
        fuzzy_pb2.EvaluateMembershipRequest(
            memberships=[
                MF(name="low", type="triangular", parameters=[0, 30, 40]),
                MF(name="mid", type="trapezoidal", parameters=[30, 45, 55, 70]),
                MF(name="high", type="gaussian", parameters=[70, 15]),
            ],
            values=x.tolist(),
        )
    )
    got = {m.name: np.array(m.degrees) for m in reply.memberships}
    np.testing.assert_allclose(got["low"], fuzz.trimf(x, [0, 30, 40]), atol=1e-12)
    np.testing.assert_allclose(got["mid"], fuzz.trapmf(x, [30, 45, 55, 70]), atol=1e-12)
    np.testing.assert_allclose(got["high"], fuzz.gaussmf(x, 70, 15), atol=1e-12)


async def test_shoulder_has_no_dead_zone_and_nan_stays_nan(fuzzy):
    reply = await fuzzy.EvaluateMembership(
        fuzzy_pb2.EvaluateMembershipRequest(
            memberships=[
                MF(name="oversold", type="triangular", parameters=[0, 30, 40], shoulder="left")
            ],
            values=[-50.0, 0.0, 30.0, 35.0, 40.0, float("nan")],
        )
    )
    degrees = reply.memberships[0].degrees
    assert degrees[:5] == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.0])
    assert np.isnan(degrees[5])


async def test_evaluate_a_strategy_set(fuzzy):
    # strategies/rsi_trend_eurusd_1h.yaml, set rsi_14: oversold [0, 25, 40] left shoulder,
    # neutral [30, 50, 70], overbought [60, 75, 100] right shoulder (shoulders as trapezoids)
    x = np.array([10.0, 25.0, 35.0, 50.0, 65.0, 80.0, 99.0])
    reply = await fuzzy.EvaluateMembership(
        fuzzy_pb2.EvaluateMembershipRequest(
            strategy="rsi_trend_eurusd_1h", fuzzy_set="rsi_14", values=x.tolist()
        )
    )
    got = {m.name: np.array(m.degrees) for m in reply.memberships}
    assert list(got) == ["oversold", "neutral", "overbought"]
    np.testing.assert_allclose(got["oversold"], fuzz.trapmf(x, [-1, -1, 25, 40]), atol=1e-12)
    np.testing.assert_allclose(got["neutral"], fuzz.trimf(x, [30, 50, 70]), atol=1e-12)
    np.testing.assert_allclose(got["overbought"], fuzz.trapmf(x, [60, 75, 101, 101]), atol=1e-12)


async def test_malformed_membership_names_set_membership_and_parameter(fuzzy):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await fuzzy.EvaluateMembership(
            fuzzy_pb2.EvaluateMembershipRequest(
                memberships=[MF(name="low", type="triangular", parameters=[0, 40, 30])],
                values=[1.0],
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(info.value)
    assert detail.code.startswith("FUZZY-")
    assert "low" in detail.field and "parameters" in detail.field


async def test_misspelt_type_is_rejected_with_suggestion(fuzzy):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await fuzzy.EvaluateMembership(
            fuzzy_pb2.EvaluateMembershipRequest(
                memberships=[MF(name="low", type="triangle", parameters=[0, 30, 40])], values=[1.0]
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "triangular" in error_detail_of(info.value).suggestions


async def test_unknown_strategy_is_not_found_with_suggestion(fuzzy):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await fuzzy.ListFuzzySets(fuzzy_pb2.ListFuzzySetsRequest(strategy="rsi_trend_eurusd"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "rsi_trend_eurusd_1h" in error_detail_of(info.value).suggestions


async def test_lists_sets_per_strategy_and_per_symbol(fuzzy):
    listed = await fuzzy.ListFuzzySets(fuzzy_pb2.ListFuzzySetsRequest())
    assert {s.strategy for s in listed.fuzzy_sets} == {
        "rsi_trend_eurusd_1h",
        "mtf_trend_follow_1h_4h_1d",
        "goog_daily_raw_inputs",
    }
    for_goog = await fuzzy.GetFuzzySets(fuzzy_pb2.GetFuzzySetsRequest(symbol="GOOG"))
    assert list(for_goog.strategies) == ["goog_daily_raw_inputs"]
    assert {s.id for s in for_goog.fuzzy_sets} == {"rsi_14", "macd_momentum"}
    for_eur = await fuzzy.GetFuzzySets(fuzzy_pb2.GetFuzzySetsRequest(symbol="EURUSD"))
    assert set(for_eur.strategies) == {"rsi_trend_eurusd_1h", "mtf_trend_follow_1h_4h_1d"}


def _skfuzzy_tipping(service: float, food: float) -> float:
    universe = np.linspace(0, 10, 1001)
    s = ctrl.Antecedent(universe, "service")
    f = ctrl.Antecedent(universe, "food")
    tip = ctrl.Consequent(np.linspace(0, 25, 1001), "tip")
    s["poor"] = fuzz.trimf(s.universe, [0, 0, 5])
    s["good"] = fuzz.trimf(s.universe, [0, 5, 10])
    s["great"] = fuzz.trimf(s.universe, [5, 10, 10])
    f["bad"] = fuzz.trapmf(f.universe, [0, 0, 2, 6])
    f["tasty"] = fuzz.trapmf(f.universe, [4, 8, 10, 10])
    tip["low"] = fuzz.trimf(tip.universe, [0, 0, 13])
    tip["medium"] = fuzz.trimf(tip.universe, [0, 13, 25])
    tip["high"] = fuzz.trimf(tip.universe, [13, 25, 25])
    system = ctrl.ControlSystem(
        [
            ctrl.Rule(s["poor"] | f["bad"], tip["low"]),
            ctrl.Rule(s["good"], tip["medium"]),
            ctrl.Rule(s["great"] & f["tasty"], tip["high"]),
        ]
    )
    sim = ctrl.ControlSystemSimulation(system)
    sim.input["service"] = service
    sim.input["food"] = food
    sim.compute()
    return float(sim.output["tip"])


TIPPING = fuzzy_pb2.RuleSystem(
    inputs=[
        fuzzy_pb2.LinguisticVariable(
            name="service",
            minimum=0,
            maximum=10,
            terms=[
                MF(name="poor", type="triangular", parameters=[0, 0, 5]),
                MF(name="good", type="triangular", parameters=[0, 5, 10]),
                MF(name="great", type="triangular", parameters=[5, 10, 10]),
            ],
        ),
        fuzzy_pb2.LinguisticVariable(
            name="food",
            minimum=0,
            maximum=10,
            terms=[
                MF(name="bad", type="trapezoidal", parameters=[0, 0, 2, 6]),
                MF(name="tasty", type="trapezoidal", parameters=[4, 8, 10, 10]),
            ],
        ),
    ],
    output=fuzzy_pb2.LinguisticVariable(
        name="tip",
        minimum=0,
        maximum=25,
        resolution=1001,
        terms=[
            MF(name="low", type="triangular", parameters=[0, 0, 13]),
            MF(name="medium", type="triangular", parameters=[0, 13, 25]),
            MF(name="high", type="triangular", parameters=[13, 25, 25]),
        ],
    ),
    rules=[
        "IF service IS poor OR food IS bad THEN tip IS low",
        "IF service IS good THEN tip IS medium",
        "IF service IS great AND food IS tasty THEN tip IS high",
    ],
    method=fuzzy_pb2.INFERENCE_METHOD_MAMDANI,
    defuzzification=fuzzy_pb2.DEFUZZIFICATION_CENTROID,
)


@pytest.mark.parametrize(("service", "food"), [(6.5, 9.8), (1.0, 3.0), (9.5, 9.0), (5.0, 5.0)])
async def test_mamdani_inference_matches_skfuzzy(fuzzy, service, food):
    reply = await fuzzy.Infer(
        fuzzy_pb2.InferRequest(system=TIPPING, inputs={"service": service, "food": food})
    )
    assert reply.output == pytest.approx(_skfuzzy_tipping(service, food), abs=1e-3)
    assert len(reply.activations) == 3


async def test_infer_with_a_missing_input_names_it(fuzzy):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await fuzzy.Infer(fuzzy_pb2.InferRequest(system=TIPPING, inputs={"service": 1.0}))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(info.value).field == "inputs.food"


async def test_stream_gives_one_row_per_bar_in_order_equal_to_batch(fuzzy):
    sets = [
        fuzzy_pb2.FuzzySet(
            id="rsi",
            indicator="rsi_14",
            memberships=[
                MF(name="low", type="triangular", parameters=[0, 30, 50], shoulder="left"),
                MF(name="high", type="triangular", parameters=[50, 70, 100], shoulder="right"),
            ],
        )
    ]
    rng = np.random.default_rng(7)
    batches = [rng.uniform(0, 100, size=n) for n in (1, 17, 300)]
    batches[1][3] = np.nan

    async def requests():
        yield fuzzy_pb2.StreamFuzzyRequest(
            config=fuzzy_pb2.StreamFuzzyConfig(fuzzy_sets=sets, timeframe="1h")
        )
        start = 0
        for b in batches:
            ts = list(range(start, start + len(b)))
            start += len(b)
            yield fuzzy_pb2.StreamFuzzyRequest(
                values=fuzzy_pb2.IndicatorValues(
                    timestamps_us=ts,
                    columns=[common_pb2.ValueColumn(name="rsi_14", values=b.tolist())],
                )
            )

    replies = [r async for r in fuzzy.StreamFuzzy(requests())]
    assert [len(r.timestamps_us) for r in replies] == [1, 17, 300]
    low = np.concatenate(
        [value_columns_to_arrays(r.columns, len(r.timestamps_us))["1h_rsi_low"] for r in replies]
    )
    x = np.concatenate(batches)
    expected = np.where(x <= 30, 1.0, fuzz.trimf(np.nan_to_num(x), [0, 30, 50]))
    expected[np.isnan(x)] = np.nan
    np.testing.assert_allclose(low, expected, atol=1e-12)
    assert [t for r in replies for t in r.timestamps_us] == list(range(318))


async def test_stream_without_config_first_is_rejected(fuzzy):
    async def requests():
        yield fuzzy_pb2.StreamFuzzyRequest(values=fuzzy_pb2.IndicatorValues(timestamps_us=[1]))

    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in fuzzy.StreamFuzzy(requests()):
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(info.value).field == "config"


async def test_calculate_with_indicator_service_down_is_unavailable_naming_it(tmp_path):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async with serve_in_process(
            SPEC, home=tmp_path, strategies_dir=STRATEGIES, indicators_address="127.0.0.1:1"
        ) as (_, channel):
            await fuzzy_pb2_grpc.FuzzyServiceStub(channel).CalculateFuzzy(
                fuzzy_pb2.CalculateFuzzyRequest(
                    symbol="EURUSD", timeframe="1h", strategy="rsi_trend_eurusd_1h"
                ),
                timeout=20,
            )
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "indicators" in info.value.details()


async def test_a_second_config_in_a_stream_is_rejected(fuzzy):
    config = fuzzy_pb2.StreamFuzzyConfig(strategy="rsi_trend_eurusd_1h")

    async def requests():
        yield fuzzy_pb2.StreamFuzzyRequest(config=config)
        yield fuzzy_pb2.StreamFuzzyRequest(config=config)

    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in fuzzy.StreamFuzzy(requests()):
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Only the first message" in info.value.details()


async def test_more_set_ids_than_allowed_are_invalid_argument_asking_no_dependency(fuzzy):
    # The data service is down: a request that reached it would be UNAVAILABLE.
    request = fuzzy_pb2.CalculateFuzzyRequest(
        symbol="EURUSD",
        strategy="rsi_trend_eurusd_1h",
        fuzzy_sets=["rsi_14"] * (convert.MAX_SETS + 1),
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await fuzzy.CalculateFuzzy(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    detail = error_detail_of(info.value)
    assert (detail.code, detail.field) == ("FUZZY-028", "fuzzy_sets")
    assert f"at most {convert.MAX_SETS}" in info.value.details()
