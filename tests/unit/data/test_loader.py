from __future__ import annotations

import pandas as pd
import pytest
from data_testutil import make_bars

from ktrdr_core.errors import NotFoundError, UnavailableError, ValidationError
from ktrdr_data.domain.loader import DataLoader, LoadMode, parse_date


class FakeSource:
    """In-memory stand-in for the remote ib_gateway source."""

    def __init__(self, bars: pd.DataFrame, *, down: bool = False):
        self.bars, self.down, self.calls = bars, down, []

    async def fetch(self, symbol, timeframe, start, end):
        self.calls.append((symbol, timeframe, start, end))
        if self.down:
            raise UnavailableError("DATA-006", "ib_gateway unreachable")
        return self.bars[(self.bars.index >= start) & (self.bars.index < end)]


ALL = make_bars("2024-07-01", 24 * 10)  # 10 days of hourly EURUSD
T = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731


async def test_local_mode_reads_store_without_calling_source(store):
    store.write("EURUSD", "1h", ALL.iloc[48:120])
    src = FakeSource(ALL)
    res = await DataLoader(store, src).load("EURUSD", "1h", "2024-07-03", "2024-07-04")
    assert src.calls == []
    assert len(res.bars) == 24 and res.provenance.local_bars == 24
    assert res.provenance.complete


async def test_tail_fetches_only_after_last_stored_bar(store):
    store.write("EURUSD", "1h", ALL.iloc[:100])
    src = FakeSource(ALL)
    res = await DataLoader(store, src).load(
        "EURUSD", "1h", None, ALL.index[-1] + pd.Timedelta("1h"), "tail"
    )
    assert src.calls == [("EURUSD", "1h", ALL.index[100], ALL.index[-1] + pd.Timedelta("1h"))]
    assert res.bars.equals(ALL)
    assert (res.provenance.local_bars, res.provenance.fetched_bars) == (100, 140)
    assert res.provenance.complete and res.provenance.source_status == "ok"
    assert store.read("EURUSD", "1h").equals(ALL)  # merged and stored


async def test_backfill_fetches_only_before_first_stored_bar(store):
    store.write("EURUSD", "1h", ALL.iloc[100:])
    src = FakeSource(ALL)
    res = await DataLoader(store, src).load("EURUSD", "1h", ALL.index[0], None, "backfill")
    assert src.calls == [("EURUSD", "1h", ALL.index[0], ALL.index[100])]
    assert len(res.bars) == 240


async def test_full_fills_both_ends_and_internal_unexpected_gaps(store):
    stored = pd.concat([ALL.iloc[50:100], ALL.iloc[110:200]])
    store.write("EURUSD", "1h", stored)
    src = FakeSource(ALL)
    end = ALL.index[-1] + pd.Timedelta("1h")
    res = await DataLoader(store, src).load("EURUSD", "1h", ALL.index[0], end, "full")
    ranges = {(c[2], c[3]) for c in src.calls}
    assert ranges == {
        (ALL.index[0], ALL.index[50]),
        (ALL.index[100], ALL.index[110]),
        (ALL.index[200], end),
    }
    assert res.bars.equals(ALL) and res.provenance.complete


async def test_unreachable_source_returns_local_part_flagged_incomplete(store):
    store.write("EURUSD", "1h", ALL.iloc[:100])
    end = ALL.index[-1] + pd.Timedelta("1h")
    res = await DataLoader(store, FakeSource(ALL, down=True)).load(
        "EURUSD", "1h", ALL.index[0], end, "tail"
    )
    assert res.bars.equals(ALL.iloc[:100])  # nothing invented
    p = res.provenance
    assert not p.complete and p.source_status == "unavailable: ib_gateway unreachable"
    assert [(r.start, r.end) for r in p.missing_ranges] == [(ALL.index[100], end)]
    assert len(store.read("EURUSD", "1h")) == 100


async def test_no_source_configured_is_reported(store):
    store.write("EURUSD", "1h", ALL.iloc[:100])
    res = await DataLoader(store, None).load("EURUSD", "1h", None, "2030-01-01", "tail")
    assert not res.provenance.complete
    assert res.provenance.source_status == "not_configured"
    assert len(res.bars) == 100


async def test_fetched_bad_bars_are_rejected_and_reported(store):
    bad = ALL.iloc[:5].copy()
    bad.iloc[2, bad.columns.get_loc("high")] = 0.5  # high below low
    res = await DataLoader(store, FakeSource(bad)).load(
        "EURUSD", "1h", ALL.index[0], ALL.index[5], "tail"
    )
    assert len(res.bars) == 4
    assert res.quality.rejected_bars == 1 and ALL.index[2] in res.quality.issues[0].timestamps


async def test_argument_validation(store):
    loader = DataLoader(store, None)
    with pytest.raises(ValidationError) as exc:
        await loader.load("EURUSD", "1h", "2024-02-01", "2024-01-01")
    assert exc.value.field == "start_date" and exc.value.code == "DATA-003"
    with pytest.raises(ValidationError) as exc:
        await loader.load("EURUSD", "1h", "yesterday-ish", None)
    assert exc.value.field == "start_date" and exc.value.code == "DATA-002"
    with pytest.raises(ValidationError) as exc:
        await loader.load("EURUSD", "1h", None, None, "sideways")
    assert exc.value.field == "mode"
    with pytest.raises(ValidationError) as exc:
        await loader.load("eur/usd", "1h")
    assert exc.value.field == "symbol"


async def test_unknown_symbol_in_local_mode_suggests_stored(store):
    store.write("EURUSD", "1h", ALL.iloc[:5])
    with pytest.raises(NotFoundError) as exc:
        await DataLoader(store).load("EURUSE", "1h", mode=LoadMode.LOCAL)
    assert exc.value.field == "symbol" and exc.value.suggestions == ("EURUSD",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-31", T("2024-01-31")),
        ("2024-01-31T14:30:00", T("2024-01-31 14:30")),
        ("2024-01-31T14:30:00Z", T("2024-01-31 14:30")),
        ("2024-01-31T09:30:00-05:00", T("2024-01-31 14:30")),
        (None, None),
    ],
)
def test_parse_date_accepts_iso_dates_and_datetimes(value, expected):
    assert parse_date(value, "start_date") == expected


async def test_a_load_that_would_fetch_too_many_bars_is_refused_before_asking(store):
    src = FakeSource(ALL)
    with pytest.raises(ValidationError) as exc:
        await DataLoader(store, src).load("EURUSD", "1m", "2017-01-01", "2021-01-01", "tail")
    assert exc.value.code == "DATA-025" and exc.value.field == "start_date"
    assert "2000000" in exc.value.message and src.calls == []
