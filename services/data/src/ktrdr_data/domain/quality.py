"""Bar validation and the quality report.

:func:`validate_bars` never drops or changes a bar silently: every change is a
:class:`QualityIssue` in the returned :class:`QualityReport`.

Policy (``kind`` -> ``action``):

==================  ========  ==========================================================
kind                action    what happens
==================  ========  ==========================================================
non_finite_price    rejected  a NaN/inf open/high/low/close: the bar is removed
non_positive_price  rejected  a price <= 0: removed
high_below_low      rejected  high < low: removed
high_below_body     rejected  high < max(open, close): removed (we do not guess a high)
low_above_body      rejected  low > min(open, close): removed
negative_volume     rejected  volume < 0 other than -1: removed
no_volume           repaired  volume -1 (IB "no volume data") or NaN -> 0, flagged
fractional_volume   repaired  non-integral volume rounded to the nearest integer
unsorted            repaired  timestamps out of order -> sorted (stable)
duplicate           repaired  same timestamp more than once -> the LAST occurrence (in input
                              order) is kept, earlier ones removed
==================  ========  ==========================================================

A bar that fails several rejection checks is reported under each of them but counted once in
``rejected_bars``. Rejection checks run before de-duplication, so a rejected duplicate does
not displace a valid one.
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

log = structlog.get_logger(__name__)


class Action(enum.StrEnum):
    REJECTED = "rejected"
    REPAIRED = "repaired"
    FLAGGED = "flagged"


@dataclasses.dataclass(frozen=True, slots=True)
class QualityIssue:
    """One kind of problem found in a batch of bars.

    ``timestamps`` lists every affected bar's open time (UTC) in input order.
    """

    kind: str
    action: Action
    reason: str
    timestamps: tuple[pd.Timestamp, ...]

    @property
    def count(self) -> int:
        return len(self.timestamps)


@dataclasses.dataclass(frozen=True, slots=True)
class QualityReport:
    """Outcome of validating a batch of bars."""

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


def _stamps(index: pd.DatetimeIndex, mask: np.ndarray) -> tuple[pd.Timestamp, ...]:
    return tuple(index[mask])


_REJECT_CHECKS: tuple[tuple[str, str], ...] = (
    ("non_finite_price", "open/high/low/close is NaN or infinite"),
    ("non_positive_price", "a price is zero or negative"),
    ("high_below_low", "high is below low"),
    ("high_below_body", "high is below max(open, close)"),
    ("low_above_body", "low is above min(open, close)"),
    ("negative_volume", "volume is negative (and not IB's -1 'no data')"),
)


def validate_bars(raw: pd.DataFrame) -> tuple[pd.DataFrame, QualityReport]:
    """Validate and normalise a batch of bars.

    Parameters
    ----------
    raw
        Columns open/high/low/close/volume (any case; volume may be float with NaN) and a
        DatetimeIndex (naive = UTC), in any order, possibly with duplicates.

    Returns
    -------
    (bars, report)
        ``bars`` is a canonical frame (sorted, unique, UTC, float64 prices, int64 volume).
    """
    lower = {str(c).lower(): c for c in raw.columns}
    probe = pd.DataFrame(
        {c: raw[lower[c]] for c in bars_mod.COLUMNS if c in lower}, index=raw.index
    )
    if len(probe.columns) < len(bars_mod.COLUMNS) or not isinstance(raw.index, pd.DatetimeIndex):
        bars_mod.canonicalize(raw)  # raises the precise DATA-010 error
    idx = raw.index
    idx = (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).as_unit("us")
    idx = idx.rename(bars_mod.INDEX_NAME)
    o, h, lo, c = (probe[k].to_numpy(np.float64) for k in bars_mod.PRICE_COLUMNS)
    vol = probe["volume"].to_numpy(np.float64)
    n = len(idx)
    issues: list[QualityIssue] = []

    with np.errstate(invalid="ignore"):
        finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
        masks = {
            "non_finite_price": ~finite,
            "non_positive_price": finite & ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)),
            "high_below_low": finite & (h < lo),
            "high_below_body": finite & (h < np.maximum(o, c)),
            "low_above_body": finite & (lo > np.minimum(o, c)),
            "negative_volume": (vol < 0) & (vol != -1),
        }
    reject = np.zeros(n, dtype=bool)
    for kind, reason in _REJECT_CHECKS:
        m = masks[kind]
        if m.any():
            issues.append(QualityIssue(kind, Action.REJECTED, reason, _stamps(idx, m)))
            reject |= m

    keep = ~reject
    idx, o, h, lo, c, vol = idx[keep], o[keep], h[keep], lo[keep], c[keep], vol[keep]

    no_vol = (vol == -1) | np.isnan(vol)
    if no_vol.any():
        issues.append(
            QualityIssue(
                "no_volume",
                Action.REPAIRED,
                "no volume data (IB -1 or missing): set to 0",
                _stamps(idx, no_vol),
            )
        )
        vol = np.where(no_vol, 0.0, vol)
    frac = vol != np.round(vol)
    if frac.any():
        issues.append(
            QualityIssue(
                "fractional_volume",
                Action.REPAIRED,
                "non-integral volume rounded",
                _stamps(idx, frac),
            )
        )
        vol = np.round(vol)

    ts = idx.asi8
    if len(ts) > 1 and np.any(ts[1:] < ts[:-1]):
        out_of_order = np.zeros(len(ts), dtype=bool)
        out_of_order[1:] = ts[1:] < np.maximum.accumulate(ts)[:-1]
        issues.append(
            QualityIssue(
                "unsorted",
                Action.REPAIRED,
                "timestamps out of order; sorted",
                _stamps(idx, out_of_order),
            )
        )
        order = np.argsort(ts, kind="stable")
        idx, o, h, lo, c, vol = idx[order], o[order], h[order], lo[order], c[order], vol[order]
        ts = idx.asi8
    if len(ts) > 1:
        dup_prev = np.zeros(len(ts), dtype=bool)
        dup_prev[:-1] = ts[1:] == ts[:-1]  # a later bar has the same timestamp: drop this one
        if dup_prev.any():
            issues.append(
                QualityIssue(
                    "duplicate",
                    Action.REPAIRED,
                    "duplicate timestamp; kept the last occurrence, removed this one",
                    _stamps(idx, dup_prev),
                )
            )
            k = ~dup_prev
            idx, o, h, lo, c, vol = idx[k], o[k], h[k], lo[k], c[k], vol[k]

    out = bars_mod.from_columns(idx.asi8, o, h, lo, c, vol.astype(np.int64))
    report = QualityReport(n, len(out), int(reject.sum()), tuple(issues))
    if issues:
        log.info("bars_validated", input=n, output=len(out), issues=report.counts)
    return out, report
