"""Error codes of the fuzzy service domain (inference and the fuzzy engine).

Every error raised by :mod:`ktrdr_fuzzy.domain` is a :class:`ktrdr_core.errors.KtrdrError`
carrying one of the stable codes below; the strategy grammar's codes (FUZZY-001 to FUZZY-015:
membership functions, fuzzy sets, strategy files) are in :mod:`ktrdr_core.strategy.errors` and
re-exported here, so this module names every ``FUZZY-`` code.

=========  ==================  ===========================================================
Code       Exception           Condition
=========  ==================  ===========================================================
FUZZY-016  ValidationError     Rule syntax error.
FUZZY-017  ValidationError     Rule references an unknown variable or term.
FUZZY-018  ValidationError     Inference system malformed (universe, method names,
                               Sugeno consequent, rule weight).
FUZZY-019  ValidationError     Engine input missing, of the wrong shape or length.
=========  ==================  ===========================================================
"""

from __future__ import annotations

from ktrdr_core.strategy.errors import *  # noqa: F403  (FUZZY-001 .. FUZZY-015)
from ktrdr_core.strategy.errors import ALL_CODES as GRAMMAR_CODES

RULE_SYNTAX = "FUZZY-016"
RULE_UNKNOWN_NAME = "FUZZY-017"
BAD_INFERENCE_SYSTEM = "FUZZY-018"
BAD_ENGINE_INPUT = "FUZZY-019"

# extends the grammar's ALL_CODES, which the star import above also brought in
ALL_CODES: tuple[str, ...] = (*GRAMMAR_CODES, *(f"FUZZY-{n:03d}" for n in range(16, 20)))  # type: ignore[no-redef]
