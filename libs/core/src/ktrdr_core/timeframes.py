"""Timeframes: the one definition every service uses.

A timeframe has a wire code (``"1h"``), the enum name used in the protobuf contract
(``TIMEFRAME_H1``) and a nominal length. ``1M`` (one month) has no fixed length; its nominal
length (30 days) is only used for ordering and gap thresholds.

Bar convention (used everywhere in KTRDR): a bar is stamped with its **open** time in UTC and
covers ``[timestamp, timestamp + length)``. A bar becomes known at its close time.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from ktrdr_core.errors import ValidationError, suggest


@dataclasses.dataclass(frozen=True, slots=True)
class Timeframe:
    """One bar length."""

    code: str
    enum_name: str
    seconds: int
    pandas_rule: str

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    @property
    def is_intraday(self) -> bool:
        return self.seconds < 86_400

    def __str__(self) -> str:
        return self.code


_ALL = (
    Timeframe("1m", "TIMEFRAME_M1", 60, "1min"),
    Timeframe("5m", "TIMEFRAME_M5", 300, "5min"),
    Timeframe("15m", "TIMEFRAME_M15", 900, "15min"),
    Timeframe("30m", "TIMEFRAME_M30", 1_800, "30min"),
    Timeframe("1h", "TIMEFRAME_H1", 3_600, "1h"),
    Timeframe("2h", "TIMEFRAME_H2", 7_200, "2h"),
    Timeframe("4h", "TIMEFRAME_H4", 14_400, "4h"),
    Timeframe("1d", "TIMEFRAME_D1", 86_400, "1D"),
    Timeframe("1w", "TIMEFRAME_W1", 604_800, "W-MON"),
    Timeframe("1M", "TIMEFRAME_MN1", 2_592_000, "MS"),
)

TIMEFRAMES: dict[str, Timeframe] = {tf.code: tf for tf in _ALL}
BY_ENUM_NAME: dict[str, Timeframe] = {tf.enum_name: tf for tf in _ALL}


def parse_timeframe(value: str, *, field: str = "timeframe") -> Timeframe:
    """Return the timeframe for a wire code (``"1h"``) or enum name (``"TIMEFRAME_H1"``).

    Raises
    ------
    ValidationError
        ``COMMON-002`` naming ``field`` and the valid codes, with close matches.
    """
    tf = TIMEFRAMES.get(value) or BY_ENUM_NAME.get(value)
    if tf is not None:
        return tf
    if not value:
        raise ValidationError(
            "COMMON-002",
            f"'{field}' is required; one of {', '.join(TIMEFRAMES)}.",
            field=field,
        )
    # "1H" is a common spelling of 1h; but "1M" is a month, so only fold case when unambiguous.
    folded = {code.lower(): tf for code, tf in TIMEFRAMES.items() if code != "1M"}
    if value.lower() in folded and value != "1m":
        return folded[value.lower()]
    raise ValidationError(
        "COMMON-002",
        f"'{field}' has unknown timeframe '{value}'; use one of {', '.join(TIMEFRAMES)}.",
        field=field,
        suggestions=suggest(value, TIMEFRAMES, cutoff=0.3),
    )
