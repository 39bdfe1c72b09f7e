"""Request dates: ISO-8601 dates or date-times, naive meaning UTC (the one parser)."""

from __future__ import annotations

import datetime as dt

from ktrdr_core.errors import ValidationError


def parse_date(value: object, field: str, *, code: str = "COMMON-003") -> dt.datetime | None:
    """A timezone-aware UTC datetime, or None for ``None``/empty.

    Accepts ``2024-01-31``, ``2024-01-31T14:30``, ``2024-01-31T14:30:00Z``, offsets, and
    ``datetime``/``date`` objects.

    Raises
    ------
    ValidationError
        ``code`` naming ``field`` with an example of the expected form.
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
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def to_us(value: dt.datetime) -> int:
    """Microseconds since the epoch."""
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
