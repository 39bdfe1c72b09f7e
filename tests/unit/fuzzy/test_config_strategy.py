"""Fuzzy set config, strategy loading, listing and feature naming."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from ktrdr_core.errors import KtrdrError, NotFoundError, ValidationError
from ktrdr_core.strategy.document import (
    find_strategy,
    list_strategies,
    load_strategy,
    load_strategy_text,
    parse_strategy,
)
from ktrdr_core.strategy.features import feature_names, resolve_features
from ktrdr_core.strategy.fuzzy_sets import parse_fuzzy_set, parse_fuzzy_sets

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"

_OUTPUTS = {
    "rsi": ("value",),
    "sma": ("value",),
    "ema": ("value",),
    "atr": ("value",),
    "roc": ("value",),
    "macd": ("line", "signal", "histogram"),
    "adx": ("adx", "plus_di", "minus_di"),
    "bbands": ("upper", "middle", "lower"),
}


def fake_catalogue(indicator_type: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    """Stands in for the indicator service catalogue (real wiring passes its validator)."""
    if indicator_type not in _OUTPUTS:
        raise ValidationError(
            "IND-001",
            f"Unknown indicator type '{indicator_type}'.",
            field="type",
            suggestions=[t for t in _OUTPUTS if t[:2] == indicator_type[:2]],
        )
    period = params.get("period", 14)
    if not isinstance(period, int) or period < 1:
        raise ValidationError("IND-002", "period must be a positive integer.", field="period")
    return _OUTPUTS[indicator_type]


BASE: dict[str, Any] = {
    "name": "t",
    "training_data": {
        "symbols": {"mode": "multi_symbol", "list": ["EURUSD", "GBPUSD"]},
        "timeframes": {
            "mode": "multi_timeframe",
            "list": ["1h", "4h", "1d"],
            "base_timeframe": "1h",
        },
        "history_required": 100,
    },
    "indicators": {
        "rsi_14": {"type": "rsi", "period": 14},
        "macd_12_26_9": {"type": "macd", "fast": 12, "slow": 26},
    },
    "fuzzy_sets": {
        "rsi_14": {
            "indicator": "rsi_14",
            "oversold": {"type": "triangular", "parameters": [0, 30, 40], "shoulder": "left"},
            "neutral": [35, 50, 65],
            "overbought": {"type": "gaussian", "parameters": [70, 15]},
        },
        "macd_hist": {
            "indicator": "macd_12_26_9.histogram",
            "neg": [-1, -0.5, 0],
            "pos": [0, 0.5, 1],
        },
    },
}


def strategy(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw.update(changes)
    return raw


def error_of(raw: Any) -> KtrdrError:
    with pytest.raises(KtrdrError) as exc:
        parse_strategy(raw, validator=fake_catalogue)
    return exc.value


# ------------------------------------------------------------------------------ fuzzy sets


def test_membership_order_is_kept_and_bare_list_is_triangular():
    fs = parse_fuzzy_set("rsi_14", BASE["fuzzy_sets"]["rsi_14"])
    assert fs.membership_names == ("oversold", "neutral", "overbought")
    assert fs.membership("neutral").type == "triangular"
    assert fs.membership("oversold").shoulder == "left"
    assert fs.to_dict()["neutral"] == {"type": "triangular", "parameters": [35.0, 50.0, 65.0]}


def test_indicator_defaults_to_the_set_id():
    assert parse_fuzzy_set("rsi_14", {"low": [0, 10, 20]}).indicator == "rsi_14"


@pytest.mark.parametrize(
    ("raw", "code", "field", "suggestion"),
    [
        (
            {"indicator": "rsi_14", "low": {"type": "triangular", "paramters": [0, 1, 2]}},
            "FUZZY-006",
            "fuzzy_sets.s.low.paramters",
            "parameters",
        ),
        (
            {"indicator": "rsi_14", "low": {"type": "triangle", "parameters": [0, 1, 2]}},
            "FUZZY-001",
            "fuzzy_sets.s.low.type",
            "triangular",
        ),
        (
            {"indicator": "rsi_14", "low": {"type": "triangular", "parameters": [0, 50, 40]}},
            "FUZZY-004",
            "fuzzy_sets.s.low.parameters[2]",
            None,
        ),
        (
            {"indicator": "rsi_14", "low": {"type": "gaussian", "parameters": [50, -1]}},
            "FUZZY-005",
            "fuzzy_sets.s.low.parameters[1]",
            None,
        ),
        (
            {"indicator": "rsi_14", "low": [0, "ten", 20]},
            "FUZZY-003",
            "fuzzy_sets.s.low.parameters[1]",
            None,
        ),
        ({"indicator": "rsi_14"}, "FUZZY-007", "fuzzy_sets.s", None),
        (
            {"indicatr": "rsi_14", "low": [0, 1, 2]},
            "FUZZY-007",
            "fuzzy_sets.s.indicatr",
            "indicator",
        ),
        (
            {"indicator": "rsi_41", "low": [0, 1, 2]},
            "FUZZY-008",
            "fuzzy_sets.s.indicator",
            "rsi_14",
        ),
        (
            {"indicator": "macd_12_26_9", "low": [0, 1, 2]},
            "FUZZY-008",
            "fuzzy_sets.s.indicator",
            "macd_12_26_9.histogram",
        ),
        (
            {"indicator": "macd_12_26_9.histgram", "low": [0, 1, 2]},
            "FUZZY-008",
            "fuzzy_sets.s.indicator",
            "macd_12_26_9.histogram",
        ),
    ],
)
def test_fuzzy_set_errors_name_set_membership_and_parameter(raw, code, field, suggestion):
    outputs = {"rsi_14": ("value",), "macd_12_26_9": ("line", "signal", "histogram")}
    with pytest.raises(ValidationError) as exc:
        parse_fuzzy_sets({"s": raw}, indicator_outputs=outputs)
    assert exc.value.code == code
    assert exc.value.field == field
    if suggestion:
        assert suggestion in exc.value.suggestions


def test_empty_fuzzy_sets_section_is_rejected():
    with pytest.raises(ValidationError) as exc:
        parse_fuzzy_sets({})
    assert exc.value.code == "FUZZY-007"


# -------------------------------------------------------------------------------- strategy


def test_valid_strategy_is_loaded_with_outputs_from_the_catalogue():
    s = parse_strategy(strategy(model={"type": "mlp"}), validator=fake_catalogue)
    assert s.indicators["macd_12_26_9"].outputs == ("line", "signal", "histogram")
    assert s.training_data.timeframes == ("1h", "4h", "1d")
    assert s.training_data.base_timeframe == "1h"
    assert s.model == {"type": "mlp"} and s.decisions == {}
    assert s.applies_to("gbpusd") and not s.applies_to("USDJPY")
    assert list(s.fuzzy_sets) == ["rsi_14", "macd_hist"]


def test_unknown_top_level_key_is_rejected_with_suggestion():
    err = error_of(strategy(fuzzy_set={}))
    assert err.code == "FUZZY-010" and "fuzzy_sets" in err.suggestions


def test_catalogue_rejection_becomes_a_strategy_error_naming_the_indicator():
    raw = strategy(indicators={**BASE["indicators"], "x": {"type": "rsx", "period": 3}})
    err = error_of(raw)
    assert err.code == "FUZZY-012"
    assert err.field is not None and err.field.startswith("indicators.x")
    assert "rsi" in err.suggestions and err.details["cause_code"] == "IND-001"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": ""}, "FUZZY-011", "name"),
        ({"training_data": {"symbols": ["EURUSD"]}}, "FUZZY-011", "training_data.timeframes"),
        (
            {"training_data": {"symbols": ["EURUSD"], "timeframes": ["1h"], "histroy": 5}},
            "FUZZY-006",
            "training_data.histroy",
        ),
        (
            {
                "training_data": {
                    "symbols": ["EURUSD"],
                    "timeframes": {"list": ["1h", "4h"], "base_timeframe": "1d"},
                }
            },
            "FUZZY-011",
            "training_data.timeframes.base_timeframe",
        ),
        (
            {"training_data": {"symbols": ["EURUSD"], "timeframes": ["1hour"]}},
            "COMMON-002",
            "training_data.timeframes[0]",
        ),
        ({"indicators": {"rsi_14": {"period": 14}}}, "FUZZY-012", "indicators.rsi_14.type"),
        ({"nn_inputs": [{"fuzzy_set": "rsi_41"}]}, "FUZZY-013", "nn_inputs[0].fuzzy_set"),
        (
            {"nn_inputs": [{"fuzzy_set": "rsi_14", "timeframes": ["1w"]}]},
            "FUZZY-013",
            "nn_inputs[0].timeframes[0]",
        ),
        (
            {"nn_inputs": [{"fuzzy_set": "rsi_14", "timeframe": "all"}]},
            "FUZZY-006",
            "nn_inputs[0].timeframe",
        ),
    ],
)
def test_invalid_strategy_fields_are_named(changes, code, field):
    err = error_of(strategy(**changes))
    assert (err.code, err.field) == (code, field)


def test_errors_name_the_file_and_bad_yaml_is_reported(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nfuzzy_sets: [\n")
    with pytest.raises(ValidationError) as exc:
        load_strategy(bad)
    assert exc.value.code == "FUZZY-009" and str(bad) in exc.value.message
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump(strategy(nn_input=[])))
    with pytest.raises(ValidationError) as exc:
        load_strategy(typo)
    assert exc.value.message.startswith(str(typo)) and exc.value.details["source"] == str(typo)
    with pytest.raises(NotFoundError) as nf:
        load_strategy(tmp_path / "typo.yml")
    assert nf.value.code == "FUZZY-014" and "typo.yaml" in nf.value.suggestions


def test_list_strategies_reports_valid_and_invalid_files_without_raising(tmp_path):
    (tmp_path / "good.yaml").write_text(yaml.safe_dump(strategy(name="good")))
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(strategy(fuzzy_sets={})))
    (tmp_path / "notes.txt").write_text("ignored")
    listing = list_strategies(tmp_path, validator=fake_catalogue)
    assert [(i.path.name, i.ok) for i in listing] == [("bad.yaml", False), ("good.yaml", True)]
    assert listing[0].error is not None and listing[0].error.code == "FUZZY-007"
    assert find_strategy(tmp_path, "good").name == "good"
    with pytest.raises(NotFoundError) as exc:
        find_strategy(tmp_path, "goood")
    assert "good" in exc.value.suggestions
    assert list_strategies(tmp_path / "missing") == []


def test_every_example_strategy_file_loads():
    files = sorted(STRATEGIES.glob("*.yaml"))
    assert len(files) >= 2
    listing = list_strategies(STRATEGIES, validator=fake_catalogue)
    assert all(i.ok for i in listing), [i.error for i in listing if not i.ok]
    assert any(len(i.strategy.timeframes) > 1 for i in listing if i.strategy)


def test_strategy_loads_from_a_string():
    s = load_strategy_text(yaml.safe_dump(strategy()), validator=fake_catalogue)
    assert s.source == "<string>" and s.name == "t"


# -------------------------------------------------------------------------------- features


def test_features_default_to_all_sets_on_all_timeframes_in_declared_order():
    s = parse_strategy(strategy(), validator=fake_catalogue)
    names = feature_names(s)
    assert names[:4] == (
        "1h_rsi_14_oversold",
        "1h_rsi_14_neutral",
        "1h_rsi_14_overbought",
        "4h_rsi_14_oversold",
    )
    assert len(names) == 3 * 3 + 3 * 2 and names[-1] == "1d_macd_hist_pos"
    assert [f.index for f in resolve_features(s)] == list(range(len(names)))


def test_nn_inputs_select_sets_and_timeframes_in_strategy_timeframe_order():
    nn = [
        {"fuzzy_set": "macd_hist", "timeframes": ["1d", "1h"]},
        {"fuzzy_set": "rsi_14", "timeframes": "all"},
    ]
    s = parse_strategy(strategy(nn_inputs=nn), validator=fake_catalogue)
    assert s.feature_names() == (
        "1h_macd_hist_neg",
        "1h_macd_hist_pos",
        "1d_macd_hist_neg",
        "1d_macd_hist_pos",
        "1h_rsi_14_oversold",
        "1h_rsi_14_neutral",
        "1h_rsi_14_overbought",
        "4h_rsi_14_oversold",
        "4h_rsi_14_neutral",
        "4h_rsi_14_overbought",
        "1d_rsi_14_oversold",
        "1d_rsi_14_neutral",
        "1d_rsi_14_overbought",
    )


def test_feature_order_is_stable_across_reloads_of_the_example_files():
    for path in sorted(STRATEGIES.glob("*.yaml")):
        first = load_strategy(path, validator=fake_catalogue).feature_names()
        again = load_strategy_text(path.read_text(), validator=fake_catalogue).feature_names()
        assert first == again and len(set(first)) == len(first)


def test_example_strategies_pass_the_real_indicator_catalogue():
    catalogue = pytest.importorskip("ktrdr_indicators.domain.catalogue")

    def validator(indicator_type: str, params: Mapping[str, Any]) -> tuple[str, ...]:
        return catalogue.create(indicator_type, params).info.outputs

    listing = list_strategies(STRATEGIES, validator=validator)
    assert listing and all(i.ok for i in listing), [i.error for i in listing if not i.ok]


def test_original_ktrdr_single_symbol_form_is_accepted():
    from ktrdr_core.strategy.document import load_strategy_text

    text = """
name: upstream_style
version: "3.0"
training_data:
  symbols: {mode: single, symbol: EURUSD}
  timeframes: {mode: multi_timeframe, list: ["1h", "4h"], base_timeframe: "1h"}
indicators:
  rsi_14: {type: rsi, period: 14}
fuzzy_sets:
  rsi_14:
    indicator: rsi_14
    oversold: {type: triangular, parameters: [0, 30, 40]}
"""
    strategy = load_strategy_text(text, validator=None, source="upstream.yaml")
    assert strategy.symbols == ("EURUSD",)
    assert strategy.training_data.symbol_mode == "single_symbol"
    assert strategy.timeframes == ("1h", "4h")
