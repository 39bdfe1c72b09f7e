"""CSV import/export of bars.

Import accepts common layouts:

* a time column named ``Date``, ``Datetime``, ``Timestamp`` or ``Time`` (any case), or an
  unnamed first column (pandas/backtesting index dumps); separate ``Date`` + ``Time`` columns
  are combined;
* ``Open``, ``High``, ``Low``, ``Close``, ``Volume`` in any case (``Adj Close`` and other
  columns are ignored);
* time values as ISO strings with or without offset (naive = UTC unless ``tz`` is given; aware
  values are converted to UTC), or numeric epoch seconds / milliseconds / microseconds /
  nanoseconds (unit inferred from magnitude).

:func:`read_csv` returns a *raw* frame (unsorted, volume may be float/NaN); pass it through
``quality.validate_bars`` before storing. Export writes ``timestamp`` as ISO-8601 UTC
(``2017-04-19T09:00:00Z``) followed by the OHLCV columns.
"""

from __future__ import annotations

import io
import os
from typing import IO

import numpy as np
import pandas as pd

from ktrdr_core import bars as bars_mod
from ktrdr_core.errors import ValidationError, suggest
from ktrdr_data.domain import errors as codes

_TIME_NAMES = ("timestamp", "datetime", "date", "time")


def _epoch_unit(values: np.ndarray) -> str:
    mag = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    if mag < 1e11:
        return "s"
    if mag < 1e14:
        return "ms"
    if mag < 1e17:
        return "us"
    return "ns"


def _parse_times(col: pd.Series, name: str, tz: str | None) -> pd.DatetimeIndex:
    try:
        if pd.api.types.is_numeric_dtype(col):
            vals = col.to_numpy(np.float64)
            idx = pd.DatetimeIndex(pd.to_datetime(vals, unit=_epoch_unit(vals), utc=True))
        else:
            text = col.astype(str).str.strip()
            parsed = pd.to_datetime(text, utc=False, format="mixed")
            idx = pd.DatetimeIndex(parsed)
            if idx.tz is None:
                idx = idx.tz_localize(tz or "UTC")
            idx = idx.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationError(
            codes.CSV_BAD_VALUE,
            f"Column '{name}' has values that are not dates/times: {exc}",
            field=name,
        ) from exc
    if idx.isna().any():
        raise ValidationError(
            codes.CSV_BAD_VALUE, f"Column '{name}' has empty date/time values.", field=name
        )
    return idx.as_unit("us").rename(bars_mod.INDEX_NAME)


def read_csv(
    source: str | os.PathLike[str] | IO[str],
    *,
    tz: str | None = None,
    time_column: str | None = None,
) -> pd.DataFrame:
    """Parse a bar CSV into a raw frame (see module docstring).

    Raises
    ------
    ValidationError
        ``DATA-007`` naming a missing column (with suggestions among the headers);
        ``DATA-008`` for unparsable times or prices.
    """
    df = pd.read_csv(source)
    headers = [str(c) for c in df.columns]
    lower = {h.strip().lower(): h for h in headers}
    if time_column is not None:
        if time_column not in headers:
            raise ValidationError(
                codes.CSV_MISSING_COLUMN,
                f"CSV has no column '{time_column}'.",
                field=time_column,
                suggestions=suggest(time_column, headers),
            )
        times = _parse_times(df[time_column], time_column, tz)
    elif "date" in lower and "time" in lower:
        combined = df[lower["date"]].astype(str) + " " + df[lower["time"]].astype(str)
        times = _parse_times(combined, "date", tz)
    else:
        name = next((lower[n] for n in _TIME_NAMES if n in lower), None)
        if name is None and (headers[0] == "" or headers[0].lower().startswith("unnamed")):
            name = headers[0]
        if name is None:
            raise ValidationError(
                codes.CSV_MISSING_COLUMN,
                "CSV has no time column (Date, Datetime, Timestamp or Time).",
                field="timestamp",
                suggestions=suggest("timestamp", headers, cutoff=0.4) or headers[:1],
            )
        times = _parse_times(df[name], name, tz)
    out = {}
    for col in bars_mod.COLUMNS:
        if col not in lower:
            raise ValidationError(
                codes.CSV_MISSING_COLUMN,
                f"CSV has no '{col}' column (any case); columns are: {', '.join(headers)}.",
                field=col,
                suggestions=suggest(col, headers, cutoff=0.5),
            )
        values = pd.to_numeric(df[lower[col]], errors="coerce")
        bad = values.isna() & df[lower[col]].notna()
        if bad.any():
            first = df[lower[col]][bad].iloc[0]
            raise ValidationError(
                codes.CSV_BAD_VALUE,
                f"Column '{lower[col]}' has a non-numeric value {first!r} "
                f"(row {int(np.flatnonzero(bad.to_numpy())[0]) + 2}).",
                field=col,
            )
        out[col] = values.to_numpy(np.float64)
    return pd.DataFrame(out, index=times)


def write_csv(bars: pd.DataFrame, target: str | os.PathLike[str] | IO[str] | None = None) -> str:
    """Write bars as CSV (ISO-8601 UTC timestamps); returns the text when ``target`` is None."""
    frame = bars.loc[:, list(bars_mod.COLUMNS)].copy()
    idx = bars.index.tz_convert("UTC") if bars.index.tz is not None else bars.index
    frame.index = pd.Index(idx.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), name="timestamp")
    frame.index = frame.index.str.replace(".000000Z", "Z", regex=False)
    buf = io.StringIO()
    frame.to_csv(buf, float_format=None)
    text = buf.getvalue()
    if target is None:
        return text
    if hasattr(target, "write"):
        target.write(text)  # type: ignore[union-attr]
    else:
        with open(target, "w", newline="") as fh:
            fh.write(text)
    return text
