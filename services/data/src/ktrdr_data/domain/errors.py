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
                                                    ``details["path"]`` names the file relative
                                                    to the data root
DATA-006  UnavailableError      (none)              historical source unreachable (raised by
                                                    source implementations; loader reports it)
DATA-007  ValidationError       column name         CSV lacks a required column (suggestions)
DATA-008  ValidationError       column name         CSV values/timestamps cannot be parsed;
                                                    ``details["row"]`` names the row
DATA-009  ValidationError       mode                unknown load mode
DATA-010  ValidationError       bars                a bar frame has wrong columns/index
DATA-011  ValidationError       calendar            unknown trading calendar name
DATA-012  ValidationError       timeframe           resample target not higher than the source
DATA-013  ValidationError       (config key)        invalid synthetic-generator configuration
DATA-014  ValidationError       start_date          start required (nothing stored to anchor on)
DATA-015  ValidationError       csv_content         an import names no bars (csv_content or bars)
DATA-016  ValidationError       batch_size          batch_size outside 1..10000
DATA-017  ValidationError       replay_speed        replay_speed not 0 nor within 0.01..1e6
DATA-018  ValidationError       csv_content         CSV content empty, or a header without rows
DATA-019  ValidationError       time_zone           not an IANA time zone name (suggestions)
DATA-020  ValidationError       date_order          CSV dates read day-first or month-first and
                                                    the file does not decide, or mixes both
DATA-021  ValidationError       csv_content / bars  an import or replacement has no valid bar
                                                    (every row rejected; the message says why)
DATA-022  ValidationError       page_size           page_size outside its bounds, or an unpaged
                                                    read larger than one page (use paging or
                                                    StreamBars)
DATA-023  ValidationError       page_token          page_token malformed or from another request
DATA-024  ValidationError       instrument.<field>  invalid instrument metadata
DATA-025  ValidationError       start_date          resampling would read, or a load would fetch,
                                                    more bars than allowed (narrow the range)
DATA-026  ValidationError       csv_content / bars  an import of more than 1 000 000 rows (split it)
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
NO_IMPORT_SOURCE = "DATA-015"
INVALID_BATCH_SIZE = "DATA-016"
INVALID_REPLAY_SPEED = "DATA-017"
CSV_EMPTY = "DATA-018"
UNKNOWN_TIME_ZONE = "DATA-019"
AMBIGUOUS_DATE_ORDER = "DATA-020"
NOTHING_TO_IMPORT = "DATA-021"
PAGE_TOO_LARGE = "DATA-022"
INVALID_PAGE_TOKEN = "DATA-023"  # nosec B105 # an error code, not a token
INVALID_INSTRUMENT = "DATA-024"
RANGE_TOO_LARGE = "DATA-025"
IMPORT_TOO_LARGE = "DATA-026"

ALL_CODES: tuple[str, ...] = tuple(f"DATA-{n:03d}" for n in range(1, 27))
