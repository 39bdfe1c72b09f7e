from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from data_testutil import make_bars

from ktrdr_core import bars as bars_mod
from ktrdr_core.errors import DataLossError, NotFoundError, ValidationError
from ktrdr_data.domain.storage import ParquetBarStore


def test_column_round_trip_preserves_values_and_microsecond_timestamps():
    bars = make_bars("2024-01-01", 50)
    cols = bars_mod.Bars.from_frame(bars)
    assert cols.timestamps_us.dtype == np.int64
    assert cols.timestamps_us[0] == 1_704_067_200_000_000
    back = bars_mod.from_columns(
        cols.timestamps_us, cols.open, cols.high, cols.low, cols.close, cols.volume
    )
    assert back.equals(bars)
    assert str(back.index.dtype) == "datetime64[us, UTC]"
    assert back.index.name == "timestamp"
    assert list(back.columns) == ["open", "high", "low", "close", "volume"]
    assert back["volume"].dtype == np.int64


def test_written_bars_read_back_identically(store):
    bars = make_bars("2024-01-01", 500)
    result = store.write("EURUSD", "1h", bars)
    assert (result.bars_before, result.bars_added, result.bars_after) == (0, 500, 500)
    assert store.read("EURUSD", "1h").equals(bars)


def test_writing_same_bars_twice_gives_identical_file(store):
    bars = make_bars("2024-01-01", 300)
    store.write("EURUSD", "1h", bars)
    path = store.path("EURUSD", "1h")
    first = path.read_bytes()
    again = store.write("EURUSD", "1h", bars)
    assert not again.changed
    assert again.bars_after == 300
    assert path.read_bytes() == first
    # also byte-identical when a fresh store writes the same bars
    other = ParquetBarStore(store.root.parent / "other")
    other.write("EURUSD", "1h", bars)
    assert other.path("EURUSD", "1h").read_bytes() == first


def test_new_bars_replace_same_timestamp_and_extend(store):
    old = make_bars("2024-01-01", 10)
    store.write("X", "1h", old)
    new = make_bars("2024-01-01 05:00", 10, seed=7)  # overlaps 5 bars, adds 5
    result = store.write("X", "1h", new)
    assert (result.bars_replaced, result.bars_added, result.bars_after) == (5, 5, 15)
    got = store.read("X", "1h")
    assert got.iloc[:5].equals(old.iloc[:5])
    assert got.iloc[5:].equals(new)


def test_timeframe_files_differ_for_minute_and_month(store):
    store.write("ES", "1m", make_bars("2024-01-01", 5, "1min"))
    store.write("ES", "1M", make_bars("2024-01-01", 5, "MS"))
    names = {p.name.lower() for p in (store.root / "ES").glob("*.parquet")}
    assert len(names) == 2  # distinct even case-insensitively
    assert store.timeframes("ES") == ["1m", "1M"]
    assert len(store.read("ES", "1m")) == len(store.read("ES", "1M")) == 5


def test_range_read_only_decodes_overlapping_row_groups(tmp_path):
    store = ParquetBarStore(tmp_path, row_group_size=100)
    bars = make_bars("2024-01-01", 1000)
    store.write("EURUSD", "1h", bars)
    start, end = bars.index[250], bars.index[330]
    got = store.read("EURUSD", "1h", start, end)
    assert got.equals(bars.iloc[250:330])  # half-open range
    stats = store.last_read_stats
    assert stats.row_groups_total == 10
    assert stats.row_groups_read == 2  # rows 200-299 and 300-399 only
    assert stats.rows_decoded == 200


def test_series_info_comes_from_metadata(store):
    bars = make_bars("2024-01-01", 123)
    store.write("GOOG", "1d", make_bars("2020-01-01", 7, "1D"))
    store.write("EURUSD", "1h", bars)
    infos = {(i.symbol, i.timeframe): i for i in store.list_series()}
    assert set(infos) == {("GOOG", "1d"), ("EURUSD", "1h")}
    e = infos[("EURUSD", "1h")]
    assert (e.bars, e.first, e.last, e.error) == (123, bars.index[0], bars.index[-1], None)
    assert store.symbols() == ["EURUSD", "GOOG"]


def test_corrupt_file_raises_data_loss_naming_file_and_spares_other_symbols(store):
    store.write("EURUSD", "1h", make_bars("2024-01-01", 20))
    good = make_bars("2024-01-01", 30)
    store.write("GOOG", "1h", good)
    path = store.path("EURUSD", "1h")
    path.write_bytes(b"PAR1 this is not parquet at all")
    with pytest.raises(DataLossError) as exc:
        store.read("EURUSD", "1h")
    assert exc.value.code == "DATA-005"
    assert (
        "EURUSD/h1.parquet" in exc.value.message
        and exc.value.details["path"] == "EURUSD/h1.parquet"
    )
    assert str(store.root) not in exc.value.message
    assert store.read("GOOG", "1h").equals(good)
    infos = {i.symbol: i for i in store.list_series()}
    assert infos["EURUSD"].error and infos["GOOG"].error is None
    with pytest.raises(DataLossError):  # merging into a corrupt file must not overwrite it
        store.write("EURUSD", "1h", make_bars("2024-02-01", 3))
    store.write("EURUSD", "1h", make_bars("2024-02-01", 3), replace=True)
    assert len(store.read("EURUSD", "1h")) == 3


def test_unknown_series_not_found_suggests_stored_symbols(store):
    store.write("EURUSD", "1h", make_bars("2024-01-01", 5))
    with pytest.raises(NotFoundError) as exc:
        store.read("EURUSDD", "1h")
    assert exc.value.field == "symbol" and "EURUSD" in exc.value.suggestions
    with pytest.raises(NotFoundError) as exc:
        store.read("EURUSD", "1d")
    assert exc.value.field == "timeframe"


def test_path_rejects_unsafe_symbol(store):
    for bad in ("../etc", "eurusd", "", ".", "A/B"):
        with pytest.raises(ValidationError) as exc:
            store.path(bad, "1h")
        assert exc.value.field == "symbol"


_KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {conftest_dir!r})
    from data_testutil import make_bars
    from ktrdr_data.domain import storage
    def die(src, dst):
        os.kill(os.getpid(), signal.SIGKILL)  # killed after the temp file is fully written
    storage.os.replace = die
    store = storage.ParquetBarStore({root!r})
    store.write("EURUSD", "1h", make_bars("2025-01-01", 5000, seed=3))
    """
)


def test_killed_writer_leaves_previous_data_intact(store, request):
    before = make_bars("2024-01-01", 1000)
    store.write("EURUSD", "1h", before)
    script = _KILL_SCRIPT.format(conftest_dir=str(request.path.parent), root=str(store.root))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    assert list(store.root.glob("EURUSD/.*.tmp"))  # the crash really happened mid-write
    assert store.read("EURUSD", "1h").equals(before)
    # the next writer cleans up and works
    store.write("EURUSD", "1h", make_bars("2024-03-01", 10))
    assert len(store.read("EURUSD", "1h")) == 1010
    assert not list(store.root.glob("EURUSD/.*.tmp"))


def test_failure_between_temp_write_and_rename_keeps_old_file(store, monkeypatch):
    before = make_bars("2024-01-01", 100)
    store.write("EURUSD", "1h", before)
    from ktrdr_data.domain import storage

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(storage.os, "replace", boom)
    with pytest.raises(OSError):
        store.write("EURUSD", "1h", make_bars("2024-02-01", 100))
    monkeypatch.undo()
    assert store.read("EURUSD", "1h").equals(before)
    assert not list(store.root.glob("EURUSD/.*.tmp"))


def _writer(root: str, offset_hours: int, rounds: int) -> None:
    store = ParquetBarStore(root)
    for r in range(rounds):
        start = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=offset_hours + 20 * r)
        store.write("EURUSD", "1h", make_bars(str(start), 10, seed=r))


def test_concurrent_writers_do_not_lose_bars(store):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(store.root), off, 15)) for off in (0, 10)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    got = store.read("EURUSD", "1h")
    # each writer adds 10 disjoint hours per round; the union must be complete
    assert len(got) == 2 * 15 * 10
    assert got.index.is_unique and got.index.is_monotonic_increasing
