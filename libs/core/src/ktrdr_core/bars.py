"""Bars in memory: :class:`Bars` (NumPy columns), the one type domains pass to each other, and the
canonical bar frame the data domain computes with internally.

A bar frame is a ``pandas.DataFrame`` with

* index: tz-aware ``DatetimeIndex`` named ``"timestamp"``, dtype ``datetime64[us, UTC]``, sorted
  ascending and unique; each value is the bar's **open** time (bar covers ``[t, t + len)``);
* columns ``open``, ``high``, ``low``, ``close`` (float64) and ``volume`` (int64), in that order.

On the wire (gRPC) bars travel as columns: ``timestamps`` are int64 microseconds since the Unix
epoch (UTC). :meth:`Bars.from_frame` and :meth:`Bars.to_frame` convert between the two forms.

The bar rules
-------------
:data:`BAR_RULES` are what every bar must satisfy, wherever it comes from: a timestamp (not 0,
not missing) inside :data:`ktrdr_core.dates.SUPPORTED_RANGE`; finite, positive prices;
``high >= max(open, close)`` and ``low <= min(open, close)`` (so ``high >= low``); a finite,
non-negative volume of at most :data:`MAX_VOLUME`. :func:`rule_violations` evaluates them;
the data domain's quality check rejects the violating rows of an import or fetch (and repairs
what it may), :func:`check_bars` refuses a batch supplied inline (calculate requests, streams),
which must also be strictly increasing in time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ktrdr_core import codes
from ktrdr_core.dates import MAX_US, MIN_US, SUPPORTED_RANGE
from ktrdr_core.errors import ValidationError

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")
INDEX_NAME = "timestamp"
INDEX_DTYPE = "datetime64[us, UTC]"
# The largest volume stored exactly: float64 holds every integer up to 2**53, int64 beyond.
MAX_VOLUME = float(2**53)
# NaT as int64 epoch microseconds: a missing timestamp.
NAT_US = int(np.iinfo(np.int64).min)


@dataclasses.dataclass(frozen=True, slots=True)
class Bars:
    """Bars in memory: equal-length NumPy columns, the one bar type every domain passes around.

    ``timestamps_us`` are int64 microseconds since the Unix epoch (UTC), each the bar's **open**
    time; prices and volume are float64 (indicator maths wants floats; storage converts volume
    to its integer column). The constructor coerces dtypes and checks the lengths; it does not
    judge the values (that is the data domain's quality check).
    """

    timestamps_us: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "timestamps_us", _column(self.timestamps_us, np.int64))
        for name in COLUMNS:
            object.__setattr__(self, name, _column(getattr(self, name), np.float64))
        n = len(self.timestamps_us)
        if any(len(getattr(self, name)) != n for name in COLUMNS):
            lengths = ", ".join(f"{k}={len(getattr(self, k))}" for k in ("timestamps_us", *COLUMNS))
            raise ValidationError(
                codes.INVALID_FRAME, f"Bar columns differ in length ({lengths}).", field="bars"
            )

    def __len__(self) -> int:
        return len(self.timestamps_us)

    def column(self, name: str) -> np.ndarray:
        """One price/volume column by name (``open`` ... ``volume``)."""
        if name not in COLUMNS:
            raise ValidationError(
                codes.INVALID_FRAME,
                f"Bars have no column '{name}'; columns are {', '.join(COLUMNS)}.",
                field="bars",
            )
        return getattr(self, name)  # type: ignore[no-any-return]

    def take(self, selector: slice | np.ndarray) -> Bars:
        """The bars at ``selector`` (a slice, boolean mask or index array)."""
        return Bars(
            self.timestamps_us[selector],
            *(getattr(self, name)[selector] for name in COLUMNS),
        )

    @classmethod
    def empty(cls) -> Bars:
        prices = np.empty(0, np.float64)
        return cls(np.empty(0, np.int64), prices, prices, prices, prices, prices)

    @classmethod
    def concat(cls, parts: Sequence[Bars]) -> Bars:
        """The parts one after the other (no sorting, no de-duplication)."""
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.timestamps_us for p in parts]),
            *(np.concatenate([getattr(p, name) for p in parts]) for name in COLUMNS),
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Bars:
        """Columns of a canonical bar frame (see :func:`canonicalize`)."""
        return cls(
            index_to_us(frame.index),
            *(frame[name].to_numpy(np.float64) for name in COLUMNS),
        )

    def to_frame(self) -> pd.DataFrame:
        """A canonical bar frame (volume as int64) indexed by the open times."""
        return from_columns(
            self.timestamps_us, self.open, self.high, self.low, self.close, self.volume
        )


def _column(values: object, dtype: type) -> np.ndarray:
    arr: np.ndarray = np.ascontiguousarray(np.asarray(values, dtype=dtype))
    if arr.ndim != 1:
        raise ValidationError(
            codes.INVALID_FRAME, f"Bar columns must be 1-D, got shape {arr.shape}.", field="bars"
        )
    return arr


def utc_index(timestamps_us: np.ndarray) -> pd.DatetimeIndex:
    """A ``datetime64[us, UTC]`` index named ``timestamp`` from int64 epoch microseconds."""
    values = np.asarray(timestamps_us, dtype=np.int64).view("datetime64[us]")
    return pd.DatetimeIndex(values, name=INDEX_NAME).tz_localize("UTC")


def index_to_us(index: pd.DatetimeIndex) -> np.ndarray:
    """Int64 epoch microseconds of a tz-aware (UTC) or naive (taken as UTC) index."""
    idx = index.tz_convert("UTC") if index.tz is not None else index
    return idx.as_unit("us").asi8


def empty_frame() -> pd.DataFrame:
    """A bar frame with no rows and the canonical schema."""
    prices = np.empty(0, np.float64)
    return from_columns(
        np.empty(0, np.int64), prices, prices, prices, prices, np.empty(0, np.int64)
    )


def from_columns(
    timestamps_us: np.ndarray,
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> pd.DataFrame:
    """Build a bar frame from column arrays (no validation of OHLC values; see ``quality``).

    Raises
    ------
    ValidationError
        ``DATA-010`` when the columns differ in length.
    """
    n = len(timestamps_us)
    arrays = (open, high, low, close, volume)
    if any(len(a) != n for a in arrays):
        raise ValidationError(
            codes.INVALID_FRAME, "All bar columns must have the same length.", field="bars"
        )
    data = {
        "open": np.asarray(open, dtype=np.float64),
        "high": np.asarray(high, dtype=np.float64),
        "low": np.asarray(low, dtype=np.float64),
        "close": np.asarray(close, dtype=np.float64),
        "volume": np.asarray(volume, dtype=np.int64),
    }
    return pd.DataFrame(data, index=utc_index(timestamps_us), copy=False)


def frame_from_arrays(arrays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """:func:`from_columns` for a mapping with ``timestamps_us`` and the OHLCV names."""
    return from_columns(
        arrays["timestamps_us"],
        arrays["open"],
        arrays["high"],
        arrays["low"],
        arrays["close"],
        arrays["volume"],
    )


def canonicalize(bars: pd.DataFrame) -> pd.DataFrame:
    """Return ``bars`` with the canonical index dtype/name and column order/dtypes.

    Column names are matched case-insensitively. A naive index is taken as UTC. Row order and
    values are not changed (sorting/deduplication is the quality module's job).

    Raises
    ------
    ValidationError
        ``DATA-010`` when a column is missing, the index is not datetime-like, or volume is not
        integral.
    """
    lower = {str(c).lower(): c for c in bars.columns}
    missing = [c for c in COLUMNS if c not in lower]
    if missing:
        raise ValidationError(
            codes.INVALID_FRAME,
            f"Bar frame lacks column(s) {', '.join(missing)}.",
            field="bars",
        )
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise ValidationError(
            codes.INVALID_FRAME, "Bar frame index must be a DatetimeIndex.", field="bars"
        )
    idx = bars.index
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    idx = idx.as_unit("us").rename(INDEX_NAME)
    vol = bars[lower["volume"]].to_numpy()
    if vol.dtype.kind == "f" and (not np.all(np.isfinite(vol)) or not np.all(vol == np.round(vol))):
        raise ValidationError(
            codes.INVALID_FRAME, "Bar volume must be integral and finite.", field="bars"
        )
    data = {c: bars[lower[c]].to_numpy(np.float64) for c in PRICE_COLUMNS}
    data["volume"] = vol.astype(np.int64)
    return pd.DataFrame(data, index=idx, copy=False)


def is_canonical(bars: pd.DataFrame) -> bool:
    """True when ``bars`` already has the canonical schema, sorted unique index."""
    return (
        tuple(bars.columns) == COLUMNS
        and isinstance(bars.index, pd.DatetimeIndex)
        and str(bars.index.dtype) == INDEX_DTYPE
        and bars.index.name == INDEX_NAME
        and all(bars[c].dtype == np.float64 for c in PRICE_COLUMNS)
        and bars["volume"].dtype == np.int64
        and bars.index.is_monotonic_increasing
        and bars.index.is_unique
    )


@dataclasses.dataclass(frozen=True, slots=True)
class BarRule:
    """One rule every bar must satisfy: ``kind`` names it, ``reason`` says what breaks it."""

    kind: str
    reason: str


BAR_RULES: tuple[BarRule, ...] = (
    BarRule("missing_timestamp", "the timestamp is missing (empty, or 0 = 1970-01-01T00:00Z)"),
    BarRule("timestamp_out_of_range", f"the timestamp is outside {SUPPORTED_RANGE}"),
    BarRule("non_finite_price", "open/high/low/close is NaN or infinite"),
    BarRule("non_positive_price", "a price is zero or negative"),
    BarRule("high_below_low", "high is below low"),
    BarRule("high_below_body", "high is below max(open, close)"),
    BarRule("low_above_body", "low is above min(open, close)"),
    BarRule("non_finite_volume", "volume is NaN or infinite"),
    BarRule("negative_volume", "volume is negative"),
    BarRule("volume_out_of_range", f"volume is above {MAX_VOLUME:.0f} (2**53)"),
)
_REASONS = {rule.kind: rule.reason for rule in BAR_RULES}


def rule_violations(bars: Bars) -> dict[str, np.ndarray]:
    """For each of :data:`BAR_RULES` (in order), the boolean mask of the bars that break it.

    A timestamp of ``numpy.iinfo(int64).min`` (NaT) counts as missing.
    """
    ts, o, h, lo, c, v = (
        bars.timestamps_us,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
    )
    missing = (ts == 0) | (ts == NAT_US)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
        finite_vol = np.isfinite(v)
        return {
            "missing_timestamp": missing,
            "timestamp_out_of_range": ~missing & ((ts < MIN_US) | (ts >= MAX_US)),
            "non_finite_price": ~finite,
            "non_positive_price": finite & ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)),
            "high_below_low": finite & (h < lo),
            "high_below_body": finite & (h < np.maximum(o, c)),
            "low_above_body": finite & (lo > np.minimum(o, c)),
            "non_finite_volume": ~finite_vol,
            "negative_volume": finite_vol & (v < 0),
            "volume_out_of_range": finite_vol & (v > MAX_VOLUME),
        }


def format_us(ts_us: int) -> str:
    """An epoch-microsecond timestamp as ISO-8601 UTC for messages (any int64 value)."""
    if ts_us == NAT_US:
        return "no timestamp"
    text = str(np.datetime64(int(ts_us), "us"))
    return text.removesuffix(".000000") + "Z"


def check_bars(bars: Bars, *, field: str, after_us: int | None = None) -> None:
    """Refuse bars that break a rule: the check for bars supplied inline.

    Applies :data:`BAR_RULES` (the rules imports are held to) and requires timestamps strictly
    increasing (sorted, no duplicates) and, with ``after_us``, after that time (the last bar of
    the previous batch of a stream).

    Parameters
    ----------
    bars
        The bars to check.
    field
        The request field that carried them (``data``, ``bars``), named in the error.
    after_us
        Every timestamp must be greater than this (epoch microseconds), when given.

    Raises
    ------
    ValidationError
        ``COMMON-005`` naming ``field``, the first bad row (0-based) and the rule it breaks;
        ``details`` holds ``row`` and ``rule``.
    """
    n = len(bars)
    if n == 0:
        return
    masks = rule_violations(bars)
    ts = bars.timestamps_us
    previous = np.empty(n, dtype=np.int64)
    previous[0] = NAT_US if after_us is None else after_us
    previous[1:] = ts[:-1]
    masks["not_increasing"] = (ts <= previous) & (previous != NAT_US)
    bad = np.zeros(n, dtype=bool)
    for mask in masks.values():
        bad |= mask
    if not bad.any():
        return
    row = int(np.argmax(bad))
    kind = next(k for k, mask in masks.items() if mask[row])
    if kind == "not_increasing":
        what = "the previous batch's last bar" if row == 0 else f"row {row - 1}"
        reason = f"its timestamp is not after {what} ({format_us(int(previous[row]))})"
    else:
        reason = _REASONS[kind]
    values = ", ".join(f"{name}={float(getattr(bars, name)[row]):.10g}" for name in COLUMNS)
    raise ValidationError(
        codes.INVALID_BARS,
        f"'{field}' row {row} ({format_us(int(ts[row]))}; {values}) is not a valid bar: {reason}.",
        field=field,
        details={"row": row, "rule": kind},
    )
