from __future__ import annotations

import numpy as np
import pandas as pd
from data_testutil import make_bars
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_data.domain.quality import Action, validate_bars


def _raw(rows, index=None):
    idx = pd.DatetimeIndex(
        index if index is not None else pd.date_range("2024-01-01", periods=len(rows), freq="1h")
    )
    return pd.DataFrame(rows, columns=["Open", "High", "Low", "Close", "Volume"], index=idx)


def _issue(report, kind):
    return next(i for i in report.issues if i.kind == kind)


def test_clean_bars_pass_unchanged_with_empty_report():
    bars = make_bars("2024-01-01", 100)
    out, report = validate_bars(bars)
    assert out.equals(bars)
    assert report.ok and report.input_bars == report.output_bars == 100


def test_inconsistent_ohlc_bars_are_rejected_and_listed():
    raw = _raw(
        [
            [10, 11, 9, 10.5, 5],  # ok
            [10, 9, 11, 10, 5],  # high < low
            [10, 10.2, 9, 10.5, 5],  # high below close
            [10, 11, 10.2, 10.5, 5],  # low above open
            [np.nan, 11, 9, 10, 5],  # NaN
            [0, 11, 9, 10, 5],  # non-positive
            [10, 11, 9, 10, -5],  # negative volume
        ]
    )
    out, report = validate_bars(raw)
    assert len(out) == 1 and out.index[0] == raw.index[0].tz_localize("UTC")
    assert report.rejected_bars == 6
    for kind, row in [
        ("high_below_low", 1),
        ("high_below_body", 2),
        ("low_above_body", 3),
        ("non_finite_price", 4),
        ("non_positive_price", 5),
        ("negative_volume", 6),
    ]:
        issue = _issue(report, kind)
        assert issue.action is Action.REJECTED
        assert raw.index[row].tz_localize("UTC") in issue.timestamps
        assert issue.reason


def test_ib_minus_one_volume_becomes_zero_and_is_flagged():
    out, report = validate_bars(_raw([[10, 11, 9, 10, -1], [10, 11, 9, 10, 7]]))
    assert out["volume"].tolist() == [0, 7]
    issue = _issue(report, "no_volume")
    assert issue.action is Action.REPAIRED and "no volume data" in issue.reason
    assert issue.count == 1


def test_unsorted_bars_are_sorted_and_reported():
    idx = pd.to_datetime(["2024-01-01 02:00", "2024-01-01 00:00", "2024-01-01 01:00"])
    out, report = validate_bars(_raw([[1, 2, 1, 1, 1], [2, 3, 2, 2, 2], [3, 4, 3, 3, 3]], idx))
    assert out["open"].tolist() == [2, 3, 1]
    assert out.index.is_monotonic_increasing
    assert _issue(report, "unsorted").count == 2


def test_duplicates_keep_last_occurrence_and_the_dropped_one_counts_as_rejected():
    idx = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 00:00"])
    out, report = validate_bars(_raw([[1, 2, 1, 1, 1], [2, 3, 2, 2, 2], [9, 9, 9, 9, 9]], idx))
    assert len(out) == 2
    assert out.loc["2024-01-01 00:00", "open"] == 9  # last occurrence wins
    dup = _issue(report, "duplicate")
    assert dup.action is Action.REJECTED and dup.count == 1 and dup.rows == (0,)
    assert report.rejected_bars == report.input_bars - report.output_bars == 1


def test_naive_index_is_taken_as_utc_and_volume_is_int():
    out, _ = validate_bars(_raw([[10, 11, 9, 10, 3.0]]))
    assert str(out.index.dtype) == "datetime64[us, UTC]"
    assert out["volume"].dtype == np.int64


_price = st.one_of(st.floats(min_value=-5, max_value=200), st.just(float("nan")))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_price, _price, _price, _price, st.sampled_from([-3, -1, 0, 5, 100])),
        min_size=1,
        max_size=30,
    ),
    hours=st.lists(st.integers(0, 10), min_size=30, max_size=30),
)
def test_no_bar_disappears_without_a_reported_reason(rows, hours):
    idx = pd.DatetimeIndex(
        [pd.Timestamp("2024-01-01") + pd.Timedelta(hours=h) for h in hours[: len(rows)]]
    )
    out, report = validate_bars(_raw([list(r) for r in rows], idx))
    assert report.input_bars == len(rows) and report.output_bars == len(out)
    assert len(out) == len(rows) - report.rejected_bars
    # every output bar is consistent
    assert (out["high"] >= out[["open", "close"]].max(axis=1)).all()
    assert (out["low"] <= out[["open", "close"]].min(axis=1)).all()
    assert (out[["open", "high", "low", "close"]] > 0).all().all()
    assert (out["volume"] >= 0).all()
    assert out.index.is_unique and out.index.is_monotonic_increasing
