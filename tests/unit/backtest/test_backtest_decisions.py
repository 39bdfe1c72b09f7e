"""The decision engine's configuration: typed, validated, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ktrdr_backtest.domain import (
    ConfigProblems,
    DecisionConfig,
    ExitRule,
    ExitUnit,
    ShortSelling,
    parse_decisions,
)
from ktrdr_backtest.domain.decisions import transition

HOUR = 3_600
STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"


def test_an_empty_mapping_gives_the_defaults():
    config = parse_decisions(None, bar_seconds=HOUR)
    assert config == DecisionConfig()
    assert config.confidence_threshold == 0.5
    assert config.short_selling is ShortSelling.NEVER
    assert config.stop_loss is None and config.take_profit is None


def test_a_full_mapping_is_parsed_into_typed_fields():
    config = parse_decisions(
        {
            "output_format": "classification",
            "confidence_threshold": 0.65,
            "min_bars_between_signals": 3,
            "position_awareness": False,
            "short_selling": "reverse",
            "stop_loss": {"atr": 2, "atr_period": 10},
            "take_profit": {"percent": 3.5},
        },
        bar_seconds=HOUR,
    )
    assert config.confidence_threshold == 0.65
    assert config.min_bars_between_signals == 3
    assert config.position_awareness is False
    assert config.short_selling is ShortSelling.REVERSE
    assert config.stop_loss == ExitRule(unit=ExitUnit.ATR, value=2, atr_period=10)
    assert config.take_profit == ExitRule(unit=ExitUnit.PERCENT, value=3.5)
    assert config.atr_periods == (10,)


def test_every_problem_is_reported_at_once_with_fields_and_suggestions():
    raw = {
        "confidance_threshold": 0.6,
        "short_selling": "revers",
        "min_bars_between_signals": -2,
        "stop_loss": {"atr": -1.0},
        "take_profit": {"atr": 1.0, "percent": 2.0},
        "position_awareness": "yes",
    }
    with pytest.raises(ConfigProblems) as info:
        parse_decisions(raw, bar_seconds=HOUR)
    error = info.value
    assert error.code == "BACKTEST-001"
    by_field = {p.field: p for p in error.problems}
    assert set(by_field) == {
        "decisions.confidance_threshold",
        "decisions.short_selling",
        "decisions.min_bars_between_signals",
        "decisions.stop_loss.atr",
        "decisions.take_profit",
        "decisions.position_awareness",
    }
    assert by_field["decisions.confidance_threshold"].suggestions == ("confidence_threshold",)
    assert by_field["decisions.short_selling"].suggestions[0] == "reverse"
    assert all(p.code == "BACKTEST-001" for p in error.problems)
    assert "6 problems" in error.message and "Did you mean 'reverse'" in error.message


def test_unknown_keys_inside_stop_and_filters_are_named():
    with pytest.raises(ConfigProblems) as info:
        parse_decisions(
            {"stop_loss": {"atr": 2, "atr_perod": 5}, "filters": {"min_signal_seperation": 4}},
            bar_seconds=HOUR,
        )
    fields = {p.field: p.suggestions for p in info.value.problems}
    assert fields == {
        "decisions.stop_loss.atr_perod": ("atr_period",),
        "decisions.filters.min_signal_seperation": ("min_signal_separation",),
    }


@pytest.mark.parametrize(
    ("hours", "bar_seconds", "bars"), [(4, HOUR, 4), (4, 15 * 60, 16), (1, 4 * HOUR, 1)]
)
def test_the_original_hours_separation_becomes_bars_of_the_base_timeframe(hours, bar_seconds, bars):
    config = parse_decisions({"filters": {"min_signal_separation": hours}}, bar_seconds=bar_seconds)
    assert config.min_bars_between_signals == bars


def test_separation_in_both_bars_and_hours_is_a_problem():
    with pytest.raises(ConfigProblems, match="not both"):
        parse_decisions(
            {"min_bars_between_signals": 2, "filters": {"min_signal_separation": 4}},
            bar_seconds=HOUR,
        )


@pytest.mark.parametrize(
    ("legacy", "policy"), [(True, ShortSelling.FROM_FLAT), (False, ShortSelling.NEVER)]
)
def test_the_original_allow_short_from_flat_key_maps_to_a_policy(legacy, policy):
    config = parse_decisions({"allow_short_from_flat": legacy}, bar_seconds=HOUR)
    assert config.short_selling is policy


def test_a_contradicting_legacy_short_key_is_a_problem():
    with pytest.raises(ConfigProblems, match="contradicts"):
        parse_decisions(
            {"allow_short_from_flat": False, "short_selling": "reverse"}, bar_seconds=HOUR
        )


def test_regression_output_is_refused_with_a_reason():
    with pytest.raises(ConfigProblems, match="use classification"):
        parse_decisions({"output_format": "regression"}, bar_seconds=HOUR)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"confidence_threshold": 1.5},
        {"confidence_threshold": float("nan")},
        {"min_bars_between_signals": 2.5},
        {"min_bars_between_signals": 10_000_000},
        {"short_selling": "reverse"},
    ],
)
def test_constructors_validate_their_arguments(kwargs):
    with pytest.raises(ConfigProblems) as info:
        DecisionConfig(**kwargs)
    assert info.value.problems[0].field == next(iter(kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit": ExitUnit.PERCENT, "value": 100},
        {"unit": ExitUnit.PERCENT, "value": 0},
        {"unit": ExitUnit.ATR, "value": 2, "atr_period": 0},
        {"unit": ExitUnit.ATR, "value": 2, "atr_period": True},
    ],
)
def test_exit_rules_validate_their_distance_and_period(kwargs):
    with pytest.raises(ConfigProblems):
        ExitRule(**kwargs)


@pytest.mark.parametrize(
    ("signal", "side", "policy", "expected"),
    [
        # BUY
        (1, 0, ShortSelling.NEVER, (False, 1, "")),
        (1, 1, ShortSelling.REVERSE, (False, 0, "redundant")),
        (1, -1, ShortSelling.FROM_FLAT, (True, 0, "")),
        (1, -1, ShortSelling.REVERSE, (True, 1, "")),
        # SELL
        (-1, 0, ShortSelling.NEVER, (False, 0, "short_blocked")),
        (-1, 0, ShortSelling.FROM_FLAT, (False, -1, "")),
        (-1, 0, ShortSelling.REVERSE, (False, -1, "")),
        (-1, 1, ShortSelling.NEVER, (True, 0, "")),
        (-1, 1, ShortSelling.FROM_FLAT, (True, 0, "")),
        (-1, 1, ShortSelling.REVERSE, (True, -1, "")),
        (-1, -1, ShortSelling.REVERSE, (False, 0, "redundant")),
    ],
)
def test_signals_move_the_position_as_the_short_selling_policy_says(signal, side, policy, expected):
    move = transition(signal, side, policy)
    assert (move.close, move.open_side, move.noop) == expected


@pytest.mark.parametrize("path", sorted(STRATEGIES.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_strategies_decisions_parse(path):
    raw = yaml.safe_load(path.read_text())
    config = parse_decisions(raw.get("decisions"), bar_seconds=HOUR)
    assert config.confidence_threshold == raw["decisions"]["confidence_threshold"]
