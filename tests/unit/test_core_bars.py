"""The one in-memory bar type: dtypes, validation, slicing and the frame round trip."""

from __future__ import annotations

import numpy as np
import pytest

from ktrdr_core.bars import Bars
from ktrdr_core.errors import ValidationError


def _bars(n: int) -> Bars:
    ts = 1_704_067_200_000_000 + np.arange(n, dtype=np.int64) * 3_600_000_000
    close = 1.1 + np.arange(n) * 1e-4
    return Bars(ts, close, close + 1e-4, close - 1e-4, close, np.arange(n) * 10)


def test_bars_coerce_dtypes_and_reject_unequal_columns() -> None:
    bars = _bars(5)
    assert bars.timestamps_us.dtype == np.int64
    assert bars.volume.dtype == np.float64 and bars.close.flags.c_contiguous
    with pytest.raises(ValidationError) as err:
        Bars(bars.timestamps_us, bars.open, bars.high, bars.low, bars.close[:-1], bars.volume)
    assert err.value.code == "DATA-010" and "close=4" in err.value.message


def test_bars_take_concat_and_frame_round_trip_are_exact() -> None:
    bars = _bars(10)
    head, tail = bars.take(slice(0, 4)), bars.take(np.arange(10) >= 4)
    joined = Bars.concat([head, tail])
    back = Bars.from_frame(joined.to_frame())
    for name in ("timestamps_us", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(back, name), getattr(bars, name))
    assert len(Bars.concat([])) == 0
    with pytest.raises(ValidationError):
        bars.column("vwap")
