"""Strategy validation reports every problem of every section at once, with "did you mean";
every reference resolves and every setting is used. The indicator catalogue is the real one
(the indicator domain in-process; in the mesh the indicator service's ValidateIndicator)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from run_testutil import GOOG, MTF, RSI, STRATEGIES

from ktrdr_backtest.domain.strategies import (
    SECTIONS,
    StrategyFiles,
    check_strategy,
    check_strategy_text,
)
from ktrdr_core.errors import NotFoundError
from ktrdr_core.problems import ProblemsError
from ktrdr_core.strategy.document import parse_strategy
from ktrdr_pipeline.sources import DomainCatalogue


def _raw(name: str = RSI) -> dict:
    return yaml.safe_load((STRATEGIES / f"{name}.yaml").read_text())


async def _check(raw: object):
    return await check_strategy(raw, source="test", catalogue=DomainCatalogue())


async def test_the_example_strategies_are_valid_with_their_warm_up_and_label_horizon():
    files = StrategyFiles(STRATEGIES, DomainCatalogue())
    entries = {e.strategy_id: e.check for e in await files.entries()}
    assert set(entries) == {RSI, MTF, GOOG}
    assert all(c.valid for c in entries.values()), {k: c.problems for k, c in entries.items()}
    # Ten times MACD's (33 + 2) bars, the longest warm-up, beats history_required (200).
    assert (entries[RSI].warmup_bars, entries[RSI].label_horizon_bars) == (350, 20)
    # The daily MACD's signal: ten times (33 + 2) days of 24 base bars.
    assert entries[MTF].warmup_bars == 10 * 35 * 24 and entries[MTF].label_horizon_bars == 24
    assert [f.kind for f in entries[GOOG].features].count("raw") == 3
    assert entries[MTF].strategy is not None and entries[MTF].strategy.symbols == ("EURUSD",)


async def test_every_problem_of_every_section_is_reported_at_once():
    raw = _raw()
    raw["descripton"] = raw.pop("description")
    raw["indicators"]["rsi_14"] = {"type": "rsi", "perod": 14}
    raw["fuzzy_sets"]["adx_strength"]["indicator"] = "adx_14.adxx"
    raw["nn_inputs"][2]["fuzzy_set"] = "macd_momentun"
    raw["model"]["architecture"]["activaton"] = "relu"
    raw["training"]["epochz"] = 3
    raw["decisions"]["short_selling"] = "revrse"
    check = await _check(raw)
    assert not check.valid
    found = {p.field: p for p in check.problems}
    expected = {
        "descripton": ("FUZZY-010", "description"),
        "indicators.rsi_14.parameters.perod": ("FUZZY-012", "period"),
        "fuzzy_sets.adx_strength.indicator": ("FUZZY-008", "adx_14.adx"),
        "nn_inputs[2].fuzzy_set": ("FUZZY-013", "macd_momentum"),
        "model.architecture.activaton": ("NEURAL-001", "activation"),
        "training.epochz": ("NEURAL-001", "epochs"),
        "decisions.short_selling": ("BACKTEST-001", "reverse"),
    }
    assert set(found) == set(expected)
    for field, (code, suggestion) in expected.items():
        assert found[field].code == code, field
        assert suggestion in found[field].suggestions, field
    assert all(
        p.field.split(".")[0].split("[")[0] in (*SECTIONS, "descripton") for p in found.values()
    )


async def test_a_setting_nothing_uses_is_a_problem():
    raw = _raw()
    raw["indicators"]["sma_50"] = {"type": "sma", "period": 50}
    raw["fuzzy_sets"]["spare"] = {"indicator": "rsi_14", "low": [0, 10, 20]}
    check = await _check(raw)
    unused = {p.field: p.code for p in check.problems}
    assert unused == {"indicators.sma_50": "BACKTEST-015", "fuzzy_sets.spare": "BACKTEST-015"}


async def test_a_strategy_that_is_not_yaml_or_not_a_mapping_is_one_problem():
    check = await check_strategy_text("name: [unclosed", source="x", catalogue=DomainCatalogue())
    assert [p.code for p in check.problems] == ["FUZZY-009"] and "line 1" in check.problems[
        0
    ].message
    assert [p.code for p in (await _check(["a list"])).problems] == ["FUZZY-009"]


async def test_an_invalid_strategy_cannot_be_used_and_says_why():
    raw = _raw()
    raw["training"]["epochs"] = 0
    with pytest.raises(ProblemsError) as info:
        (await _check(raw)).require()
    assert info.value.code == "BACKTEST-014" and info.value.problems[0].field == "training.epochs"


async def test_an_unknown_strategy_is_not_found_with_close_matches():
    with pytest.raises(NotFoundError) as info:
        await StrategyFiles(STRATEGIES, DomainCatalogue()).get("rsi_trend_eurusd")
    assert info.value.code == "FUZZY-014" and RSI in info.value.suggestions


def test_the_grammar_collects_every_problem_and_keeps_a_single_one_as_it_was():
    raw = _raw()
    raw["training_data"]["symbols"]["mode"] = "single"
    raw["training_data"]["timeframes"]["list"] = ["1h", "2x"]
    raw["fuzzy_sets"]["rsi_14"]["oversold"] = {"type": "triangle", "parameters": [0, 25, 40]}
    raw["fuzzy_sets"]["macd_momentum"]["flat"] = {"type": "gbell", "paramters": [1, 2, 0]}
    with pytest.raises(ProblemsError) as info:
        parse_strategy(raw, source="s.yaml")
    got = {(p.code, p.field) for p in info.value.problems}
    assert got >= {
        ("COMMON-002", "training_data.timeframes.list[1]"),
        ("FUZZY-001", "fuzzy_sets.rsi_14.oversold.type"),
        ("FUZZY-006", "fuzzy_sets.macd_momentum.flat.paramters"),
    }
    assert info.value.message.startswith("s.yaml: ")
    one = _raw()
    one["nn_inputs"][0]["fuzzy_set"] = "rsi_41"
    with pytest.raises(ProblemsError) as single:
        parse_strategy(one)
    assert single.value.code == "FUZZY-013" and single.value.suggestions == ("rsi_14",)
    assert single.value.field == "nn_inputs[0].fuzzy_set" and len(single.value.problems) == 1


def test_a_missing_strategies_directory_lists_nothing(tmp_path: Path):
    import asyncio

    assert asyncio.run(StrategyFiles(tmp_path / "none", DomainCatalogue()).entries()) == []
