"""Parquet bar storage: one file per symbol and timeframe.

Layout: ``{root}/{SYMBOL}/{tf_file}.parquet`` where ``tf_file`` is the lower-case suffix of the
timeframe's protobuf enum name (``1m`` -> ``m1``, ``1h`` -> ``h1``, ``1d`` -> ``d1``, ``1w`` ->
``w1``, ``1M`` -> ``mn1``), so no two timeframes differ only by case. Symbols are whitelisted
upper-case (see ``instruments``), so directory names are not case-ambiguous either.

File schema: ``timestamp`` (``timestamp[us, tz=UTC]``, bar open time, sorted, unique), ``open``,
``high``, ``low``, ``close`` (double), ``volume`` (int64); row groups of
:data:`ROW_GROUP_SIZE` rows with min/max statistics, so a date-range read only decodes the row
groups whose statistics overlap the range.

Writes: under an exclusive ``fcntl.flock`` on ``{root}/{SYMBOL}/.{tf_file}.lock`` the existing
file is read, merged with the new bars (new bars replace stored bars with the same timestamp),
written to a temp file in the same directory, fsynced and ``os.replace``-d over the old file
(then the directory is fsynced). A crash at any point leaves the previous file intact; a stale
``.*.tmp`` file may remain and is ignored/cleaned by later writes. Writing the same bars twice
produces byte-identical files. Ranges are half-open: ``start <= timestamp < end``. A write of
no bars never creates a file (an empty series is not a series).

Reads can be bounded: ``read(..., limit=n)`` decodes row groups only until ``n`` bars are found,
:meth:`ParquetBarStore.count` counts a range from the statistics (decoding only the timestamps of
the row groups it cuts), :meth:`ParquetBarStore.iter_chunks` yields a range one row group at a
time and :meth:`ParquetBarStore.read_timestamps` decodes the timestamp column alone.

Messages never carry absolute server paths: files are named relative to the store root
(``GOOG/d1.parquet``). A corrupt file lists with ``error`` set and answers ``DATA-005``
(DATA_LOSS) to reads and merging writes; :meth:`ParquetBarStore.write` with ``replace=True`` or
:meth:`ParquetBarStore.delete` recovers it.

Instrument metadata declared by users is kept next to the series, in
``{root}/{SYMBOL}/instrument.json`` (written atomically).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import structlog

from ktrdr_core import bars as bars_mod
from ktrdr_core.dates import to_us
from ktrdr_core.errors import DataLossError, NotFoundError, suggest
from ktrdr_core.timeframes import BY_ENUM_NAME, TIMEFRAMES, Timeframe, parse_timeframe
from ktrdr_data.domain import errors as codes
from ktrdr_data.domain.instruments import validate_symbol

log = structlog.get_logger(__name__)

ROW_GROUP_SIZE = 65_536
SCHEMA = pa.schema(
    [
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("open", pa.float64(), nullable=False),
        pa.field("high", pa.float64(), nullable=False),
        pa.field("low", pa.float64(), nullable=False),
        pa.field("close", pa.float64(), nullable=False),
        pa.field("volume", pa.int64(), nullable=False),
    ]
)


def tf_file_stem(tf: Timeframe) -> str:
    """File stem for a timeframe (``1m`` -> ``m1``, ``1M`` -> ``mn1``)."""
    return tf.enum_name.removeprefix("TIMEFRAME_").lower()


_STEM_TO_TF = {tf_file_stem(tf): tf for tf in BY_ENUM_NAME.values()}


@dataclasses.dataclass(frozen=True, slots=True)
class SeriesInfo:
    """What is stored for one symbol/timeframe (from Parquet metadata only).

    ``path`` is relative to the store root. ``error`` is set (and the other numbers are empty)
    when the file cannot be read: the series is corrupt.
    """

    symbol: str
    timeframe: str
    path: str
    bars: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    size_bytes: int
    error: str | None = None

    @property
    def corrupt(self) -> bool:
        return self.error is not None


@dataclasses.dataclass(frozen=True, slots=True)
class WriteResult:
    """Outcome of one write."""

    symbol: str
    timeframe: str
    bars_before: int
    bars_written: int  # bars passed in
    bars_added: int  # new timestamps
    bars_replaced: int  # timestamps that existed and were overwritten
    bars_after: int
    changed: bool  # False when the file content did not change


@dataclasses.dataclass(frozen=True, slots=True)
class ReadStats:
    """How much of a file a read touched (for tests and diagnostics)."""

    row_groups_total: int
    row_groups_read: int
    rows_decoded: int
    rows_returned: int


def _to_us(ts: pd.Timestamp | None) -> int | None:
    if ts is None:
        return None
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return int(t.value // 1000)  # .value is always ns


def _stat_us(value: object) -> int:
    """Epoch microseconds of a timestamp statistic (any year, unlike ``Timestamp.value``)."""
    if isinstance(value, dt.datetime):
        return to_us(value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC))
    return int(value)  # type: ignore[call-overload]


def _us_stamp(us: int) -> pd.Timestamp:
    return pd.Timestamp(us, unit="us", tz="UTC")


def _bounds(ts: np.ndarray, lo: int | None, hi: int | None) -> tuple[int, int]:
    a = 0 if lo is None else int(np.searchsorted(ts, lo, side="left"))
    b = len(ts) if hi is None else int(np.searchsorted(ts, hi, side="left"))
    return a, b


def _cut(ts: np.ndarray, lo: int | None, hi: int | None) -> np.ndarray:
    a, b = _bounds(ts, lo, hi)
    return ts[a:b]


@dataclasses.dataclass(frozen=True, slots=True)
class _Range:
    """An open file and the row groups (``selected`` of ``groups``) that may hold ``[lo, hi)``."""

    file: pq.ParquetFile
    path: Path
    lo: int | None
    hi: int | None
    groups: list[int]
    selected: list[int]

    def covers(self, first: int, last: int) -> bool:
        """Whether ``[first, last]`` lies inside the range."""
        return (self.lo is None or first >= self.lo) and (self.hi is None or last < self.hi)


class ParquetBarStore:
    """Bar storage rooted at ``root`` (created if missing)."""

    def __init__(self, root: str | os.PathLike[str], *, row_group_size: int = ROW_GROUP_SIZE):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.row_group_size = row_group_size
        self.last_read_stats: ReadStats | None = None

    # ----------------------------------------------------------------- paths
    def path(self, symbol: str, timeframe: str | Timeframe) -> Path:
        tf = timeframe if isinstance(timeframe, Timeframe) else parse_timeframe(timeframe)
        validate_symbol(symbol)
        return self.root / symbol / f"{tf_file_stem(tf)}.parquet"

    def relative(self, path: Path) -> str:
        """``path`` relative to the store root, as messages name files."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    def _scrub(self, text: str) -> str:
        """``text`` without the store root's absolute path (pyarrow messages quote it)."""
        for root in {str(self.root), str(self.root.resolve())}:
            text = text.replace(root + os.sep, "").replace(root, ".")
        return text[:300].rstrip(". ")

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.parent / f".{path.stem}.lock"
        with open(lock_path, "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ----------------------------------------------------------------- listing
    def symbols(self) -> list[str]:
        """Symbols with at least one stored series, sorted."""
        if not self.root.exists():
            return []
        return sorted(d.name for d in self.root.iterdir() if d.is_dir() and any(self._files(d)))

    @staticmethod
    def _files(sym_dir: Path) -> Iterator[Path]:
        for p in sym_dir.glob("*.parquet"):
            if not p.name.startswith(".") and p.stem in _STEM_TO_TF:
                yield p

    def timeframes(self, symbol: str) -> list[str]:
        """Timeframe codes stored for ``symbol`` (shortest first)."""
        validate_symbol(symbol)
        tfs = [_STEM_TO_TF[p.stem] for p in self._files(self.root / symbol)]
        return [tf.code for tf in sorted(tfs, key=lambda t: t.seconds)]

    def info(self, symbol: str, timeframe: str | Timeframe) -> SeriesInfo | None:
        """Metadata of one stored series, or None if nothing is stored."""
        path = self.path(symbol, timeframe)
        if not path.exists():
            return None
        tf = timeframe if isinstance(timeframe, Timeframe) else parse_timeframe(timeframe)
        return self._info(symbol, tf, path)

    def _info(self, symbol: str, tf: Timeframe, path: Path) -> SeriesInfo:
        size = path.stat().st_size
        rel = self.relative(path)
        try:
            md = pq.read_metadata(path)
            first = last = None
            if md.num_rows:
                first = _us_stamp(_stat_us(md.row_group(0).column(0).statistics.min))
                last_stat = md.row_group(md.num_row_groups - 1).column(0).statistics.max
                last = _us_stamp(_stat_us(last_stat))
            return SeriesInfo(symbol, tf.code, rel, md.num_rows, first, last, size)
        except Exception as exc:  # any read failure means the file is unusable
            error = f"{rel} is corrupt or unreadable: {self._scrub(str(exc))}"
            return SeriesInfo(symbol, tf.code, rel, 0, None, None, size, error=error)

    def list_series(self) -> list[SeriesInfo]:
        """Every stored series with bar count and first/last timestamp (metadata only)."""
        out: list[SeriesInfo] = []
        for sym in self.symbols():
            for p in self._files(self.root / sym):
                out.append(self._info(sym, _STEM_TO_TF[p.stem], p))
        out.sort(key=lambda s: (s.symbol, TIMEFRAMES[s.timeframe].seconds))
        return out

    # ----------------------------------------------------------------- reading
    def not_found(self, symbol: str, tf: Timeframe) -> NotFoundError:
        stored = self.symbols()
        if symbol in stored:
            return NotFoundError(
                codes.SERIES_NOT_FOUND,
                f"No {tf.code} bars stored for {symbol}; stored timeframes: "
                f"{', '.join(self.timeframes(symbol))}.",
                field="timeframe",
            )
        return NotFoundError(
            codes.SERIES_NOT_FOUND,
            f"No bars stored for symbol '{symbol}'.",
            field="symbol",
            suggestions=suggest(symbol, stored),
        )

    def _corrupt(self, path: Path, exc: Exception) -> DataLossError:
        rel = self.relative(path)
        log.error("parquet_unreadable", path=rel, root=str(self.root), error=str(exc))
        return DataLossError(
            codes.CORRUPT_FILE,
            f"Stored bar file {rel} is corrupt or unreadable: {self._scrub(str(exc))}. "
            "An admin can replace the series (ReplaceSeries) or delete it (DeleteSeries).",
            details={"path": rel},
        )

    def exists(self, symbol: str, timeframe: str | Timeframe) -> bool:
        return self.path(symbol, timeframe).exists()

    def read(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        *,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Bars with ``start <= timestamp < end`` (either bound optional), the first ``limit``.

        Only row groups whose timestamp statistics overlap the range are decoded, and with
        ``limit`` only until enough bars are found (:attr:`last_read_stats` records how many).

        Raises
        ------
        NotFoundError
            ``DATA-004`` when nothing is stored for the series.
        DataLossError
            ``DATA-005`` when the file is corrupt; ``details["path"]`` names it.
        """
        with self._range(self._existing(symbol, timeframe), start, end) as rng:
            return self._read_range(rng, limit)

    def _read_range(self, rng: _Range, limit: int | None = None) -> pd.DataFrame:
        """The bars of ``rng``: all of them, or group by group until ``limit`` are found."""
        parts: list[tuple[np.ndarray, list[np.ndarray]]] = []
        decoded = found = 0
        for groups in [rng.selected] if limit is None else ([g] for g in rng.selected):
            rows, ts, cols = self._decode(rng, groups)
            decoded += rows
            found += len(ts)
            parts.append((ts, cols))
            if limit is not None and found >= limit:
                break
        if len(parts) == 1:
            ts, cols = parts[0]
        elif not parts:
            _, ts, cols = self._decode(rng, [])
        else:
            ts = np.concatenate([p[0] for p in parts])
            cols = [np.concatenate([p[1][i] for p in parts]) for i in range(5)]
        if limit is not None:
            ts, cols = ts[:limit], [c[:limit] for c in cols]
        self.last_read_stats = ReadStats(len(rng.groups), len(rng.selected), decoded, len(ts))
        return bars_mod.from_columns(ts, *cols)

    def iter_chunks(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> Iterator[bars_mod.Bars]:
        """The bars of ``[start, end)`` one row group at a time (bounded memory), in order.

        Raises ``DATA-004``/``DATA-005`` as :meth:`read`, before the first chunk.
        """
        with self._range(self._existing(symbol, timeframe), start, end) as rng:
            for g in rng.selected:
                _, ts, cols = self._decode(rng, [g])
                if len(ts):
                    yield bars_mod.Bars(ts, *cols)

    def count(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> int:
        """How many bars ``[start, end)`` holds, from the statistics where they suffice."""
        total = 0
        with self._range(self._existing(symbol, timeframe), start, end) as rng:
            md = rng.file.metadata
            for g in rng.selected:
                gmin, gmax = self._group_bounds(md, g)
                if gmin is not None and gmax is not None and rng.covers(gmin, gmax):
                    total += md.row_group(g).num_rows  # the whole group is in the range
                else:
                    total += len(_cut(self._timestamps(rng, [g]), rng.lo, rng.hi))
        return total

    def read_timestamps(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DatetimeIndex:
        """The open times of ``[start, end)`` (the timestamp column alone is decoded)."""
        with self._range(self._existing(symbol, timeframe), start, end) as rng:
            ts = self._timestamps(rng, rng.selected)
        return bars_mod.utc_index(_cut(ts, rng.lo, rng.hi))

    def _existing(self, symbol: str, timeframe: str | Timeframe) -> Path:
        tf = timeframe if isinstance(timeframe, Timeframe) else parse_timeframe(timeframe)
        path = self.path(symbol, tf)
        if not path.exists():
            raise self.not_found(symbol, tf)
        return path

    @contextlib.contextmanager
    def _range(
        self, path: Path, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> Iterator[_Range]:
        """The open file with the row groups that may hold bars of ``[start, end)``."""
        try:
            pf = pq.ParquetFile(path, memory_map=True)
            if pf.schema_arrow.names != SCHEMA.names:
                raise ValueError(f"unexpected columns {pf.schema_arrow.names}")
        except Exception as exc:
            raise self._corrupt(path, exc) from exc
        try:
            lo, hi = _to_us(start), _to_us(end)
            groups = list(range(pf.metadata.num_row_groups))
            yield _Range(pf, path, lo, hi, groups, self._overlapping(pf, groups, lo, hi))
        finally:
            pf.close()

    @staticmethod
    def _group_bounds(md: Any, g: int) -> tuple[int | None, int | None]:
        st = md.row_group(g).column(0).statistics
        if st is None or not st.has_min_max:
            return None, None
        return _stat_us(st.min), _stat_us(st.max)

    def _overlapping(
        self, pf: pq.ParquetFile, groups: list[int], lo: int | None, hi: int | None
    ) -> list[int]:
        if lo is None and hi is None:
            return groups
        md = pf.metadata
        sel = []
        for g in groups:
            gmin, gmax = self._group_bounds(md, g)
            if gmin is None or gmax is None:
                sel.append(g)  # no statistics: decode it to be sure
            elif (hi is None or gmin < hi) and (lo is None or gmax >= lo):
                sel.append(g)
        return sel

    def _timestamps(self, rng: _Range, groups: list[int]) -> np.ndarray:
        if not groups:
            return np.empty(0, np.int64)
        try:
            table = rng.file.read_row_groups(groups, columns=["timestamp"], use_threads=True)
        except Exception as exc:
            raise self._corrupt(rng.path, exc) from exc
        return np.asarray(table.column(0).to_numpy().view(np.int64))

    def _decode(self, rng: _Range, groups: list[int]) -> tuple[int, np.ndarray, list[np.ndarray]]:
        """Rows decoded, then the timestamps and OHLCV columns of the range in ``groups``."""
        try:
            table = rng.file.read_row_groups(groups, use_threads=True) if groups else None
        except Exception as exc:
            raise self._corrupt(rng.path, exc) from exc
        if table is None or table.num_rows == 0:
            prices = np.empty(0, np.float64)
            return 0, np.empty(0, np.int64), [prices] * 4 + [np.empty(0, np.int64)]
        ts = table.column(0).to_numpy().view(np.int64)
        cols = [table.column(i).to_numpy() for i in range(1, 6)]
        a, b = _bounds(ts, rng.lo, rng.hi)
        return len(ts), ts[a:b], [c[a:b] for c in cols]

    # ----------------------------------------------------------------- writing
    def write(
        self, symbol: str, timeframe: str | Timeframe, bars: pd.DataFrame, *, replace: bool = False
    ) -> WriteResult:
        """Merge ``bars`` (a canonical, validated frame) into the stored series atomically.

        New bars replace stored bars with the same timestamp. With ``replace=True`` the stored
        series is replaced entirely (also the way to overwrite a corrupt file). A write that
        would leave no bars changes nothing (use :meth:`delete`).

        Raises
        ------
        DataLossError
            ``DATA-005`` when merging into a corrupt file (use ``replace=True`` to overwrite).
        """
        tf = timeframe if isinstance(timeframe, Timeframe) else parse_timeframe(timeframe)
        path = self.path(symbol, tf)
        new = bars if bars_mod.is_canonical(bars) else bars_mod.canonicalize(bars)
        if not (new.index.is_monotonic_increasing and new.index.is_unique):
            new = new[~new.index.duplicated(keep="last")].sort_index(kind="stable")
        with self._locked(path):
            self._clean_temps(path)
            old, before = None, 0
            if path.exists() and not replace:
                with self._range(path, None, None) as rng:
                    old = self._read_range(rng)
                before = len(old)
            elif path.exists():
                before = self._info(symbol, tf, path).bars  # 0 for a corrupt file
            merged, replaced = self._merge(old, new)
            changed = len(merged) > 0 and (old is None or not merged.equals(old))
            if changed:
                self._atomic_write(path, merged)
            after = len(merged) if changed else before
            result = WriteResult(
                symbol,
                tf.code,
                before,
                len(new),
                (after if changed else 0) if replace else after - before,
                replaced,
                after,
                changed,
            )
        log.info("bars_written", **dataclasses.asdict(result))
        return result

    @staticmethod
    def _merge(old: pd.DataFrame | None, new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """The merged series (new bars win) and how many stored bars the new ones replace."""
        if old is None or len(old) == 0:
            return new, 0
        old_ts, new_ts = bars_mod.index_to_us(old.index), bars_mod.index_to_us(new.index)
        overlap = np.isin(old_ts, new_ts, assume_unique=True)
        replaced = int(overlap.sum())
        merged = pd.concat([old[~overlap], new]) if len(new) else old
        if not merged.index.is_monotonic_increasing:
            merged = merged.sort_index(kind="stable")
        same = len(merged) == len(old) and old[overlap].equals(new.loc[old.index[overlap]])
        if replaced and same:
            merged = old  # identical content: nothing to do
        return merged, replaced

    def _table(self, bars: pd.DataFrame) -> pa.Table:
        cols = bars_mod.Bars.from_frame(bars)
        arrays = [
            pa.array(cols.timestamps_us, type=pa.int64()).cast(SCHEMA.field(0).type),
            pa.array(cols.open),
            pa.array(cols.high),
            pa.array(cols.low),
            pa.array(cols.close),
            pa.array(bars["volume"].to_numpy(np.int64)),
        ]
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    def _atomic_write(self, path: Path, bars: pd.DataFrame) -> None:
        tmp = path.parent / f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(
                    self._table(bars),
                    fh,
                    row_group_size=self.row_group_size,
                    compression="snappy",
                    write_statistics=True,
                    use_dictionary=False,
                )
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @staticmethod
    def _clean_temps(path: Path) -> None:
        """Remove temp files left by crashed writers (we hold the lock, so none is live)."""
        for tmp in path.parent.glob(f".{path.stem}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def delete(self, symbol: str, timeframe: str | Timeframe) -> bool:
        """Remove a stored series (corrupt or not); True if something was deleted."""
        path = self.path(symbol, timeframe)
        with self._locked(path):
            self._clean_temps(path)
            if path.exists():
                path.unlink()
                log.info("series_deleted", path=self.relative(path))
                return True
        return False

    # ----------------------------------------------------------------- instrument metadata
    def _instrument_path(self, symbol: str) -> Path:
        validate_symbol(symbol)
        return self.root / symbol / "instrument.json"

    def read_instrument(self, symbol: str) -> dict[str, Any] | None:
        """The instrument metadata declared for ``symbol``, or None."""
        path = self._instrument_path(symbol)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise self._corrupt(path, exc) from exc
        return data if isinstance(data, dict) else None

    def write_instrument(self, symbol: str, metadata: dict[str, Any]) -> None:
        """Store the instrument metadata of ``symbol`` (atomically)."""
        path = self._instrument_path(symbol)
        with self._locked(path):
            tmp = path.parent / f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
            try:
                tmp.write_text(json.dumps(metadata, sort_keys=True, indent=1), encoding="utf-8")
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
