"""Membership functions: skfuzzy as reference, exact breakpoints, scalar == vectorized."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skfuzzy as fuzz
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.membership import MF_TYPES, make_membership, row_evaluator

GRID = np.linspace(-50.0, 150.0, 20001)


@pytest.mark.parametrize(
    ("params", "ref"),
    [
        ([0, 30, 40], lambda x: fuzz.trimf(x, [0, 30, 40])),
        ([30, 30, 40], lambda x: fuzz.trimf(x, [30, 30, 40])),
        ([0, 40, 40], lambda x: fuzz.trimf(x, [0, 40, 40])),
        ([-10.5, 0.25, 99.75], lambda x: fuzz.trimf(x, [-10.5, 0.25, 99.75])),
    ],
)
def test_triangular_matches_skfuzzy_trimf(params, ref):
    np.testing.assert_allclose(make_membership("triangular", params)(GRID), ref(GRID), atol=1e-12)


@pytest.mark.parametrize("params", [[0, 10, 20, 40], [0, 0, 20, 40], [0, 10, 40, 40], [5, 5, 5, 9]])
def test_trapezoidal_matches_skfuzzy_trapmf(params):
    np.testing.assert_allclose(
        make_membership("trapezoidal", params)(GRID), fuzz.trapmf(GRID, params), atol=1e-12
    )


@pytest.mark.parametrize(("mu", "sigma"), [(50, 10), (0, 0.5), (120, 40)])
def test_gaussian_matches_skfuzzy_gaussmf(mu, sigma):
    np.testing.assert_allclose(
        make_membership("gaussian", [mu, sigma])(GRID), fuzz.gaussmf(GRID, mu, sigma), atol=1e-12
    )


@pytest.mark.parametrize(("slope", "center"), [(0.3, 50), (-2.0, 10), (0.05, 0)])
def test_sigmoid_matches_skfuzzy_sigmf_slope_first(slope, center):
    with np.errstate(over="ignore"):
        ref = fuzz.sigmf(GRID, center, slope)
    np.testing.assert_allclose(make_membership("sigmoid", [slope, center])(GRID), ref, atol=1e-12)


@pytest.mark.parametrize(("a", "b", "c"), [(10, 2.5, 50), (1, 0.5, 0), (30, 4, 100)])
def test_gbell_matches_skfuzzy_gbellmf(a, b, c):
    np.testing.assert_allclose(
        make_membership("gbell", [a, b, c])(GRID), fuzz.gbellmf(GRID, a, b, c), atol=1e-12
    )


def test_triangular_breakpoints_have_defined_values():
    mf = make_membership("triangular", [0, 30, 40])
    assert [mf.value(v) for v in (0.0, 30.0, 40.0)] == [0.0, 1.0, 0.0]
    assert mf(np.array([0.0, 30.0, 40.0])).tolist() == [0.0, 1.0, 0.0]
    assert mf.value(15.0) == 0.5 and mf.value(35.0) == 0.5


def test_trapezoidal_breakpoints_have_defined_values():
    mf = make_membership("trapezoidal", [0, 10, 20, 40])
    assert mf(np.array([0.0, 10.0, 20.0, 40.0, 30.0])).tolist() == [0.0, 1.0, 1.0, 0.0, 0.5]


def test_left_shoulder_is_one_up_to_b_and_beyond_the_outer_set():
    mf = make_membership("triangular", [0, 30, 40], "left")
    xs = np.array([-1e9, -5.0, 0.0, 30.0, 35.0, 40.0, 41.0])
    assert mf(xs).tolist() == [1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    assert mf.value(30.0) == 1.0


def test_right_shoulder_is_one_from_b_onwards():
    mf = make_membership("triangular", [60, 70, 100], "right")
    xs = np.array([50.0, 60.0, 65.0, 70.0, 100.0, 250.0, np.inf])
    assert mf(xs).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0]


def test_trapezoidal_and_gaussian_shoulders():
    left = make_membership("trapezoidal", [0, 10, 20, 40], "left")
    assert left(np.array([-100.0, 15.0, 20.0, 30.0])).tolist() == [1.0, 1.0, 1.0, 0.5]
    right = make_membership("gaussian", [50, 10], "right")
    assert right.value(50.0) == 1.0 and right.value(1e6) == 1.0
    assert right.value(40.0) == pytest.approx(math.exp(-0.5))
    gl = make_membership("gaussian", [50, 10], "left")
    assert gl.value(-1e6) == 1.0 and gl.value(60.0) == pytest.approx(math.exp(-0.5))


def test_degenerate_vertical_edges():
    left_edge = make_membership("triangular", [30, 30, 40])
    assert left_edge(np.array([29.999, 30.0, 35.0])).tolist() == [0.0, 1.0, 0.5]
    spike = make_membership("triangular", [30, 30, 30])
    assert spike(np.array([29.0, 30.0, 31.0])).tolist() == [0.0, 1.0, 0.0]
    rect = make_membership("trapezoidal", [5, 5, 9, 9])
    assert rect(np.array([4.9, 5.0, 7.0, 9.0, 9.1])).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


ALL_MFS = [
    ("triangular", [0, 30, 40], None),
    ("triangular", [0, 30, 40], "left"),
    ("triangular", [60, 70, 100], "right"),
    ("triangular", [30, 30, 40], None),
    ("triangular", [30, 30, 30], None),
    ("trapezoidal", [0, 10, 20, 40], None),
    ("trapezoidal", [5, 5, 9, 9], None),
    ("trapezoidal", [0, 10, 20, 40], "right"),
    ("gaussian", [50, 10], None),
    ("gaussian", [50, 10], "left"),
    ("sigmoid", [0.3, 50], None),
    ("sigmoid", [-3.0, 10], None),
    ("gbell", [10, 2.5, 50], None),
    ("gbell", [0.5, 0.3, 0], None),
    ("gbell", [15, 2, 20], None),
    ("gaussian", [50, 10], "right"),
    ("trapezoidal", [0, 10, 20, 40], "left"),
    ("triangular", [30, 40, 40], None),
]


@pytest.mark.parametrize(("kind", "params", "shoulder"), ALL_MFS)
def test_nan_means_not_ready_in_both_paths(kind, params, shoulder):
    mf = make_membership(kind, params, shoulder)
    assert math.isnan(mf.value(float("nan")))
    out = mf(np.array([np.nan, params[0]]))
    assert math.isnan(out[0]) and not math.isnan(out[1])


@pytest.mark.parametrize(("kind", "params", "shoulder"), ALL_MFS)
def test_values_are_within_unit_interval(kind, params, shoulder):
    y = make_membership(kind, params, shoulder)(np.concatenate([GRID, [-1e300, 1e300]]))
    assert np.all((y >= 0) & (y <= 1))


_special = st.sampled_from([0.0, 30.0, 40.0, 10.0, 20.0, 50.0, 5.0, 9.0, 60.0, 70.0, 100.0])
_xs = st.one_of(
    _special, st.floats(allow_nan=True, allow_infinity=True, width=64), st.floats(-200, 200)
)


@settings(max_examples=300, deadline=None)
@given(idx=st.integers(0, len(ALL_MFS) - 1), xs=st.lists(_xs, min_size=1, max_size=20))
def test_scalar_value_is_identical_to_vectorized(idx, xs):
    kind, params, shoulder = ALL_MFS[idx]
    mf = make_membership(kind, params, shoulder)
    vec = mf(np.array(xs, dtype=np.float64))
    for x, v in zip(xs, vec, strict=True):
        s = mf.value(x)
        assert (math.isnan(s) and math.isnan(v)) or s == v


@settings(max_examples=200, deadline=None)
@given(xs=st.lists(_xs, min_size=len(ALL_MFS), max_size=len(ALL_MFS)))
def test_compiled_row_evaluator_is_identical_to_each_value(xs):
    # every membership on its own input, then all of them on the first input
    mfs = [make_membership(*spec) for spec in ALL_MFS]
    plan = [(i, mf) for i, mf in enumerate(mfs)] + [(0, mf) for mf in mfs]
    got = row_evaluator(plan)(xs)
    expected = [mf.value(xs[i]) for i, mf in plan]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert (math.isnan(g) and math.isnan(e)) or g == e


@settings(max_examples=200, deadline=None)
@given(
    pts=st.lists(st.floats(-1e4, 1e4), min_size=3, max_size=3).map(sorted),
    frac=st.floats(0, 1),
)
def test_random_triangles_match_skfuzzy_and_scalar_path(pts, frac):
    a, b, c = pts
    mf = make_membership("triangular", [a, b, c])
    xs = np.array([a, b, c, a + (c - a) * frac])
    ref = fuzz.trimf(xs, [a, b, c])
    np.testing.assert_allclose(mf(xs), ref, atol=1e-9)
    assert mf.value(b) == 1.0
    assert [mf.value(float(x)) for x in xs] == mf(xs).tolist()


@pytest.mark.parametrize(
    ("kind", "params", "code", "field"),
    [
        ("triangle", [0, 1, 2], "FUZZY-001", "m.type"),
        ("triangular", [0, 1], "FUZZY-002", "m.parameters"),
        ("triangular", [0, "x", 2], "FUZZY-003", "m.parameters[1]"),
        ("triangular", [0, float("nan"), 2], "FUZZY-003", "m.parameters[1]"),
        ("triangular", [0, 50, 40], "FUZZY-004", "m.parameters[2]"),
        ("trapezoidal", [0, 20, 10, 30], "FUZZY-004", "m.parameters[2]"),
        ("gaussian", [50, 0], "FUZZY-005", "m.parameters[1]"),
        ("sigmoid", [0, 50], "FUZZY-005", "m.parameters[0]"),
        ("gbell", [1, -2, 0], "FUZZY-005", "m.parameters[1]"),
    ],
)
def test_invalid_definitions_are_rejected_with_code_and_field(kind, params, code, field):
    with pytest.raises(ValidationError) as exc:
        make_membership(kind, params, field="m")
    assert exc.value.code == code
    assert exc.value.field == field


def test_unknown_type_suggests_the_close_name():
    with pytest.raises(ValidationError) as exc:
        make_membership("triangle", [0, 1, 2])
    assert "triangular" in exc.value.suggestions


def test_shoulder_is_rejected_on_sigmoid_and_misspelt_side():
    with pytest.raises(ValidationError, match="only allowed"):
        make_membership("sigmoid", [1, 0], "left")
    with pytest.raises(ValidationError) as exc:
        make_membership("triangular", [0, 1, 2], "lefft")
    assert exc.value.suggestions == ("left",)


def test_every_type_round_trips_to_dict():
    for kind, n in MF_TYPES.items():
        params = [1.0, 2.0, 3.0, 4.0][:n]
        assert make_membership(kind, params).to_dict() == {"type": kind, "parameters": params}
