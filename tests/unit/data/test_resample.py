from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from data_testutil import make_bars
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_core.calendars import CALENDARS
from ktrdr_core.errors import ValidationError
from ktrdr_core.resample import align_to_base, closed_bars, period_end_us, resample
from ktrdr_core.timeframes import TIMEFRAMES as T
from ktrdr_data.domain.bundled import bundled_frame


def test_1h_to_4h_aggregates_ohlcv_on_utc_bins():
    bars = make_bars("2024-01-01 01:00", 8)  # 01:00..08:00 -> bins 00:00, 04:00, 08:00
    out = resample(bars, T["1h"], T["4h"])
    assert out.index.tolist() == [
        pd.Timestamp(f"2024-01-01 {h}", tz="UTC") for h in ("00:00", "04:00", "08:00")
    ]
    first = bars.iloc[0:3]
    assert out.iloc[0]["open"] == first["open"].iloc[0]
    assert out.iloc[0]["high"] == first["high"].max()
    assert out.iloc[0]["low"] == first["low"].min()
    assert out.iloc[0]["close"] == first["close"].iloc[-1]
    assert out.iloc[0]["volume"] == first["volume"].sum()
    assert out["volume"].dtype == np.int64


def test_1h_to_4h_alignment_exposes_bar_only_after_it_closes():
    bars = make_bars("2024-01-01 00:00", 12)
    h4 = resample(bars, T["1h"], T["4h"])
    aligned = align_to_base(h4, T["4h"], bars.index, T["1h"])
    # base bars 00:00..02:00 close at or before 03:00 -> no 4h bar has closed yet
    assert aligned["close"].iloc[:3].isna().all()
    # base bar 03:00 closes at 04:00 == close of the 00:00 4h bar -> visible
    assert aligned["higher_timestamp"].iloc[3] == pd.Timestamp("2024-01-01 00:00", tz="UTC")
    assert aligned["close"].iloc[3] == bars["close"].iloc[3]
    assert aligned["higher_timestamp"].iloc[6] == pd.Timestamp("2024-01-01 00:00", tz="UTC")
    assert aligned["higher_timestamp"].iloc[7] == pd.Timestamp("2024-01-01 04:00", tz="UTC")


def test_fx_daily_bars_close_at_17_new_york():
    bars, _ = bundled_frame("EURUSD")
    daily = resample(bars, T["1h"], T["1d"], CALENDARS["fx_24_5"])
    opens_ny = daily.index.tz_convert("America/New_York")
    assert set(opens_ny.hour) == {17}
    # the Monday 2017-04-24 session = Sunday 17:00 .. Monday 17:00 New York
    monday = daily.loc[pd.Timestamp("2017-04-23 21:00", tz="UTC")]
    src = bars.loc["2017-04-23 21:00":"2017-04-24 20:00"]
    assert monday["open"] == src["open"].iloc[0] and monday["close"] == src["close"].iloc[-1]
    assert monday["volume"] == src["volume"].sum()
    assert daily["volume"].sum() == bars["volume"].sum()  # nothing lost or invented


def test_equity_daily_to_weekly_and_monthly():
    goog, _ = bundled_frame("GOOG")
    cal = CALENDARS["us_equity"]
    weekly = resample(goog, T["1d"], T["1w"], cal)
    assert (weekly.index.day_of_week == 0).all()
    assert weekly["volume"].sum() == goog["volume"].sum()
    monthly = resample(goog, T["1d"], T["1M"], cal)
    assert (monthly.index.day == 1).all()
    assert (
        monthly.loc[pd.Timestamp("2004-09-01", tz="UTC"), "high"]
        == goog.loc["2004-09", "high"].max()
    )


def test_resample_to_lower_timeframe_is_rejected():
    with pytest.raises(ValidationError) as exc:
        resample(make_bars("2024-01-01", 5), T["4h"], T["1h"])
    assert exc.value.field == "timeframe" and exc.value.code == "DATA-012"


def test_monthly_alignment_waits_for_next_month():
    goog, _ = bundled_frame("GOOG")
    monthly = resample(goog, T["1d"], T["1M"], CALENDARS["us_equity"])
    aligned = align_to_base(monthly, T["1M"], goog.index, T["1d"])
    sept = aligned.loc["2004-09"]
    # every September bar but the last sees August; the 30th closes with the month
    assert (sept["higher_timestamp"].iloc[:-1] == pd.Timestamp("2004-08-01", tz="UTC")).all()
    assert sept["higher_timestamp"].iloc[-1] == pd.Timestamp("2004-09-01", tz="UTC")
    assert sept.index[-1] == pd.Timestamp("2004-09-30", tz="UTC")


@settings(max_examples=40, deadline=None)
@given(
    drops=st.sets(st.integers(0, 199), max_size=40),
    cut=st.integers(0, 199),
    target=st.sampled_from(["2h", "4h", "1d"]),
    seed=st.integers(0, 10_000),
)
def test_changing_future_bars_never_changes_aligned_past(drops, cut, target, seed):
    base = make_bars("2024-03-04 00:00", 200, seed=seed)
    base = base.drop(base.index[sorted(drops)])
    tf = T[target]
    cal = CALENDARS["fx_24_5"]
    cut = min(cut, len(base) - 1)
    t_cut = base.index[cut]

    def pipeline(bars):
        higher = resample(bars, T["1h"], tf, cal if target == "1d" else None)
        return align_to_base(higher, tf, bars.index, T["1h"])

    before = pipeline(base)
    rng = np.random.default_rng(seed + 1)
    future = base.index > t_cut
    changed = base.copy()
    k = int(future.sum())
    bump = rng.uniform(1.5, 3.0, k)
    for c in ("open", "high", "low", "close"):
        changed.loc[future, c] = changed.loc[future, c].to_numpy() * bump
    changed.loc[future, "volume"] = rng.integers(1, 10**6, k)
    after = pipeline(changed)
    past = base.index <= t_cut
    pd.testing.assert_frame_equal(before[past], after[past])
    # and no aligned bar closes after the base bar closes
    hts = before["higher_timestamp"].dropna()
    assert (hts + pd.Timedelta(seconds=tf.seconds) <= hts.index + pd.Timedelta(hours=1)).all()


@pytest.mark.parametrize(
    ("last_open", "closed"),
    [
        ("2024-06-07 20:00", True),  # Friday's last FX hour: the session closed at 21:00 UTC
        ("2024-06-07 15:00", False),  # Friday afternoon: the daily bar is still forming
    ],
)
def test_a_resampled_daily_fx_bar_counts_once_its_session_has_closed(last_open, closed):
    fx = CALENDARS["fx_24_5"]
    hours = pd.date_range("2024-06-06 21:00", last_open, freq="1h", tz="UTC")  # Friday's session
    bars = make_bars(str(hours[0]), len(hours))
    daily = resample(bars, T["1h"], T["1d"], fx)
    key = int(daily.index.as_unit("us").asi8[-1])
    assert period_end_us(key, target=T["1d"], calendar=fx) == int(
        pd.Timestamp("2024-06-07 21:00", tz="UTC").value // 1000
    )
    end = int(bars.index.as_unit("us").asi8[-1]) + 3_600_000_000
    kept = closed_bars(daily, target=T["1d"], calendar=fx, source_end_us=end)
    assert len(kept) == len(daily) - (0 if closed else 1)
