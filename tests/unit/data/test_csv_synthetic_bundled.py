from __future__ import annotations

import io
from pathlib import Path

import backtesting.test
import numpy as np
import pandas as pd
import pytest
from data_testutil import make_bars

from ktrdr_core.calendars import CALENDARS
from ktrdr_core.errors import ValidationError
from ktrdr_data.domain.bundled import import_bundled
from ktrdr_data.domain.csv_io import read_csv, write_csv
from ktrdr_data.domain.quality import validate_bars
from ktrdr_data.domain.synthetic import SyntheticConfig, generate

SAMPLES = Path(backtesting.test.__file__).parent


def test_backtesting_csv_with_unnamed_index_imports():
    raw = read_csv(SAMPLES / "GOOG.csv")
    bars, report = validate_bars(raw)
    assert len(bars) == 2148 and report.ok
    assert bars.index[0] == pd.Timestamp("2004-08-19", tz="UTC")
    assert bars["volume"].iloc[0] == 22351900


def test_lowercase_columns_with_offsets_and_adj_close():
    text = (
        "datetime,open,high,low,close,adj close,volume\n"
        "2024-01-02T09:30:00-05:00,10,11,9,10.5,10.4,100\n"
    )
    bars, _ = validate_bars(read_csv(io.StringIO(text)))
    assert bars.index[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")
    assert bars["close"].iloc[0] == 10.5


def test_naive_times_use_tz_argument():
    text = "Date,Open,High,Low,Close,Volume\n2024-07-01 09:30,1,2,1,2,5\n"
    bars, _ = validate_bars(read_csv(io.StringIO(text), tz="America/New_York"))
    assert bars.index[0] == pd.Timestamp("2024-07-01 13:30", tz="UTC")


@pytest.mark.parametrize("factor", [1, 1000])
def test_epoch_seconds_and_milliseconds(factor):
    text = f"Timestamp,Open,High,Low,Close,Volume\n{1_704_067_200 * factor},1,2,1,2,5\n"
    raw = read_csv(io.StringIO(text))
    assert raw.frame.index[0] == pd.Timestamp("2024-01-01", tz="UTC")


def test_missing_column_names_it_with_suggestions():
    text = "Date,Open,High,Low,Clsoe,Volume\n2024-01-01,1,2,1,2,5\n"
    with pytest.raises(ValidationError) as exc:
        read_csv(io.StringIO(text))
    assert exc.value.code == "DATA-007" and exc.value.field == "close"
    assert "Clsoe" in exc.value.suggestions


def test_unparsable_values_are_reported():
    text = "Date,Open,High,Low,Close,Volume\n2024-01-01,1,2,x,2,5\n"
    with pytest.raises(ValidationError) as exc:
        read_csv(io.StringIO(text))
    assert exc.value.code == "DATA-008" and exc.value.field == "low"


def test_export_import_round_trip_with_iso_utc():
    bars = make_bars("2024-01-01", 20)
    text = write_csv(bars)
    assert text.splitlines()[1].startswith("2024-01-01T00:00:00Z,")
    back, report = validate_bars(read_csv(io.StringIO(text)))
    assert report.ok
    pd.testing.assert_frame_equal(back, bars)


def test_bundled_import_is_idempotent(store):
    first = import_bundled(store)
    assert {(r.symbol, r.timeframe, r.write.bars_after) for r in first} == {
        ("GOOG", "1d", 2148),
        ("EURUSD", "1h", 5000),
    }
    assert all(r.write.changed for r in first)
    second = import_bundled(store)
    assert not any(r.write.changed for r in second)
    assert store.read("GOOG", "1d")["volume"].dtype == np.int64


def test_synthetic_is_deterministic_per_seed():
    cfg = SyntheticConfig(bars=20_000, seed=42)
    a, b = generate(cfg), generate(cfg)
    pd.testing.assert_frame_equal(a, b)
    c = generate(SyntheticConfig(bars=20_000, seed=43))
    assert not np.allclose(a["close"].to_numpy(), c["close"].to_numpy())


def test_synthetic_bars_are_valid_and_respect_fx_calendar():
    bars = generate(SyntheticConfig(bars=50_000, seed=5))
    out, report = validate_bars(bars)
    assert report.ok and len(out) == 50_000
    assert CALENDARS["fx_24_5"].is_open(out.index.asi8 // 1000).all()
    assert not (out.index.tz_convert("America/New_York").day_of_week == 5).any()  # Saturday


def test_synthetic_equity_volume_is_u_shaped():
    bars = generate(SyntheticConfig(bars=39_000, calendar="us_equity", seed=9, switch_prob=0))
    minute = bars.index.tz_convert("America/New_York")
    mins = (minute.hour * 60 + minute.minute).to_numpy() - 570
    vol = bars["volume"].to_numpy()
    edges = vol[(mins < 30) | (mins >= 360)].mean()
    middle = vol[(mins >= 165) & (mins < 225)].mean()
    assert edges > 1.5 * middle
    assert mins.min() == 0 and mins.max() == 389  # 09:30 .. 15:59
