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
produces byte-identical files. Ranges are half-open: ``start <= timestamp < end``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import structlog

from ktrdr_core import bars as bars_mod
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

    ``error`` is set (and the other numbers are empty) when the file cannot be read.
    """

    symbol: str
    timeframe: str
    path: str
    bars: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    size_bytes: int
    error: str | None = None


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
    return int(pd.Timestamp(value).value // 1000)


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
        try:
            md = pq.read_metadata(path)
            first = last = None
            if md.num_rows:
                first = pd.Timestamp(
                    _stat_us(md.row_group(0).column(0).statistics.min), unit="us", tz="UTC"
                )
                last = pd.Timestamp(
                    _stat_us(md.row_group(md.num_row_groups - 1).column(0).statistics.max),
                    unit="us",
                    tz="UTC",
                )
            return SeriesInfo(symbol, tf.code, str(path), md.num_rows, first, last, size)
        except Exception as exc:  # any read failure means the file is unusable
            return SeriesInfo(symbol, tf.code, str(path), 0, None, None, size, error=str(exc))

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
        log.error("parquet_unreadable", path=str(path), error=str(exc))
        return DataLossError(
            codes.CORRUPT_FILE,
            f"Stored bar file {path} is corrupt or unreadable: {exc}",
            details={"path": str(path)},
        )

    def exists(self, symbol: str, timeframe: str | Timeframe) -> bool:
        return self.path(symbol, timeframe).exists()

    def read(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Bars with ``start <= timestamp < end`` (either bound optional).

        Only row groups whose timestamp statistics overlap the range are decoded
        (:attr:`last_read_stats` records how many).

        Raises
        ------
        NotFoundError
            ``DATA-004`` when nothing is stored for the series.
        DataLossError
            ``DATA-005`` when the file is corrupt; ``details["path"]`` names it.
        """
        tf = timeframe if isinstance(timeframe, Timeframe) else parse_timeframe(timeframe)
        path = self.path(symbol, tf)
        if not path.exists():
            raise self.not_found(symbol, tf)
        return self._read_path(path, _to_us(start), _to_us(end))

    def _read_path(self, path: Path, lo: int | None, hi: int | None) -> pd.DataFrame:
        try:
            pf = pq.ParquetFile(path, memory_map=True)
            md = pf.metadata
            groups = list(range(md.num_row_groups))
            if lo is not None or hi is not None:
                sel = []
                for g in groups:
                    st = md.row_group(g).column(0).statistics
                    if st is None or not st.has_min_max:
                        sel.append(g)
                        continue
                    gmin, gmax = _stat_us(st.min), _stat_us(st.max)
                    if (hi is None or gmin < hi) and (lo is None or gmax >= lo):
                        sel.append(g)
                groups = sel
            table = pf.read_row_groups(groups, use_threads=True) if groups else SCHEMA.empty_table()
        except Exception as exc:
            raise self._corrupt(path, exc) from exc
        if table.schema.names != SCHEMA.names:
            raise self._corrupt(path, ValueError(f"unexpected columns {table.schema.names}"))
        ts = table.column(0).to_numpy().view(np.int64) if table.num_rows else np.empty(0, np.int64)
        cols = (
            [table.column(i).to_numpy() for i in range(1, 6)]
            if table.num_rows
            else [np.empty(0, np.float64)] * 4 + [np.empty(0, np.int64)]
        )
        decoded = len(ts)
        if lo is not None or hi is not None:
            a = 0 if lo is None else int(np.searchsorted(ts, lo, side="left"))
            b = len(ts) if hi is None else int(np.searchsorted(ts, hi, side="left"))
            ts = ts[a:b]
            cols = [c[a:b] for c in cols]
        self.last_read_stats = ReadStats(md.num_row_groups, len(groups), decoded, len(ts))
        return bars_mod.from_columns(ts, *cols)

    # ----------------------------------------------------------------- writing
    def write(
        self, symbol: str, timeframe: str | Timeframe, bars: pd.DataFrame, *, replace: bool = False
    ) -> WriteResult:
        """Merge ``bars`` (a canonical, validated frame) into the stored series atomically.

        New bars replace stored bars with the same timestamp. With ``replace=True`` the stored
        series is replaced entirely (also the way to overwrite a corrupt file).

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
            old = None
            if path.exists() and not replace:
                old = self._read_path(path, None, None)
            before = 0 if old is None else len(old)
            if old is None or before == 0:
                merged, replaced = new, 0
            else:
                old_ts, new_ts = bars_mod.index_to_us(old.index), bars_mod.index_to_us(new.index)
                overlap = np.isin(old_ts, new_ts, assume_unique=True)
                replaced = int(overlap.sum())
                merged = pd.concat([old[~overlap], new]) if len(new) else old
                if not merged.index.is_monotonic_increasing:
                    merged = merged.sort_index(kind="stable")
                if (
                    replaced
                    and old[overlap].equals(new.loc[old.index[overlap]])
                    and len(merged) == before
                ):
                    merged = old  # identical content: nothing to do
            changed = old is None or not merged.equals(old)
            if changed:
                self._atomic_write(path, merged)
            result = WriteResult(
                symbol,
                tf.code,
                before,
                len(new),
                len(merged) - before,
                replaced,
                len(merged),
                changed,
            )
        log.info("bars_written", **dataclasses.asdict(result))
        return result

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
        """Remove a stored series; True if something was deleted."""
        path = self.path(symbol, timeframe)
        with self._locked(path):
            if path.exists():
                path.unlink()
                return True
        return False
