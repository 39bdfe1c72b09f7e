"""Every error code written anywhere in the code base is registered (and documented) in the
catalogue of its domain; a code with a prefix that has no catalogue fails too."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

import ktrdr_backtest.domain.errors
import ktrdr_client.codes
import ktrdr_core.codes
import ktrdr_core.strategy.errors
import ktrdr_core.strategy.training
import ktrdr_data.domain.errors
import ktrdr_fuzzy.domain.errors
import ktrdr_gateway.codes
import ktrdr_ib_gateway.domain.errors
import ktrdr_indicators.domain.errors
import ktrdr_neural.domain.errors
import ktrdr_runtime.codes

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"\b([A-Z]+)-(\d{3})\b")
# Where each prefix's codes are registered. A new domain adds its catalogue here.
CATALOGUES: dict[str, tuple[ModuleType, ...]] = {
    "COMMON": (ktrdr_core.codes,),
    "DATA": (ktrdr_core.codes, ktrdr_data.domain.errors),
    "IND": (ktrdr_indicators.domain.errors,),
    "FUZZY": (ktrdr_core.strategy.errors, ktrdr_fuzzy.domain.errors),
    "NEURAL": (ktrdr_core.strategy.training, ktrdr_neural.domain.errors),
    "IB": (ktrdr_ib_gateway.domain.errors,),
    "BACKTEST": (ktrdr_backtest.domain.errors,),
    "RUNTIME": (ktrdr_runtime.codes,),
    "AUTH": (ktrdr_gateway.codes,),
    "GATEWAY": (ktrdr_gateway.codes,),
    "CLIENT": (ktrdr_client.codes,),
}
# Not error codes, though they look like one.
NOT_CODES = {"SHA", "AIP"}  # SHA-256, AIP-158 (Google API design guide)


def _sources() -> list[Path]:
    roots = [ROOT / "libs", ROOT / "services", ROOT / "gateway"]
    generated = ROOT / "libs/runtime/src/ktrdr"
    return sorted(
        p
        for root in roots
        for p in root.rglob("*")
        if p.suffix in (".py", ".lua") and not p.is_relative_to(generated)
    )


def used_codes() -> dict[str, set[str]]:
    """Code -> files writing it."""
    out: dict[str, set[str]] = {}
    for path in _sources():
        for prefix, number in CODE.findall(path.read_text(encoding="utf-8")):
            if prefix not in NOT_CODES:
                out.setdefault(f"{prefix}-{number}", set()).add(str(path.relative_to(ROOT)))
    return out


def test_the_scan_finds_codes_of_every_kind() -> None:
    used = used_codes()
    for code in ("DATA-016", "IND-011", "FUZZY-026", "RUNTIME-002", "AUTH-003", "CLIENT-001"):
        assert code in used


@pytest.mark.parametrize("code", sorted(used_codes()))
def test_every_code_in_use_is_registered_in_its_catalogue(code: str) -> None:
    prefix = code.split("-")[0]
    catalogues = CATALOGUES.get(prefix)
    assert catalogues, (
        f"{code} ({', '.join(sorted(used_codes()[code]))}): no catalogue for {prefix}"
    )
    names = ", ".join(m.__name__ for m in catalogues)
    assert any(code in m.ALL_CODES for m in catalogues), f"{code} is not registered in {names}"


@pytest.mark.parametrize(
    "module",
    sorted({m for ms in CATALOGUES.values() for m in ms}, key=lambda m: m.__name__),
    ids=lambda m: m.__name__,
)
def test_every_registered_code_is_documented_in_its_catalogue(module: ModuleType) -> None:
    text = module.__doc__ or ""
    missing = [c for c in module.ALL_CODES if c not in text]
    if module is ktrdr_fuzzy.domain.errors:  # documents the grammar's codes by reference
        missing = [c for c in missing if c not in ktrdr_core.strategy.errors.ALL_CODES]
    assert not missing, f"{module.__name__} lists no condition for {', '.join(missing)}"
