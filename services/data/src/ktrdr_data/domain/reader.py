"""Reading a series as stored or resampled from a stored lower timeframe.

A series asked for in a timeframe that is not stored is resampled from the highest stored lower
timeframe that fits its bins (:func:`ktrdr_core.resample.resample`, session-aware): an intraday
target from an intraday source whose length divides it (4h from 1h, 2h or 1m; not from 3-hour
bars); ``1d`` from intraday bars of one hour or less; ``1w``/``1M`` from ``1d`` or intraday bars
of one hour or less. Only closed bars are returned (:func:`ktrdr_core.resample.closed_bars`:
the last period counts once the source reaches its end or the market has closed).

Bounds: resampling reads at most :data:`MAX_RESAMPLE_SOURCE_BARS` source bars per request
(``DATA-025`` otherwise: narrow the dates); stored reads page or stream (see ``paging``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd

from ktrdr_core import bars as bars_mod
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.errors import ValidationError
from ktrdr_core.resample import closed_bars, resample
from ktrdr_core.timeframes import TIMEFRAMES, Timeframe
from ktrdr_data.domain import errors as codes
from ktrdr_data.domain.instruments import InstrumentRegistry
from ktrdr_data.domain.storage import ParquetBarStore, SeriesInfo

MAX_RESAMPLE_SOURCE_BARS = 2_000_000
_DAY_US = 86_400_000_000
_CHUNK = 65_536


@dataclasses.dataclass(frozen=True, slots=True)
class Series:
    """A readable series: ``timeframe`` as asked, read from the stored ``source`` timeframe."""

    symbol: str
    timeframe: Timeframe
    source: Timeframe
    info: SeriesInfo  # of the stored source series

    @property
    def resampled_from(self) -> str:
        """The stored timeframe the bars are resampled from; empty when stored as asked."""
        return "" if self.source == self.timeframe else self.source.code


def fits(source: Timeframe, target: Timeframe) -> bool:
    """Whether ``target`` bars can be built from ``source`` bars (see the module docstring)."""
    if source.seconds >= target.seconds:
        return False
    if target.is_intraday:
        return target.seconds % source.seconds == 0
    if source.is_intraday:
        return 3_600 % source.seconds == 0
    return source.code == "1d"


class BarReader:
    """Reads stored or resampled series from a store (``instruments`` gives the calendars)."""

    def __init__(self, store: ParquetBarStore, instruments: InstrumentRegistry) -> None:
        self.store = store
        self.instruments = instruments

    def locate(self, symbol: str, timeframe: Timeframe) -> Series:
        """The series to read for ``symbol``/``timeframe``, resampled when not stored.

        Raises
        ------
        NotFoundError
            ``DATA-004`` when neither the timeframe nor a lower one that fits is stored.
        DataLossError
            ``DATA-005`` when the stored file is corrupt.
        """
        info = self.store.info(symbol, timeframe)
        if info is not None:
            if info.error is not None:
                self.store.read(symbol, timeframe, limit=1)  # raises DATA-005 naming the file
            return Series(symbol, timeframe, timeframe, info)
        lower = [
            TIMEFRAMES[code]
            for code in self.store.timeframes(symbol)
            if fits(TIMEFRAMES[code], timeframe)
        ]
        for source in sorted(lower, key=lambda tf: -tf.seconds):
            found = self.store.info(symbol, source)
            if found is not None and found.error is None and found.bars:
                return Series(symbol, timeframe, source, found)
        raise self.store.not_found(symbol, timeframe)

    def calendar(self, symbol: str) -> TradingCalendar:
        return get_calendar(self.instruments.get(symbol).calendar)

    def read(
        self,
        series: Series,
        *,
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Bars of ``[start, end)``, the first ``limit`` of them."""
        if not series.resampled_from:
            return self.store.read(series.symbol, series.timeframe, start, end, limit=limit)
        bars = self._resampled(series, start=start, end=end)
        return bars if limit is None else bars.iloc[:limit]

    def count(self, series: Series, *, start: pd.Timestamp | None, end: pd.Timestamp | None) -> int:
        """How many bars :meth:`read` would return without a limit."""
        if not series.resampled_from:
            return self.store.count(series.symbol, series.timeframe, start, end)
        return len(self._resampled(series, start=start, end=end))

    def chunks(
        self, series: Series, *, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> Iterator[bars_mod.Bars]:
        """The bars of ``[start, end)`` in order, a bounded chunk at a time."""
        if not series.resampled_from:
            yield from self.store.iter_chunks(series.symbol, series.timeframe, start, end)
            return
        bars = bars_mod.Bars.from_frame(self._resampled(series, start=start, end=end))
        for lo in range(0, len(bars), _CHUNK):
            yield bars.take(slice(lo, lo + _CHUNK))

    def timestamps(
        self, series: Series, *, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> pd.DatetimeIndex:
        """Open times of ``[start, end)`` (stored: only the timestamp column is decoded)."""
        if not series.resampled_from:
            return self.store.read_timestamps(series.symbol, series.timeframe, start, end)
        return self._resampled(series, start=start, end=end).index

    def _resampled(
        self, series: Series, *, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> pd.DataFrame:
        """Resample the source bars of the periods opening in ``[start, end)``; closed only."""
        target = series.timeframe
        # a period opening before `end` ends at most one period (a month: 32 days) later
        reach = pd.Timedelta(microseconds=32 * _DAY_US if target.code == "1M" else 0)
        reach += pd.Timedelta(seconds=target.seconds) + pd.Timedelta(days=1)
        source_end = None if end is None else end + reach
        symbol, source = series.symbol, series.source
        total = self.store.count(symbol, source, start, source_end)
        if total > MAX_RESAMPLE_SOURCE_BARS:
            raise ValidationError(
                codes.RANGE_TOO_LARGE,
                f"{target.code} bars for {symbol} are resampled from stored {source.code} "
                f"bars, and this range holds {total} of them, more than "
                f"{MAX_RESAMPLE_SOURCE_BARS} per request: narrow 'start_date'/'end_date'.",
                field="start_date",
                details={"source_bars": total, "max": MAX_RESAMPLE_SOURCE_BARS},
            )
        calendar = self.calendar(symbol)
        source_bars = self.store.read(symbol, source, start, source_end)
        bars = resample(source_bars, source, target, calendar)
        assert series.info.last is not None
        last_close = bars_mod.index_to_us(pd.DatetimeIndex([series.info.last]))[0]
        bars = closed_bars(
            bars,
            target=target,
            calendar=calendar,
            source_end_us=int(last_close) + source.seconds * 1_000_000,
        )
        keys = bars_mod.index_to_us(bars.index)
        keep = np.ones(len(keys), dtype=bool)
        if start is not None:
            keep &= keys >= bars_mod.index_to_us(pd.DatetimeIndex([start]))[0]
        if end is not None:
            keep &= keys < bars_mod.index_to_us(pd.DatetimeIndex([end]))[0]
        return bars[keep]
