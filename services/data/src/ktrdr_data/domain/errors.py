"""Error codes of the data service domain (``DATA-0NN``).

Every error the data domain raises is one of the ``ktrdr_core.errors`` classes with one of the
stable codes below. Never reuse a number for another meaning.

========  ====================  ==================  ===============================================
Code      Class                 ``field``           Condition
========  ====================  ==================  ===============================================
DATA-001  ValidationError       symbol              symbol fails the whitelist regex
DATA-002  ValidationError       start_date/end_date  unparsable date/time value
DATA-003  ValidationError       start_date          start is after end
DATA-004  NotFoundError         symbol / timeframe  nothing stored for the series (local mode);
                                                    suggestions = close stored symbols
DATA-005  DataLossError         (none)              stored Parquet file corrupt/unreadable;
                                                    ``details["path"]`` names the file
DATA-006  UnavailableError      (none)              historical source unreachable (raised by
                                                    source implementations; loader reports it)
DATA-007  ValidationError       column name         CSV lacks a required column (suggestions)
DATA-008  ValidationError       column name         CSV values/timestamps cannot be parsed
DATA-009  ValidationError       mode                unknown load mode
DATA-010  ValidationError       bars                a bar frame has wrong columns/index
DATA-011  ValidationError       calendar            unknown trading calendar name
DATA-012  ValidationError       timeframe           resample target not higher than the source
DATA-013  ValidationError       (config key)        invalid synthetic-generator configuration
DATA-014  ValidationError       start_date          start required (nothing stored to anchor on)
DATA-015  ValidationError       csv_content         an import without bars (neither CSV nor columns)
DATA-016  ValidationError       batch_size          stream batch size outside [1, 10000]
DATA-017  ValidationError       replay_speed        replay speed negative or not finite
========  ====================  ==================  ===============================================
"""

from __future__ import annotations

# Raised by the core (bar frames, calendars, resampling), which the data domain relies on.

INVALID_SYMBOL = "DATA-001"
INVALID_DATE = "DATA-002"
START_AFTER_END = "DATA-003"
SERIES_NOT_FOUND = "DATA-004"
CORRUPT_FILE = "DATA-005"
SOURCE_UNAVAILABLE = "DATA-006"
CSV_MISSING_COLUMN = "DATA-007"
CSV_BAD_VALUE = "DATA-008"
INVALID_MODE = "DATA-009"
INVALID_SYNTHETIC = "DATA-013"
START_REQUIRED = "DATA-014"
NOTHING_TO_IMPORT = "DATA-015"
INVALID_BATCH_SIZE = "DATA-016"
INVALID_REPLAY_SPEED = "DATA-017"

ALL_CODES: tuple[str, ...] = tuple(f"DATA-{n:03d}" for n in range(1, 18))
