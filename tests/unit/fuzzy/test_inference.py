"""Rule inference: skfuzzy ControlSystemSimulation (and fuzz.* primitives) as the reference."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import skfuzzy as fuzz
from hypothesis import given, settings
from hypothesis import strategies as st
from skfuzzy import control as ctrl

from ktrdr_core.errors import ValidationError
from ktrdr_fuzzy.domain.inference import (
    And,
    FuzzyInference,
    Is,
    Not,
    Or,
    build_inference_system,
    parse_rule,
)

IN_TERMS = {
    "rsi": {"low": [0, 0, 50], "mid": [25, 50, 75], "high": [50, 100, 100]},
    "trend": {"down": [-1, -1, 0], "flat": [-0.5, 0, 0.5], "up": [0, 1, 1]},
}
OUT_TERMS = {"sell": [-1, -1, 0], "hold": [-0.5, 0, 0.5], "buy": [0, 1, 1]}
RULES = [
    "IF rsi IS low AND trend IS up THEN signal IS buy",
    "IF rsi IS high OR trend IS down THEN signal IS sell WITH 0.7",
    "IF rsi IS mid AND NOT trend IS down THEN signal IS hold",
    {"if": {"and": [{"rsi": "low"}, {"trend": "flat"}]}, "then": {"signal": "buy"}, "weight": 0.5},
]
CONFIG = {
    "type": "mamdani",
    "inputs": {
        "rsi": {"universe": [0, 100], "terms": IN_TERMS["rsi"]},
        "trend": {"universe": [-1, 1], "terms": IN_TERMS["trend"]},
    },
    "outputs": {"signal": {"universe": [-1, 1], "resolution": 201, "terms": OUT_TERMS}},
    "rules": RULES,
}
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:skfuzzy.*")

POINTS = [(20, 0.4), (35, 0.6), (60, -0.3), (80, 0.1), (50, 0.0), (10, 0.9), (95, -0.8)]
OUT_X = np.linspace(-1, 1, 201)


def skfuzzy_sim(method: str) -> ctrl.ControlSystemSimulation:
    rsi = ctrl.Antecedent(np.linspace(0, 100, 1001), "rsi")
    trend = ctrl.Antecedent(np.linspace(-1, 1, 201), "trend")
    sig = ctrl.Consequent(OUT_X, "signal", defuzzify_method=method)
    for var, terms in ((rsi, IN_TERMS["rsi"]), (trend, IN_TERMS["trend"]), (sig, OUT_TERMS)):
        for k, p in terms.items():
            var[k] = fuzz.trimf(var.universe, p)
    rules = [
        ctrl.Rule(rsi["low"] & trend["up"], sig["buy"]),
        ctrl.Rule(rsi["high"] | trend["down"], sig["sell"] % 0.7),
        ctrl.Rule(rsi["mid"] & ~trend["down"], sig["hold"]),
        ctrl.Rule(rsi["low"] & trend["flat"], sig["buy"] % 0.5),
    ]
    return ctrl.ControlSystemSimulation(ctrl.ControlSystem(rules))


@pytest.mark.parametrize(
    ("method", "tol"),
    # som/lom/mom pick samples of the maximum: skfuzzy adds the exact cut crossings to its
    # universe, we keep the 201-point grid, so they agree to one grid step (0.01).
    # centroid/bisector: skfuzzy also inserts the cut crossings, we integrate the grid exactly;
    # the kinks between grid points cost O(step^2) (~1e-6 here).
    [("centroid", 1e-4), ("bisector", 1e-4), ("mom", 0.01), ("som", 0.0101), ("lom", 0.0101)],
)
def test_mamdani_min_max_matches_skfuzzy_control_system(method, tol):
    sim = skfuzzy_sim(method)
    engine = FuzzyInference(build_inference_system({**CONFIG, "defuzzification": method}))
    for r, t in POINTS:
        sim.input["rsi"] = r
        sim.input["trend"] = t
        sim.compute()
        assert engine.infer({"rsi": r, "trend": t})["signal"] == pytest.approx(
            sim.output["signal"], abs=tol
        ), (r, t)


def test_product_and_probor_match_skfuzzy_rule_functions():
    sim = skfuzzy_sim("centroid")
    for rule in sim.ctrl.rules:
        rule.and_func = np.multiply
        rule.or_func = lambda a, b: a + b - a * b
    engine = FuzzyInference(build_inference_system({**CONFIG, "and": "product", "or": "probor"}))
    for r, t in POINTS:
        sim.input["rsi"] = r
        sim.input["trend"] = t
        sim.compute()
        assert engine.infer({"rsi": r, "trend": t})["signal"] == pytest.approx(
            sim.output["signal"],
            abs=1e-4,  # cut crossings between grid points, see above
        )


def _hand_firing(r: float, t: float) -> list[float]:
    mu = {
        (v, k): float(fuzz.trimf(np.array([x]), p)[0])
        for v, x in (("rsi", r), ("trend", t))
        for k, p in IN_TERMS[v].items()
    }
    return [
        mu["rsi", "low"] * mu["trend", "up"],
        mu["rsi", "high"] + mu["trend", "down"] - mu["rsi", "high"] * mu["trend", "down"],
        mu["rsi", "mid"] * (1 - mu["trend", "down"]),
        mu["rsi", "low"] * mu["trend", "flat"],
    ]


@pytest.mark.parametrize("method", ["centroid", "bisector", "mom"])
def test_product_implication_matches_hand_reference_built_from_skfuzzy_primitives(method):
    engine = FuzzyInference(
        build_inference_system(
            {
                **CONFIG,
                "and": "product",
                "or": "probor",
                "implication": "product",
                "defuzzification": method,
            }
        )
    )
    mfs = {k: fuzz.trimf(OUT_X, p) for k, p in OUT_TERMS.items()}
    for r, t in POINTS:
        f = _hand_firing(r, t)
        act = {"buy": max(f[0], 0.5 * f[3]), "sell": 0.7 * f[1], "hold": f[2]}
        agg = np.max([act[k] * mfs[k] for k in mfs], axis=0)
        ref = fuzz.defuzz(OUT_X, agg, method)
        assert engine.infer({"rsi": r, "trend": t})["signal"] == pytest.approx(ref, abs=1e-9)


def test_sugeno_zero_and_first_order_weighted_average():
    cfg = copy.deepcopy(CONFIG)
    cfg["type"] = "sugeno"
    cfg["and"], cfg["or"] = "product", "probor"
    cfg["outputs"] = {
        "signal": {
            "terms": {
                "buy": 1.0,
                "hold": {"constant": 0.0},
                "sell": {"constant": -0.5, "coefficients": {"rsi": -0.01, "trend": 0.2}},
            }
        }
    }
    engine = FuzzyInference(build_inference_system(cfg))
    for r, t in POINTS:
        f = _hand_firing(r, t)
        w = [f[0], 0.7 * f[1], f[2], 0.5 * f[3]]
        z = [1.0, -0.5 - 0.01 * r + 0.2 * t, 0.0, 1.0]
        ref = sum(a * b for a, b in zip(w, z, strict=True)) / sum(w)
        assert engine.infer({"rsi": r, "trend": t})["signal"] == pytest.approx(ref, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(st.tuples(st.floats(0, 100), st.floats(-1, 1)), min_size=1, max_size=30),
    method=st.sampled_from(["centroid", "bisector", "mom", "som", "lom"]),
    kind=st.sampled_from(["mamdani", "sugeno"]),
)
def test_vectorized_inference_equals_row_by_row(rows, method, kind):
    cfg = {**CONFIG, "defuzzification": method}
    if kind == "sugeno":
        cfg = {
            **cfg,
            "type": "sugeno",
            "outputs": {
                "signal": {
                    "terms": {
                        "buy": 1.0,
                        "hold": 0.0,
                        "sell": {"constant": -1, "coefficients": {"rsi": 0.001}},
                    }
                }
            },
        }
    engine = FuzzyInference(build_inference_system(cfg), chunk=7)
    arr = np.array(rows)
    many = engine.infer_many({"rsi": arr[:, 0], "trend": arr[:, 1]})["signal"]
    one = [engine.infer({"rsi": r, "trend": t})["signal"] for r, t in rows]
    np.testing.assert_allclose(many, one, atol=1e-12, equal_nan=True)


def test_nan_input_and_no_firing_rule_give_nan():
    engine = FuzzyInference(
        build_inference_system(
            {**CONFIG, "rules": ["IF rsi IS low AND trend IS up THEN signal IS buy"]}
        )
    )
    assert math.isnan(engine.infer({"rsi": math.nan, "trend": 0.5})["signal"])
    assert math.isnan(engine.infer({"rsi": 90.0, "trend": -0.9})["signal"])
    out = engine.infer_many({"rsi": [np.nan, 90.0, 10.0], "trend": [0.5, -0.9, 0.9]})["signal"]
    assert np.isnan(out[:2]).all() and out[2] > 0


def test_rule_text_parses_precedence_not_and_parentheses():
    r = parse_rule("if a is x or b is y and not (c is z or d is not w) then o is p with 0.25")
    assert r.antecedent == Or(
        (Is("a", "x"), And((Is("b", "y"), Not(Or((Is("c", "z"), Not(Is("d", "w"))))))))
    )
    assert (r.output, r.term, r.weight) == ("o", "p", 0.25)


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("IF rsi IS low THEN", "FUZZY-016"),
        ("rsi IS low THEN signal IS buy", "FUZZY-016"),
        ("IF (rsi IS low THEN signal IS buy", "FUZZY-016"),
        ("IF rsi IS low THEN signal IS buy WITH 2", "FUZZY-018"),
        ("IF rsi IS low AND trend IS upp THEN signal IS buy", "FUZZY-017"),
        ("IF rssi IS low THEN signal IS buy", "FUZZY-017"),
        ("IF rsi IS low THEN signal IS buyy", "FUZZY-017"),
        ("IF rsi IS low THEN signl IS buy", "FUZZY-017"),
    ],
)
def test_bad_rules_are_rejected(rule, code):
    with pytest.raises(ValidationError) as exc:
        build_inference_system({**CONFIG, "rules": [rule]})
    assert exc.value.code == code


def test_unknown_term_error_suggests_the_close_term():
    with pytest.raises(ValidationError) as exc:
        build_inference_system({**CONFIG, "rules": ["IF trend IS upp THEN signal IS buy"]})
    assert exc.value.suggestions == ("up",) and exc.value.field == "rules[0].trend.upp"


def test_bad_method_names_are_rejected_with_suggestions():
    with pytest.raises(ValidationError) as exc:
        build_inference_system({**CONFIG, "defuzzification": "centriod"})
    assert exc.value.code == "FUZZY-018" and "centroid" in exc.value.suggestions
    with pytest.raises(ValidationError) as exc:
        build_inference_system({**CONFIG, "rulez": []})
    assert exc.value.code == "FUZZY-006"
