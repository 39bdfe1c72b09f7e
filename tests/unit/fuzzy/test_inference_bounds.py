"""Inference systems have documented bounds on everything that sizes work or memory."""

from __future__ import annotations

import copy

import grpc
import numpy as np
import pytest

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_core.errors import ValidationError
from ktrdr_fuzzy.app import SPEC
from ktrdr_fuzzy.domain import inference
from ktrdr_fuzzy.domain.inference import FuzzyInference, build_inference_system
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.testing import serve_in_process

from .test_fuzzy_servicer import STRATEGIES
from .test_inference import CONFIG


def _with(path: tuple[str, ...], value: object) -> dict:
    cfg = copy.deepcopy(CONFIG)
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return cfg


def _rejects(cfg: dict, field: str, *needles: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        build_inference_system(cfg)
    assert info.value.code in ("FUZZY-016", "FUZZY-018"), info.value
    assert info.value.field == field
    for needle in needles:
        assert needle in info.value.message, info.value.message
    return info.value


@pytest.mark.parametrize("resolution", [2_000_000_000, 10_002, 2, -5, 0])
def test_output_resolution_outside_its_range_names_the_field_and_the_range(resolution):
    _rejects(
        _with(("outputs", "signal", "resolution"), resolution),
        "outputs.signal.resolution",
        "3 to 10,001",
    )


def test_the_largest_allowed_resolution_builds_and_infers():
    engine = FuzzyInference(
        build_inference_system(_with(("outputs", "signal", "resolution"), 10_001))
    )
    assert -1 <= engine.infer({"rsi": 20, "trend": 0.4})["signal"] <= 1


def test_too_many_inputs_terms_rules_or_outputs_are_rejected():
    many_inputs = {f"x{i}": CONFIG["inputs"]["rsi"] for i in range(17)}
    _rejects(_with(("inputs",), many_inputs), "inputs", "17 input variables", "at most 16")
    many_terms = {f"t{i}": [0, 50, 100] for i in range(33)}
    _rejects(
        _with(("inputs", "rsi", "terms"), many_terms), "inputs.rsi.terms", "33 terms", "at most 32"
    )
    rules = [CONFIG["rules"][0]] * 513
    _rejects(_with(("rules",), rules), "rules", "513 rules", "at most 512")
    outputs = {f"o{i}": CONFIG["outputs"]["signal"] for i in range(5)}
    _rejects(_with(("outputs",), outputs), "outputs", "at most 4")


def test_deeply_nested_or_overlong_rules_are_syntax_errors_not_crashes():
    deep = "IF " + "(" * 5000 + "rsi IS low" + ")" * 5000 + " THEN signal IS buy"
    _rejects(_with(("rules",), [deep[:1990]]), "rules[0]", "nest at most 16")
    nots = "IF " + "NOT " * 400 + "rsi IS low THEN signal IS buy"
    _rejects(_with(("rules",), [nots]), "rules[0]", "nest at most 16")
    _rejects(_with(("rules",), [deep]), "rules[0]", "at most 2000")
    nested: object = {"rsi": "low"}
    for _ in range(40):
        nested = {"not": nested}
    _rejects(
        _with(("rules",), [{"if": nested, "then": {"signal": "buy"}}]), "rules[0].if" + ".not" * 17
    )


def test_an_input_value_for_an_unknown_variable_is_rejected_with_a_suggestion():
    engine = FuzzyInference(build_inference_system(CONFIG))
    with pytest.raises(ValidationError) as info:
        engine.infer({"rsi": 20, "trend": 0.1, "trnd": 0.5})
    assert (info.value.code, info.value.field) == ("FUZZY-019", "inputs.trnd")
    assert info.value.suggestions == ("trend",)


def test_vectorized_inference_chunks_stay_within_the_memory_budget():
    cfg = _with(("outputs", "signal", "resolution"), inference.MAX_RESOLUTION)
    cfg["outputs"]["signal"]["terms"] = {
        f"t{i}": [-1 + i / 16, -1 + (i + 1) / 16, 1] for i in range(32)
    }
    cfg["rules"] = [f"IF rsi IS low THEN signal IS t{i}" for i in range(32)]
    engine = FuzzyInference(build_inference_system(cfg))
    rows = engine._rows_per_chunk()
    per_row = 32 * inference.MAX_RESOLUTION * 8
    assert rows >= 1 and rows * per_row <= inference.CHUNK_BUDGET_BYTES
    rsi = np.array([5.0, 20.0, 40.0] * 30)
    many = engine.infer_many({"rsi": rsi, "trend": np.zeros_like(rsi)})["signal"]
    one = [engine.infer({"rsi": r, "trend": 0.0})["signal"] for r in rsi[:3]]
    np.testing.assert_allclose(many[:3], one, rtol=1e-12)


async def test_calculate_with_reversed_dates_is_rejected_like_data_and_indicators(tmp_path):
    async with serve_in_process(
        SPEC, home=tmp_path, strategies_dir=STRATEGIES, indicators_address="127.0.0.1:1"
    ) as (_, channel):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await fuzzy_pb2_grpc.FuzzyServiceStub(channel).CalculateFuzzy(
                fuzzy_pb2.CalculateFuzzyRequest(
                    symbol="EURUSD",
                    strategy="rsi_trend_eurusd_1h",
                    start_date="2017-06-02",
                    end_date="2017-06-01",
                ),
                timeout=20,
            )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_detail_of(info.value).field == "start_date"


@pytest.mark.parametrize(
    ("values", "memberships", "field"),
    [(50_001, 1, "values"), (10, 33, "memberships")],
)
async def test_membership_requests_have_bounded_values_and_functions(
    tmp_path, values, memberships, field
):
    functions = [
        fuzzy_pb2.MembershipFunction(name=f"m{i}", type="triangular", parameters=[0, 1, 2])
        for i in range(33)
    ]
    request = fuzzy_pb2.EvaluateMembershipRequest(
        values=[1.0] * values, memberships=functions[:memberships]
    )
    async with serve_in_process(
        SPEC, home=tmp_path, strategies_dir=STRATEGIES, indicators_address="127.0.0.1:1"
    ) as (_, channel):
        stub = fuzzy_pb2_grpc.FuzzyServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.EvaluateMembership(request)
        largest = fuzzy_pb2.EvaluateMembershipRequest(
            values=[1.0] * 50_000, memberships=functions[:32]
        )
        reply = await stub.EvaluateMembership(largest)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (error_detail_of(info.value).code, error_detail_of(info.value).field) == (
        "FUZZY-028",
        field,
    )
    assert len(reply.memberships) == 32 and len(reply.memberships[0].degrees) == 50_000
