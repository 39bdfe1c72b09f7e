"""Local-first loading orchestration.

:class:`DataLoader` serves bars from the :class:`~ktrdr_data.domain.storage.ParquetBarStore`
and asks a :class:`HistoricalSource` (the ib_gateway client) only for ranges not stored:

* ``local``    — stored bars only, never calls the source;
* ``tail``     — ``[last stored bar + bar_len, end)``;
* ``backfill`` — ``[start, first stored bar)``;
* ``full``     — both ends plus every ``unexpected`` internal gap (per the instrument calendar).

With nothing stored, ``tail``/``backfill``/``full`` request ``[start, end)`` (``start`` is then
required). Fetched bars are validated (``quality.validate_bars``), merged into the store, and the
result is read back from the store for ``[start, end)`` (half-open; ``end`` defaults to now for
fetching modes and to "everything" for ``local``).

If the source is missing or raises :class:`UnavailableError` (or ``OSError``/``TimeoutError``),
the loader returns what is stored with ``provenance.complete=False``, the unfetched ranges in
``provenance.missing_ranges`` and ``provenance.source_status`` ``"not_configured"`` or
``"unavailable: <reason>"``. It never invents bars.

``provenance.source_status`` is ``"not_needed"`` when the source was not asked (``local`` mode,
or nothing missing), ``"ok"`` when it answered. ``complete`` is False whenever part of
``[start, end)`` has no bars that trading hours say should exist: in ``local`` mode the parts of
the range before the first or after the last stored bar are ``missing_ranges`` (gaps inside the
stored range are the gap analysis' business, and ``full`` mode's).

A timeframe that is not stored is resampled from a stored lower one (``reader``); the
provenance's ``resampled_from`` names it. Fetching modes fetch the asked timeframe itself.

Quality: ``bars_in``/``bars_out`` count the stored bars returned (validated when written) plus
the bars fetched during this load before/after validation, so ``rejected == bars_in -
bars_out``. Paging (``paging``): only the first page fetches; later pages read what is stored
from the cursor.

Bound: one load fetches at most :data:`MAX_FETCH_BARS` bars' worth of time (the ranges to fetch,
divided by the bar length); more is ``DATA-025`` asking for a narrower range.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Protocol

import numpy as np
import pandas as pd
import structlog

from ktrdr_core import bars as bars_mod
from ktrdr_core import dates as core_dates
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.errors import NotFoundError, UnavailableError, ValidationError
from ktrdr_core.timeframes import Timeframe, parse_timeframe
from ktrdr_data.domain import errors as codes
from ktrdr_data.domain.gaps import analyze_gaps
from ktrdr_data.domain.instruments import InstrumentRegistry, validate_symbol
from ktrdr_data.domain.paging import Page
from ktrdr_data.domain.quality import QualityReport, validate_bars
from ktrdr_data.domain.reader import BarReader, Series
from ktrdr_data.domain.storage import ParquetBarStore, SeriesInfo

log = structlog.get_logger(__name__)

MAX_FETCH_BARS = 2_000_000


class LoadMode(enum.StrEnum):
    LOCAL = "local"
    TAIL = "tail"
    BACKFILL = "backfill"
    FULL = "full"


class HistoricalSource(Protocol):
    """A remote bar source (implemented by the ib_gateway client).

    ``fetch`` returns bars with ``start <= timestamp < end`` (raw frame: OHLCV columns and a
    DatetimeIndex) and may raise :class:`UnavailableError`.
    """

    async def fetch(
        self, symbol: str, timeframe: str, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame: ...


@dataclasses.dataclass(frozen=True, slots=True)
class TimeRange:
    """Half-open ``[start, end)`` in UTC."""

    start: pd.Timestamp
    end: pd.Timestamp


@dataclasses.dataclass(frozen=True, slots=True)
class Provenance:
    mode: LoadMode
    local_bars: int  # returned bars that were already stored before this load
    fetched_bars: int  # valid bars received from the source during this load
    requested_ranges: tuple[TimeRange, ...]  # ranges asked of the source (successfully)
    missing_ranges: tuple[TimeRange, ...]  # ranges we needed but could not load
    source_status: str  # "not_needed", "ok", "not_configured", "unavailable: <reason>"
    complete: bool  # True when nothing needed is missing
    resampled_from: str = ""  # the stored timeframe the bars were resampled from


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    symbol: str
    timeframe: str
    bars: pd.DataFrame
    quality: QualityReport  # stored bars returned plus bars fetched during this load
    provenance: Provenance
    next_page_token: str = ""


def parse_date(value: object, field: str) -> pd.Timestamp | None:
    """Parse an ISO date or datetime (string, ``datetime``, ``date``, Timestamp) to UTC.

    Naive values are UTC; aware values are converted. ``None``/``""`` -> None.

    Raises
    ------
    ValidationError
        ``DATA-002`` naming ``field``.
    """
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
    parsed = core_dates.parse_date(value, field, code=codes.INVALID_DATE)
    return None if parsed is None else pd.Timestamp(parsed).as_unit("us")


@dataclasses.dataclass(frozen=True, slots=True)
class _Fetched:
    """What the fetching part of a load did."""

    bars: int
    stamps: np.ndarray
    requested: tuple[TimeRange, ...]
    missing: tuple[TimeRange, ...]
    status: str
    reports: tuple[QualityReport, ...]


_NOTHING_FETCHED = _Fetched(0, np.empty(0, np.int64), (), (), "not_needed", ())


class DataLoader:
    """Local-first loader over a store and an optional remote source."""

    def __init__(
        self,
        store: ParquetBarStore,
        source: HistoricalSource | None = None,
        *,
        instruments: InstrumentRegistry | None = None,
    ) -> None:
        self.store = store
        self.source = source
        self.instruments = instruments or InstrumentRegistry(store=store)
        self.reader = BarReader(store, self.instruments)

    async def load(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: object = None,
        end: object = None,
        mode: LoadMode | str = LoadMode.LOCAL,
        *,
        page: Page | None = None,
    ) -> LoadResult:
        """Load bars for ``[start, end)`` (see module docstring), one page when ``page``."""
        validate_symbol(symbol)
        tf = timeframe if isinstance(timeframe, Timeframe) else parse_timeframe(timeframe)
        mode = _mode(mode)
        start_ts, end_ts = parse_range(start, end)
        fetched = _NOTHING_FETCHED
        if mode is not LoadMode.LOCAL and (page is None or page.after_us is None):
            fetched, end_ts = await self._fetch(symbol, tf, mode, start_ts, end_ts)
        try:
            series = await asyncio.to_thread(self.reader.locate, symbol, tf)
        except NotFoundError:
            if mode is LoadMode.LOCAL:
                raise
            series = None  # nothing stored and nothing fetched: an empty answer
        bars, next_token = await asyncio.to_thread(self._page, series, start_ts, end_ts, page)
        fetched_ts = fetched.stamps
        local = int((~np.isin(bars_mod.index_to_us(bars.index), fetched_ts)).sum())
        asked = fetched.requested + fetched.missing
        uncovered = await asyncio.to_thread(self._uncovered, series, start_ts, end_ts)
        missing = fetched.missing + tuple(
            r for r in uncovered if not any(r.start < a.end and a.start < r.end for a in asked)
        )
        prov = Provenance(
            mode=mode,
            local_bars=local,
            fetched_bars=fetched.bars,
            requested_ranges=fetched.requested,
            missing_ranges=missing,
            source_status=fetched.status,
            complete=not missing,
            resampled_from=series.resampled_from if series is not None else "",
        )
        quality = QualityReport.combine((QualityReport.passed(local), *fetched.reports))
        log.info(
            "bars_loaded",
            symbol=symbol,
            timeframe=tf.code,
            mode=mode.value,
            bars=len(bars),
            fetched=fetched.bars,
            missing=len(missing),
            status=fetched.status,
            resampled_from=prov.resampled_from,
        )
        return LoadResult(symbol, tf.code, bars, quality, prov, next_token)

    def _page(
        self,
        series: Series | None,
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
        page: Page | None,
    ) -> tuple[pd.DataFrame, str]:
        """The bars of the page (all of ``[start, end)`` without paging) and the next token."""
        if series is None:
            return bars_mod.empty_frame(), ""
        if page is None:
            return self.reader.read(series, start=start, end=end), ""
        return read_page(self.reader, series, start=start, end=end, page=page)

    def _uncovered(
        self, series: Series | None, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> tuple[TimeRange, ...]:
        """Parts of ``[start, end)`` before the first or after the last stored bar in which
        the calendar expects bars."""
        if series is None or series.info.first is None or series.info.last is None:
            return ()
        first = series.info.first.as_unit("us")
        bar = pd.Timedelta(seconds=series.source.seconds)
        stored_end = series.info.last.as_unit("us") + bar
        ranges = []
        if start is not None and start < first:
            ranges.append(TimeRange(start, first if end is None else min(first, end)))
        if end is not None and end > stored_end:
            ranges.append(TimeRange(stored_end if start is None else max(stored_end, start), end))
        calendar = self.reader.calendar(series.symbol)
        return tuple(
            r for r in ranges if r.start < r.end and expects_bars(calendar, series.timeframe, r)
        )

    async def _fetch(
        self,
        symbol: str,
        tf: Timeframe,
        mode: LoadMode,
        start_ts: pd.Timestamp | None,
        end_ts: pd.Timestamp | None,
    ) -> tuple[_Fetched, pd.Timestamp]:
        """Fetch the ranges ``mode`` needs from the source and store them."""
        info = await asyncio.to_thread(self.store.info, symbol, tf)
        if info is not None and info.error is not None:
            await asyncio.to_thread(self.store.read, symbol, tf, limit=1)  # raises DATA-005
        if end_ts is None:
            now = pd.Timestamp.now(tz="UTC").as_unit("us")
            end_ts = now.floor(f"{tf.seconds}s") if tf.is_intraday else now.floor("1D")
        needed = await asyncio.to_thread(self._needed, symbol, tf, mode, info, start_ts, end_ts)
        if not needed:
            return _NOTHING_FETCHED, end_ts
        if self.source is None:
            none = np.empty(0, np.int64)
            return _Fetched(0, none, (), tuple(needed), "not_configured", ()), end_ts
        total, stamps, requested, reports = 0, [], [], []
        missing: tuple[TimeRange, ...] = ()
        status = "ok"
        for i, rng in enumerate(needed):
            try:
                raw = await self.source.fetch(symbol, tf.code, rng.start, rng.end)
            except (UnavailableError, OSError, TimeoutError) as exc:
                reason = exc.message if isinstance(exc, UnavailableError) else repr(exc)
                status, missing = f"unavailable: {reason}", tuple(needed[i:])
                log.warning("source_unavailable", symbol=symbol, timeframe=tf.code, reason=reason)
                break
            requested.append(rng)
            if raw is None or len(raw) == 0:
                continue
            clean, report = validate_bars(raw, timeframe=tf)
            reports.append(report)
            if len(clean):
                await asyncio.to_thread(self.store.write, symbol, tf, clean)
                total += len(clean)
                stamps.append(bars_mod.index_to_us(clean.index))
        all_stamps = np.concatenate(stamps) if stamps else np.empty(0, np.int64)
        fetched = _Fetched(total, all_stamps, tuple(requested), missing, status, tuple(reports))
        return fetched, end_ts

    def _needed(
        self,
        symbol: str,
        tf: Timeframe,
        mode: LoadMode,
        info: SeriesInfo | None,
        start_ts: pd.Timestamp | None,
        end_ts: pd.Timestamp,
    ) -> list[TimeRange]:
        """The ranges a fetching ``mode`` asks of the source."""
        if info is None or info.bars == 0 or info.first is None or info.last is None:
            if start_ts is None:
                raise ValidationError(
                    codes.START_REQUIRED,
                    f"'start_date' is required: nothing is stored for {symbol} {tf.code}.",
                    field="start_date",
                )
            return _bounded([TimeRange(start_ts, end_ts)] if start_ts < end_ts else [], symbol, tf)
        first, last = info.first.as_unit("us"), info.last.as_unit("us")
        bar_len = pd.Timedelta(seconds=tf.seconds)
        needed: list[TimeRange] = []
        if mode in (LoadMode.BACKFILL, LoadMode.FULL) and start_ts is not None and start_ts < first:
            needed.append(TimeRange(start_ts, min(first, end_ts)))
        if mode is LoadMode.FULL:
            needed.extend(self._internal_gaps(symbol, tf, start_ts, end_ts))
        if mode in (LoadMode.TAIL, LoadMode.FULL) and last + bar_len < end_ts:
            needed.append(TimeRange(max(last + bar_len, start_ts or last), end_ts))
        return _bounded([r for r in needed if r.start < r.end], symbol, tf)

    def _internal_gaps(
        self, symbol: str, tf: Timeframe, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> list[TimeRange]:
        stamps = self.store.read_timestamps(symbol, tf, start, end)
        cal = get_calendar(self.instruments.get(symbol).calendar)
        report = analyze_gaps(stamps, tf, cal)
        g = report.gaps[report.gaps["kind"] == "unexpected"]
        return [TimeRange(s, e) for s, e in zip(g["start"], g["end"], strict=True)]


def _bounded(ranges: list[TimeRange], symbol: str, tf: Timeframe) -> list[TimeRange]:
    """``ranges`` if fetching them means at most :data:`MAX_FETCH_BARS` bars, else ``DATA-025``."""
    span = sum((r.end - r.start for r in ranges), pd.Timedelta(0))
    bars = int(span / pd.Timedelta(seconds=tf.seconds))
    if bars > MAX_FETCH_BARS:
        raise ValidationError(
            codes.RANGE_TOO_LARGE,
            f"Loading {symbol} {tf.code} would fetch up to {bars} bars, more than "
            f"{MAX_FETCH_BARS} per load: narrow 'start_date'/'end_date' and load in steps.",
            field="start_date",
            details={"bars": bars, "max": MAX_FETCH_BARS},
        )
    return ranges


def _mode(mode: LoadMode | str) -> LoadMode:
    try:
        return LoadMode(mode)
    except ValueError:
        raise ValidationError(
            codes.INVALID_MODE,
            f"'mode' {str(mode)[:40]!r} is not one of {', '.join(m.value for m in LoadMode)}.",
            field="mode",
        ) from None


def parse_range(start: object, end: object) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``start_date``/``end_date`` of a request (``DATA-002``, ``DATA-003`` naming the field)."""
    start_ts = parse_date(start, "start_date")
    end_ts = parse_date(end, "end_date")
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise ValidationError(
            codes.START_AFTER_END,
            f"'start_date' {start_ts.isoformat()} is after 'end_date' {end_ts.isoformat()}.",
            field="start_date",
        )
    return start_ts, end_ts


def expects_bars(calendar: TradingCalendar, tf: Timeframe, rng: TimeRange) -> bool:
    """Whether ``calendar`` expects ``tf`` bars in ``rng``: trading time in it (intraday), or
    a trading date whose daily bar opens in it (daily and longer)."""
    lo, hi = bars_mod.index_to_us(pd.DatetimeIndex([rng.start, rng.end]))
    if tf.is_intraday:
        return bool(calendar.open_us_between(lo, hi)[0] > 0)
    first = (rng.start - pd.Timedelta(days=2)).date()
    last = (rng.end + pd.Timedelta(days=2)).date()
    stamps = calendar.period_open_us(calendar.session_dates(first, last))
    return bool(np.any((stamps >= lo) & (stamps < hi)))


def read_page(
    reader: BarReader,
    series: Series,
    *,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    page: Page,
) -> tuple[pd.DataFrame, str]:
    """One page of bars of ``[start, end)`` and the token of the next page ("" at the end).

    Raises
    ------
    ValidationError
        ``DATA-022`` when an unpaged read holds more bars than one page.
    """
    if page.after_us is not None:
        cursor = pd.Timestamp(page.after_us, unit="us", tz="UTC")
        start = cursor if start is None else max(start, cursor)
    if page.size == 0:
        page.check_total(reader.count(series, start=start, end=end))
    bars = reader.read(series, start=start, end=end, limit=page.take + 1)
    if len(bars) <= page.take:
        return bars, ""
    next_us = int(bars_mod.index_to_us(bars.index[page.take : page.take + 1])[0])
    return bars.iloc[: page.take], page.token(next_us)
