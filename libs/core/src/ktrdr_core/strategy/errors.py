"""Error codes of the strategy file grammar (fuzzy sets, memberships, strategy documents).

They keep the ``FUZZY-`` prefix under which users first met them (the grammar lived in the fuzzy
service before it moved into the core); clients rely on them. ``field`` is a config path such as
``fuzzy_sets.rsi_14.oversold.parameters[1]``; ``suggestions`` holds close matches of a misspelt
name.

=========  ==================  ===========================================================
Code       Exception           Condition
=========  ==================  ===========================================================
FUZZY-001  ValidationError     Unknown membership function type (``triangle`` ...).
FUZZY-002  ValidationError     Wrong number of parameters for the membership type.
FUZZY-003  ValidationError     A parameter is not a finite number.
FUZZY-004  ValidationError     Parameters out of order (``a <= b <= c [<= d]`` violated).
FUZZY-005  ValidationError     A width/scale parameter must be > 0 (gaussian sigma, bell a,
                               bell b) or a slope must be non-zero (sigmoid a).
FUZZY-006  ValidationError     Unknown key in a membership or section (``paramters`` ...).
FUZZY-007  ValidationError     Fuzzy set malformed: empty, not a mapping, bad membership
                               value, duplicate name, bad ``shoulder``.
FUZZY-008  ValidationError     Fuzzy set references an unknown indicator or output.
FUZZY-009  ValidationError     Strategy file unreadable, not YAML, or not a mapping.
FUZZY-010  ValidationError     Unknown top-level key in a strategy file.
FUZZY-011  ValidationError     Required strategy field missing or of the wrong type/value.
FUZZY-012  ValidationError     Indicator entry rejected (missing ``type`` or the indicator
                               catalogue's validator refused it).
FUZZY-013  ValidationError     ``nn_inputs`` entry malformed: an unknown fuzzy set, raw
                               indicator (or output) or timeframe, an unknown
                               ``normalization``, both or neither of ``fuzzy_set`` and
                               ``raw_indicator``, an input repeated on a timeframe.
FUZZY-014  NotFoundError       Strategy (file or name) not found.
FUZZY-015  NotFoundError       Fuzzy set not found.
=========  ==================  ===========================================================
"""

from __future__ import annotations

UNKNOWN_MF_TYPE = "FUZZY-001"
PARAM_COUNT = "FUZZY-002"
PARAM_NOT_NUMBER = "FUZZY-003"
PARAM_ORDER = "FUZZY-004"
PARAM_SCALE = "FUZZY-005"
UNKNOWN_KEY = "FUZZY-006"
BAD_FUZZY_SET = "FUZZY-007"
UNKNOWN_INDICATOR = "FUZZY-008"
BAD_STRATEGY_FILE = "FUZZY-009"
UNKNOWN_TOP_LEVEL_KEY = "FUZZY-010"
BAD_STRATEGY_FIELD = "FUZZY-011"
BAD_INDICATOR = "FUZZY-012"
BAD_NN_INPUT = "FUZZY-013"
STRATEGY_NOT_FOUND = "FUZZY-014"
FUZZY_SET_NOT_FOUND = "FUZZY-015"

ALL_CODES: tuple[str, ...] = tuple(f"FUZZY-{n:03d}" for n in range(1, 16))
