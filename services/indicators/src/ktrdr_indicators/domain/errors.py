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
IND-011  ValidationError  bars given both inline and as a stored source, or    ``data``
                          neither
IND-012  ValidationError  ``compute_timeframe`` without the bars' timeframe    ``data_timeframe`` /
                                                                               ``source.timeframe``
IND-013  ValidationError  a stored range whose start is after its end          ``source.start_date``
IND-014  ValidationError  a stream without its config first, a second config,  ``config`` /
                          or a message without bars                            ``bars``
IND-015  ValidationError  stream bars out of time order, or inside a higher-   ``bars``
                          timeframe bar that has already closed
IND-016  ValidationError  a multi-timeframe stream config that does not fit:   ``config.<field>``
                          timeframes without the base, shorter than it, twice
IND-017  ValidationError  a request larger than its bound: more than 500,000   ``data`` /
                          bars covered by one calculation, more than 64        ``source.end_date`` /
                          indicators in one stream config                      ``config.indicators``
======== ================ ==================================================== =====================

Errors of another domain that a calculation passes on (the data service's ``DATA-*`` for a
stored source) keep their code and suggestions; their field is put under the request's
(``symbol`` becomes ``source.symbol``).
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
BARS_SOURCE = "IND-011"
BASE_TIMEFRAME_REQUIRED = "IND-012"
START_AFTER_END = "IND-013"
BAD_STREAM = "IND-014"
BARS_OUT_OF_ORDER = "IND-015"
BAD_STREAM_TIMEFRAMES = "IND-016"
TOO_LARGE = "IND-017"

ALL_CODES: tuple[str, ...] = tuple(f"IND-{n:03d}" for n in range(1, 18))

__all__ = [
    "ALL_CODES",
    "BAD_BARS",
    "BAD_SPEC",
    "BAD_STREAM",
    "BAD_STREAM_TIMEFRAMES",
    "BARS_OUT_OF_ORDER",
    "BARS_SOURCE",
    "BASE_TIMEFRAME_REQUIRED",
    "DUPLICATE_ID",
    "ENGINE_REJECTED",
    "PARAMETER_BOUNDS",
    "PARAMETER_CHOICE",
    "PARAMETER_CONFLICT",
    "PARAMETER_TYPE",
    "START_AFTER_END",
    "TOO_LARGE",
    "UNKNOWN_INDICATOR",
    "UNKNOWN_PARAMETER",
    "NotFoundError",
    "ValidationError",
    "suggest",
]
