"""Bar validation and the quality report.

:func:`validate_bars` never drops or changes a bar silently: every change is a
:class:`QualityIssue` in the returned :class:`QualityReport`. The rejection rules are the core's
:data:`ktrdr_core.bars.BAR_RULES` (the same rules inline bars are held to by
``ktrdr_core.bars.check_bars``); this module adds the repairs an import may make.

Policy (``kind`` -> ``action``):

======================  ========  ======================================================
kind                    action    what happens
======================  ========  ======================================================
missing_timestamp       rejected  no timestamp (empty, or 0 = 1970-01-01T00:00Z)
timestamp_out_of_range  rejected  outside 1900-01-01 .. 2200-01-01 (``ktrdr_core.dates``)
non_finite_price        rejected  a NaN/inf open/high/low/close
non_positive_price      rejected  a price <= 0
high_below_low          rejected  high < low
high_below_body         rejected  high < max(open, close) (we do not guess a high)
low_above_body          rejected  low > min(open, close)
non_finite_volume       rejected  an infinite volume (a missing one is ``no_volume``)
negative_volume         rejected  volume < 0 other than IB's -1
volume_out_of_range     rejected  volume > 2**53 (not storable exactly)
(parser kinds)          rejected  rows the parser refused, e.g. ``nonexistent_local_time``
no_volume               repaired  volume -1 (IB "no volume data") or missing -> 0
fractional_volume       repaired  non-integral volume rounded to the nearest integer
unsorted                repaired  timestamps out of order -> sorted (stable)
duplicate               rejected  same timestamp more than once -> the LAST occurrence (in
                                  input order) is kept, the earlier ones are left out
off_grid                flagged   (with a timeframe) the open time is not on the bar grid:
                                  not a whole multiple of min(bar length, 1 hour) in UTC
======================  ========  ======================================================

Counts: ``rejected_bars == input_bars - output_bars`` always (a dropped duplicate is a rejected
bar). A bar that breaks several rules is listed under each but counted once. Rejection checks
run before de-duplication, so a rejected duplicate does not displace a valid one. Each issue
lists the affected rows (0-based positions in the input: row 0 is the first bar of a file or of
the columns) and their timestamps, the first :data:`MAX_LISTED` of each.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd
import structlog

from ktrdr_core import bars as bars_mod
from ktrdr_core.timeframes import Timeframe

log = structlog.get_logger(__name__)

MAX_LISTED = 100
_HOUR_US = 3_600_000_000


class Action(enum.StrEnum):
    REJECTED = "rejected"
    REPAIRED = "repaired"
    FLAGGED = "flagged"


@dataclasses.dataclass(frozen=True, slots=True)
class QualityIssue:
    """One kind of problem found in a batch of bars.

    ``count`` bars are concerned; ``rows`` (0-based input positions) and ``timestamps`` (open
    times, UTC; NaT for a missing one) list the first :data:`MAX_LISTED` of them in input order.
    """

    kind: str
    action: Action
    reason: str
    count: int
    timestamps: tuple[pd.Timestamp, ...] = ()
    rows: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class QualityReport:
    """Outcome of validating a batch of bars (``rejected_bars == input_bars - output_bars``)."""

    input_bars: int = 0
    output_bars: int = 0
    rejected_bars: int = 0
    issues: tuple[QualityIssue, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing was rejected, repaired or flagged."""
        return not self.issues

    @property
    def counts(self) -> dict[str, int]:
        """Affected bars per issue kind."""
        c: Counter[str] = Counter()
        for i in self.issues:
            c[i.kind] += i.count
        return dict(c)

    @property
    def counts_by_action(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for i in self.issues:
            c[i.action.value] += i.count
        return dict(c)

    def merged(self, other: QualityReport) -> QualityReport:
        """Combine two reports (e.g. several fetched batches)."""
        return QualityReport(
            self.input_bars + other.input_bars,
            self.output_bars + other.output_bars,
            self.rejected_bars + other.rejected_bars,
            self.issues + other.issues,
        )

    @staticmethod
    def combine(reports: Iterable[QualityReport]) -> QualityReport:
        out = QualityReport()
        for r in reports:
            out = out.merged(r)
        return out

    @staticmethod
    def passed(bars: int) -> QualityReport:
        """The report of ``bars`` bars that needed nothing (e.g. stored bars read back)."""
        return QualityReport(bars, bars, 0, ())


@dataclasses.dataclass(frozen=True, slots=True)
class RowRejection:
    """Rows a parser refused before validation (``rows``: 0-based positions in the frame)."""

    kind: str
    reason: str
    rows: np.ndarray


@dataclasses.dataclass(frozen=True, slots=True)
class RawBars:
    """A parsed, not yet validated batch: OHLCV columns in any case, a DatetimeIndex (naive =
    UTC; NaT where the parser refused the row), and the parser's rejections."""

    frame: pd.DataFrame
    rejected: tuple[RowRejection, ...] = ()


@dataclasses.dataclass
class _Rows:
    """The surviving rows while validating: input positions and the columns."""

    pos: np.ndarray
    ts: np.ndarray
    o: np.ndarray
    h: np.ndarray
    lo: np.ndarray
    c: np.ndarray
    vol: np.ndarray

    def keep(self, selector: np.ndarray) -> None:
        for name in ("pos", "ts", "o", "h", "lo", "c", "vol"):
            setattr(self, name, getattr(self, name)[selector])


def _issue(kind: str, action: Action, reason: str, rows: _Rows, mask: np.ndarray) -> QualityIssue:
    where = np.flatnonzero(mask)
    listed = where[:MAX_LISTED]
    stamps = tuple(
        pd.NaT if t == bars_mod.NAT_US else pd.Timestamp(int(t), unit="us", tz="UTC")
        for t in rows.ts[listed]
    )
    return QualityIssue(
        kind, action, reason, len(where), stamps, tuple(int(p) for p in rows.pos[listed])
    )


def _columns(raw: pd.DataFrame) -> _Rows:
    lower = {str(c).lower(): c for c in raw.columns}
    if any(c not in lower for c in bars_mod.COLUMNS) or not isinstance(raw.index, pd.DatetimeIndex):
        bars_mod.canonicalize(raw)  # raises the precise DATA-010 error
    idx = raw.index
    idx = (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).as_unit("us")
    o, h, lo, c, vol = (raw[lower[k]].to_numpy(np.float64) for k in bars_mod.COLUMNS)
    return _Rows(np.arange(len(idx)), idx.asi8.copy(), o, h, lo, c, vol)


def _reject(rows: _Rows, raw: RawBars) -> tuple[list[QualityIssue], int]:
    """Apply the parser's rejections and the core's bar rules; drop the rejected rows."""
    n = len(rows.ts)
    reject = np.zeros(n, dtype=bool)
    issues: list[QualityIssue] = []
    for pre in raw.rejected:
        mask = np.zeros(n, dtype=bool)
        mask[pre.rows] = True
        issues.append(_issue(pre.kind, Action.REJECTED, pre.reason, rows, mask))
        reject |= mask
    no_vol = (rows.vol == -1) | np.isnan(rows.vol)  # repaired below, so not a violation
    probe = bars_mod.Bars(rows.ts, rows.o, rows.h, rows.lo, rows.c, np.where(no_vol, 0.0, rows.vol))
    violations = bars_mod.rule_violations(probe)
    for rule in bars_mod.BAR_RULES:
        mask = violations[rule.kind] & ~reject if raw.rejected else violations[rule.kind]
        if mask.any():
            issues.append(_issue(rule.kind, Action.REJECTED, rule.reason, rows, mask))
    for mask in violations.values():
        reject |= mask
    rows.keep(~reject)
    return issues, int(reject.sum())


def _repair(rows: _Rows) -> list[QualityIssue]:
    """Volume repairs and sorting, on the rows that passed the rules."""
    issues: list[QualityIssue] = []
    no_vol = (rows.vol == -1) | np.isnan(rows.vol)
    if no_vol.any():
        reason = "no volume data (IB -1 or missing): set to 0"
        issues.append(_issue("no_volume", Action.REPAIRED, reason, rows, no_vol))
        rows.vol = np.where(no_vol, 0.0, rows.vol)
    frac = rows.vol != np.round(rows.vol)
    if frac.any():
        reason = "non-integral volume rounded"
        issues.append(_issue("fractional_volume", Action.REPAIRED, reason, rows, frac))
        rows.vol = np.round(rows.vol)
    ts = rows.ts
    if len(ts) > 1 and np.any(ts[1:] < ts[:-1]):
        out_of_order = np.zeros(len(ts), dtype=bool)
        out_of_order[1:] = ts[1:] < np.maximum.accumulate(ts)[:-1]
        reason = "timestamps out of order; sorted"
        issues.append(_issue("unsorted", Action.REPAIRED, reason, rows, out_of_order))
        rows.keep(np.argsort(ts, kind="stable"))
    return issues


def _deduplicate(rows: _Rows) -> tuple[list[QualityIssue], int]:
    ts = rows.ts
    if len(ts) < 2:
        return [], 0
    dup_prev = np.zeros(len(ts), dtype=bool)
    dup_prev[:-1] = ts[1:] == ts[:-1]  # a later bar has the same timestamp: drop this one
    if not dup_prev.any():
        return [], 0
    reason = "duplicate timestamp; kept the last occurrence, left this one out"
    issue = _issue("duplicate", Action.REJECTED, reason, rows, dup_prev)
    rows.keep(~dup_prev)
    return [issue], int(dup_prev.sum())


def off_grid(ts_us: np.ndarray, timeframe: Timeframe) -> np.ndarray:
    """Mask of open times not on the grid of ``timeframe``: a whole multiple of
    ``min(bar length, 1 hour)`` since the epoch (so 1h bars open on the hour, 15m bars at
    :00/:15/:30/:45 UTC, daily and longer bars on a whole hour)."""
    grid = min(timeframe.seconds * 1_000_000, _HOUR_US)
    return np.asarray(ts_us, dtype=np.int64) % grid != 0


def validate_bars(
    raw: pd.DataFrame | RawBars, *, timeframe: Timeframe | None = None
) -> tuple[pd.DataFrame, QualityReport]:
    """Validate and normalise a batch of bars (see the module docstring for the policy).

    Parameters
    ----------
    raw
        Columns open/high/low/close/volume (any case; volume may be float with NaN) and a
        DatetimeIndex (naive = UTC), in any order, possibly with duplicates; or a
        :class:`RawBars` that also carries a parser's rejections.
    timeframe
        When given, bars whose open time is off the timeframe's grid are flagged.

    Returns
    -------
    (bars, report)
        ``bars`` is a canonical frame (sorted, unique, UTC, float64 prices, int64 volume).
    """
    if isinstance(raw, pd.DataFrame):
        raw = RawBars(raw)
    rows = _columns(raw.frame)
    n = len(rows.ts)
    issues, rejected = _reject(rows, raw)
    issues += _repair(rows)
    dup_issues, dropped = _deduplicate(rows)
    issues += dup_issues
    if timeframe is not None:
        mask = off_grid(rows.ts, timeframe)
        if mask.any():
            reason = f"open time is not on the {timeframe.code} grid; kept as given"
            issues.append(_issue("off_grid", Action.FLAGGED, reason, rows, mask))
    out = bars_mod.from_columns(rows.ts, rows.o, rows.h, rows.lo, rows.c, rows.vol.astype(np.int64))
    report = QualityReport(n, len(out), rejected + dropped, tuple(issues))
    if issues:
        log.info("bars_validated", input=n, output=len(out), issues=report.counts)
    return out, report
