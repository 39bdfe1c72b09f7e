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
COMMON-006  ValidationError     an encryption key is not 32 bytes in base64 or hex (``sealed``)
COMMON-007  DataLossError       an encrypted file fails its integrity check: tampered, truncated
                                or moved (``sealed``; the message and ``details`` name the file)
COMMON-008  FailedPrecondition  an encrypted file was sealed with a key that is not configured
COMMON-009  FailedPrecondition  an encrypted file was found but no encryption key is configured
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
BAD_ENCRYPTION_KEY = "COMMON-006"
TAMPERED_FILE = "COMMON-007"
WRONG_ENCRYPTION_KEY = "COMMON-008"
NO_ENCRYPTION_KEY = "COMMON-009"
INVALID_FRAME = "DATA-010"
UNKNOWN_CALENDAR = "DATA-011"
INVALID_RESAMPLE = "DATA-012"

ALL_CODES: tuple[str, ...] = (
    UNKNOWN_TIMEFRAME,
    INVALID_DATE,
    INVALID_VALUES,
    INVALID_BARS,
    BAD_ENCRYPTION_KEY,
    TAMPERED_FILE,
    WRONG_ENCRYPTION_KEY,
    NO_ENCRYPTION_KEY,
    INVALID_FRAME,
    UNKNOWN_CALENDAR,
    INVALID_RESAMPLE,
)
