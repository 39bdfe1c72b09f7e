"""Request dates: ISO-8601 dates or date-times, naive meaning UTC (the one parser).

Supported range
---------------
Every date a request names and every bar's timestamp lies in ``[MIN_DATE, MAX_DATE]``
(1900-01-01T00:00:00Z to 2200-01-01T00:00:00Z; a bar must open before ``MAX_DATE``). The
bounds keep every date representable by pandas (nanoseconds, 1677-2262), NumPy, Parquet and
``google.protobuf.Timestamp``; a date outside them is an invalid argument naming the field and
the range, never an overflow deep inside a service.
"""

from __future__ import annotations

import datetime as dt

from ktrdr_core.errors import ValidationError

MIN_DATE = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
MAX_DATE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
SUPPORTED_RANGE = "1900-01-01T00:00:00Z to 2200-01-01T00:00:00Z"


def to_us(value: dt.datetime) -> int:
    """Microseconds since the epoch."""
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


MIN_US = to_us(MIN_DATE)
MAX_US = to_us(MAX_DATE)


def parse_date(value: object, field: str, *, code: str = "COMMON-003") -> dt.datetime | None:
    """A timezone-aware UTC datetime in the supported range, or None for ``None``/empty.

    Accepts ``2024-01-31``, ``2024-01-31T14:30``, ``2024-01-31T14:30:00Z``, offsets, and
    ``datetime``/``date`` objects.

    Raises
    ------
    ValidationError
        ``code`` naming ``field``: with an example of the expected form when the value is not a
        date, with :data:`SUPPORTED_RANGE` when it lies outside it.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        elif isinstance(value, dt.datetime):
            parsed = value
        elif isinstance(value, dt.date):
            parsed = dt.datetime(value.year, value.month, value.day)
        else:
            raise TypeError(type(value).__name__)
    except (ValueError, TypeError):
        raise ValidationError(
            code,
            f"'{field}' {str(value)[:60]!r} is not an ISO-8601 date or datetime "
            "(e.g. 2024-01-31 or 2024-01-31T14:30:00Z).",
            field=field,
        ) from None
    try:
        utc = parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    except OverflowError:  # an offset pushes year 1 or 9999 off the calendar
        utc = None
    if utc is None or not MIN_DATE <= utc <= MAX_DATE:
        raise ValidationError(
            code,
            f"'{field}' {str(value)[:60]!r} is outside the supported range {SUPPORTED_RANGE}.",
            field=field,
            details={"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()},
        )
    return utc
