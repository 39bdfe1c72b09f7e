"""The core's date bounds and bar rules: one definition for every service (issue 9, items 3, 11)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core.bars import BAR_RULES, Bars, check_bars, rule_violations
from ktrdr_core.dates import MAX_DATE, MIN_DATE, parse_date
from ktrdr_core.errors import ValidationError

HOUR = 3_600_000_000
T0 = 1_704_067_200_000_000  # 2024-01-01T00:00Z


def _bars(n: int = 5, **columns: list[float]) -> Bars:
    ts = T0 + np.arange(n, dtype=np.int64) * HOUR
    close = 1.1 + np.arange(n) * 1e-3
    base = {
        "timestamps_us": ts,
        "open": close,
        "high": close + 1e-3,
        "low": close - 1e-3,
        "close": close,
        "volume": np.full(n, 10.0),
    }
    base.update({k: np.asarray(v) for k, v in columns.items()})
    return Bars(**base)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31",
        "0001-01-01",
        "1899-12-31T23:59:59Z",
        "2200-01-01T00:00:01Z",
        "0001-01-01T00:00:00+05:00",  # the offset alone overflows the calendar
        "9999-12-31T23:00:00-05:00",
    ],
)
def test_dates_outside_the_supported_range_name_the_field_and_the_range(value):
    with pytest.raises(ValidationError) as err:
        parse_date(value, "end_date", code="DATA-002")
    assert err.value.code == "DATA-002" and err.value.field == "end_date"
    assert "1900-01-01" in err.value.message and "2200-01-01" in err.value.message


def test_the_bounds_themselves_are_accepted():
    assert parse_date("1900-01-01", "start_date") == MIN_DATE
    assert parse_date("2200-01-01T00:00:00Z", "end_date") == MAX_DATE
    assert parse_date(dt.date(2017, 6, 1), "start_date") == dt.datetime(2017, 6, 1, tzinfo=dt.UTC)


def test_valid_bars_pass_the_check():
    check_bars(_bars(), field="data")
    check_bars(_bars(0), field="data")


@pytest.mark.parametrize(
    ("columns", "rule", "row"),
    [
        ({"high": [1.2, 1.2, 1.1015, 1.2, 1.2]}, "high_below_body", 2),
        ({"low": [1.0, 1.0, 1.0, 1.1035, 1.0]}, "low_above_body", 3),
        ({"close": [1.1, np.nan, 1.1, 1.1, 1.1]}, "non_finite_price", 1),
        ({"open": [1.1, 1.101, 1.102, 1.103, -1.0]}, "non_positive_price", 4),
        ({"volume": [1, 1, -1, 1, 1]}, "negative_volume", 2),
        ({"volume": [1, np.inf, 1, 1, 1]}, "non_finite_volume", 1),
        ({"volume": [1, 1, 1, 1e30, 1]}, "volume_out_of_range", 3),
        (
            {"timestamps_us": [T0, 0, T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]},
            "missing_timestamp",
            1,
        ),
        (
            {"timestamps_us": [T0, T0 + HOUR, T0 + HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]},
            "not_increasing",
            2,
        ),
        (
            {"timestamps_us": [T0, T0 + 2 * HOUR, T0 + HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]},
            "not_increasing",
            2,
        ),
        (
            {"timestamps_us": [T0 + HOUR * i for i in range(4)] + [253_370_764_800_000_000]},
            "timestamp_out_of_range",
            4,
        ),
    ],
)
def test_the_first_bad_row_is_named_with_its_rule(columns, rule, row):
    bars = _bars(**columns)
    with pytest.raises(ValidationError) as err:
        check_bars(bars, field="data")
    assert err.value.code == "COMMON-005" and err.value.field == "data"
    assert err.value.details == {"row": str(row), "rule": rule}
    assert f"'data' row {row} " in err.value.message


def test_a_batch_must_start_after_the_previous_one():
    bars = _bars()
    check_bars(bars, field="bars", after_us=T0 - 1)
    with pytest.raises(ValidationError) as err:
        check_bars(bars, field="bars", after_us=T0)
    assert err.value.details == {"row": "0", "rule": "not_increasing"}
    assert "previous batch" in err.value.message


def test_the_first_violation_wins_when_several_rows_are_bad():
    bars = _bars(high=[1.2, 1.2, 1.2, 0.5, 1.2], volume=[1, 1, -5, 1, 1])
    with pytest.raises(ValidationError) as err:
        check_bars(bars, field="data")
    assert err.value.details["row"] == "2"


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 6),
            *(st.one_of(st.floats(-2, 3), st.just(np.nan)) for _ in range(4)),
            st.one_of(st.floats(-2, 1e17), st.just(np.nan)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_check_bars_refuses_exactly_what_the_rules_flag(rows):
    ts, o, h, lo, c, v = (np.array(col) for col in zip(*rows, strict=True))
    bars = Bars(T0 + ts.astype(np.int64) * HOUR, o, h, lo, c, v)
    flagged = np.zeros(len(bars), dtype=bool)
    for mask in rule_violations(bars).values():
        flagged |= mask
    flagged[1:] |= np.diff(bars.timestamps_us) <= 0
    if flagged.any():
        with pytest.raises(ValidationError) as err:
            check_bars(bars, field="data")
        assert err.value.details["row"] == str(int(np.argmax(flagged)))
    else:
        check_bars(bars, field="data")
        assert np.all(bars.high >= np.maximum(bars.open, bars.close))
        assert np.all(bars.low <= np.minimum(bars.open, bars.close))
        assert np.all(bars.open > 0) and np.all(bars.volume >= 0)


def test_every_rule_has_a_kind_and_a_reason():
    kinds = [rule.kind for rule in BAR_RULES]
    assert len(set(kinds)) == len(kinds) and all(rule.reason for rule in BAR_RULES)
    assert set(rule_violations(_bars())) == set(kinds)
