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
FUZZY-019  ValidationError     Engine input missing, of the wrong shape or length (also a
                               feature stream's indicator column).
FUZZY-020  ValidationError     ``symbol`` missing where the request needs one.
FUZZY-021  ValidationError     Conflicting or missing choice: ad-hoc memberships or a
                               strategy's set; a stream's ``fuzzy_sets`` or ``strategy``;
                               ``features`` without a strategy or with a ``timeframe``.
FUZZY-022  ValidationError     ``strategy`` missing where the request needs one.
FUZZY-023  ValidationError     Rule-inference ``inputs`` lack a variable's value.
FUZZY-024  ValidationError     A stream without its config first, a second config, or a
                               message without values.
FUZZY-025  ValidationError     A stream batch's value columns differ in length.
FUZZY-026  ValidationError     Features asked on bars longer than a timeframe the strategy
                               uses (``timeframe`` above the strategy's shortest).
FUZZY-027  ValidationError     ``start_date`` after ``end_date`` (the one rule of every
                               service: reversed dates name ``start_date``).
FUZZY-028  ValidationError     A request larger than its bound (membership functions of one
                               ad-hoc set, values of one call, sets of one stream config or
                               calculation, features or feature values of one calculation).
=========  ==================  ===========================================================

Errors of another domain passed on by a calculation (the indicator and data services'
``IND-*``/``DATA-*``) keep their code and suggestions, their field mapped onto the request's
(the indicator request's ``source.symbol`` is this request's ``symbol``).
"""

from __future__ import annotations

from ktrdr_core.strategy.errors import *  # noqa: F403  (FUZZY-001 .. FUZZY-015)
from ktrdr_core.strategy.errors import ALL_CODES as GRAMMAR_CODES

RULE_SYNTAX = "FUZZY-016"
RULE_UNKNOWN_NAME = "FUZZY-017"
BAD_INFERENCE_SYSTEM = "FUZZY-018"
BAD_ENGINE_INPUT = "FUZZY-019"
SYMBOL_REQUIRED = "FUZZY-020"
CHOICE = "FUZZY-021"
STRATEGY_REQUIRED = "FUZZY-022"
MISSING_INPUT = "FUZZY-023"
BAD_STREAM = "FUZZY-024"
BAD_STREAM_VALUES = "FUZZY-025"
TIMEFRAME_TOO_LONG = "FUZZY-026"
REVERSED_DATES = "FUZZY-027"
TOO_MANY = "FUZZY-028"

# extends the grammar's ALL_CODES, which the star import above also brought in
ALL_CODES: tuple[str, ...] = (*GRAMMAR_CODES, *(f"FUZZY-{n:03d}" for n in range(16, 29)))  # type: ignore[no-redef]
