"""Error codes of the indicator domain.

Every error raised by :mod:`ktrdr_indicators.domain` is a :class:`~ktrdr_core.errors.KtrdrError`
subclass with one of these stable codes. Never reuse a number for another meaning.

======== ================ ==================================================== =====================
Code     Exception        Condition                                            ``field``
======== ================ ==================================================== =====================
IND-001  NotFoundError    unknown indicator name (with close-match suggestions) ``indicator``
IND-002  ValidationError  unknown parameter (with suggestions)                 ``parameters.<name>``
IND-003  ValidationError  parameter has the wrong type (e.g. 2.5 for an int)   ``parameters.<name>``
IND-004  ValidationError  parameter outside its bounds                         ``parameters.<name>``
IND-005  ValidationError  parameter not one of its choices                     ``parameters.<name>``
IND-006  ValidationError  parameters inconsistent together (e.g. fast >= slow) ``parameters.<name>``
IND-007  ValidationError  bad input bars (missing column, ragged, not 1-D)     ``bars.<column>``
IND-008  ValidationError  duplicate indicator id in a set                      ``indicators[i].id``
IND-009  ValidationError  malformed indicator spec in a set                    ``indicators[i]...``
IND-010  ValidationError  the pandas-ta-classic engine rejected the parameters ``parameters``
======== ================ ==================================================== =====================
"""

from __future__ import annotations

from ktrdr_core.errors import NotFoundError, ValidationError, suggest

UNKNOWN_INDICATOR = "IND-001"
UNKNOWN_PARAMETER = "IND-002"
PARAMETER_TYPE = "IND-003"
PARAMETER_BOUNDS = "IND-004"
PARAMETER_CHOICE = "IND-005"
PARAMETER_CONFLICT = "IND-006"
BAD_BARS = "IND-007"
DUPLICATE_ID = "IND-008"
BAD_SPEC = "IND-009"
ENGINE_REJECTED = "IND-010"

__all__ = [
    "BAD_BARS",
    "BAD_SPEC",
    "DUPLICATE_ID",
    "ENGINE_REJECTED",
    "PARAMETER_BOUNDS",
    "PARAMETER_CHOICE",
    "PARAMETER_CONFLICT",
    "PARAMETER_TYPE",
    "UNKNOWN_INDICATOR",
    "UNKNOWN_PARAMETER",
    "NotFoundError",
    "ValidationError",
    "suggest",
]
