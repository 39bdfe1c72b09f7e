"""Stable error codes raised by the core itself (bars, timeframes, dates, calendars, resampling).

Codes keep the prefix under which users first met them: the bar-frame, calendar and resampling
codes were the data service's before that code moved into the core, and clients rely on them.
The strategy grammar's codes are in :mod:`ktrdr_core.strategy.errors`.

==========  ==================  ===============================================================
Code        Exception           Condition
==========  ==================  ===============================================================
COMMON-002  ValidationError     unknown timeframe (suggestions: close codes)
COMMON-003  ValidationError     unparsable date or date-time, or one outside the supported range
COMMON-004  ValidationError     value columns of the wrong shape or repeated names; NotFoundError
                                for an unknown column (``ktrdr_core.values``)
COMMON-005  ValidationError     bars supplied inline break a bar rule (``bars.check_bars``); the
                                message and ``details`` name the first bad row and the rule
DATA-010    ValidationError     a bar frame has wrong columns, index or lengths
DATA-011    ValidationError     unknown trading calendar name
DATA-012    ValidationError     resample target not higher than the source timeframe
==========  ==================  ===============================================================
"""

from __future__ import annotations

UNKNOWN_TIMEFRAME = "COMMON-002"
INVALID_DATE = "COMMON-003"
INVALID_VALUES = "COMMON-004"
INVALID_BARS = "COMMON-005"
INVALID_FRAME = "DATA-010"
UNKNOWN_CALENDAR = "DATA-011"
INVALID_RESAMPLE = "DATA-012"

ALL_CODES: tuple[str, ...] = (
    UNKNOWN_TIMEFRAME,
    INVALID_DATE,
    INVALID_VALUES,
    INVALID_BARS,
    INVALID_FRAME,
    UNKNOWN_CALENDAR,
    INVALID_RESAMPLE,
)
