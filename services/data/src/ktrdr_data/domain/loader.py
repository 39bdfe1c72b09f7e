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
``provenance.missing_ranges`` and ``provenance.source_status="unavailable: <reason>"``. It never
invents bars.
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
from ktrdr_core.calendars import get_calendar
from ktrdr_core.errors import UnavailableError, ValidationError
from ktrdr_core.timeframes import Timeframe, parse_timeframe
from ktrdr_data.domain import errors as codes
from ktrdr_data.domain.gaps import analyze_gaps
from ktrdr_data.domain.instruments import InstrumentRegistry, validate_symbol
from ktrdr_data.domain.quality import QualityReport, validate_bars
from ktrdr_data.domain.storage import ParquetBarStore

log = structlog.get_logger(__name__)


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
    missing_ranges: tuple[TimeRange, ...]  # ranges we needed but could not fetch
    source_status: str  # "ok", "not needed", "unavailable: <reason>"
    complete: bool  # True when nothing needed is missing


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    symbol: str
    timeframe: str
    bars: pd.DataFrame
    quality: QualityReport  # of the bars fetched during this load (stored bars were validated
    # when they were written)
    provenance: Provenance


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
        self.instruments = instruments or InstrumentRegistry()

    async def load(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: object = None,
        end: object = None,
        mode: LoadMode | str = LoadMode.LOCAL,
    ) -> LoadResult:
        """Load bars for ``[start, end)`` (see module docstring)."""
        validate_symbol(symbol)
        tf = timeframe if isinstance(timeframe, Timeframe) else parse_timeframe(timeframe)
        try:
            mode = LoadMode(mode)
        except ValueError:
            raise ValidationError(
                codes.INVALID_MODE,
                f"'mode' {mode!r} is not one of {', '.join(m.value for m in LoadMode)}.",
                field="mode",
            ) from None
        start_ts = parse_date(start, "start_date")
        end_ts = parse_date(end, "end_date")
        if start_ts is not None and end_ts is not None and start_ts > end_ts:
            raise ValidationError(
                codes.START_AFTER_END,
                f"'start_date' {start_ts.isoformat()} is after 'end_date' {end_ts.isoformat()}.",
                field="start_date",
            )
        info = await asyncio.to_thread(self.store.info, symbol, tf)
        stored = info is not None and info.error is None and info.bars > 0
        if info is not None and info.error is not None:
            # surface DataLossError with the file name
            await asyncio.to_thread(self.store.read, symbol, tf)

        if mode is LoadMode.LOCAL:
            if not stored:
                raise self.store.not_found(symbol, tf)
            bars = await asyncio.to_thread(self.store.read, symbol, tf, start_ts, end_ts)
            prov = Provenance(mode, len(bars), 0, (), (), "not needed", True)
            return LoadResult(symbol, tf.code, bars, QualityReport(), prov)

        bar_len = pd.Timedelta(seconds=tf.seconds)
        if end_ts is None:
            now = pd.Timestamp.now(tz="UTC").as_unit("us")
            end_ts = now.floor(f"{tf.seconds}s") if tf.is_intraday else now.floor("1D")
        needed: list[TimeRange] = []
        if not stored:
            if start_ts is None:
                raise ValidationError(
                    codes.START_REQUIRED,
                    f"'start_date' is required: nothing is stored for {symbol} {tf.code}.",
                    field="start_date",
                )
            needed.append(TimeRange(start_ts, end_ts))
        else:
            assert info is not None and info.first is not None and info.last is not None
            first, last = info.first.as_unit("us"), info.last.as_unit("us")
            backfill = mode in (LoadMode.BACKFILL, LoadMode.FULL)
            if backfill and start_ts is not None and start_ts < first:
                needed.append(TimeRange(start_ts, min(first, end_ts)))
            if mode is LoadMode.FULL:
                needed.extend(
                    await asyncio.to_thread(self._internal_gaps, symbol, tf, start_ts, end_ts)
                )
            if mode in (LoadMode.TAIL, LoadMode.FULL) and last + bar_len < end_ts:
                needed.append(TimeRange(max(last + bar_len, start_ts or last), end_ts))
        needed = [r for r in needed if r.start < r.end]

        fetched_total = 0
        requested: list[TimeRange] = []
        missing: list[TimeRange] = []
        reports: list[QualityReport] = []
        fetched_stamps: list[np.ndarray] = []
        status = "ok" if needed else "not needed"
        if needed and self.source is None:
            status = "unavailable: no historical source configured"
            missing = list(needed)
        else:
            for i, rng in enumerate(needed):
                try:
                    raw = await self.source.fetch(symbol, tf.code, rng.start, rng.end)  # type: ignore[union-attr]
                except (UnavailableError, OSError, TimeoutError) as exc:
                    reason = exc.message if isinstance(exc, UnavailableError) else repr(exc)
                    status = f"unavailable: {reason}"
                    missing = list(needed[i:])
                    log.warning(
                        "source_unavailable", symbol=symbol, timeframe=tf.code, reason=reason
                    )
                    break
                requested.append(rng)
                if raw is None or len(raw) == 0:
                    continue
                clean, report = validate_bars(raw)
                reports.append(report)
                if len(clean):
                    await asyncio.to_thread(self.store.write, symbol, tf, clean)
                    fetched_total += len(clean)
                    fetched_stamps.append(bars_mod.index_to_us(clean.index))

        if not stored and fetched_total == 0:
            bars = bars_mod.empty_frame()
        else:
            bars = await asyncio.to_thread(self.store.read, symbol, tf, start_ts, end_ts)
        fetched_ts = np.concatenate(fetched_stamps) if fetched_stamps else np.empty(0, np.int64)
        local = int((~np.isin(bars_mod.index_to_us(bars.index), fetched_ts)).sum())
        prov = Provenance(
            mode, local, fetched_total, tuple(requested), tuple(missing), status, not missing
        )
        log.info(
            "bars_loaded",
            symbol=symbol,
            timeframe=tf.code,
            mode=mode.value,
            bars=len(bars),
            fetched=fetched_total,
            missing=len(missing),
            status=status,
        )
        return LoadResult(symbol, tf.code, bars, QualityReport.combine(reports), prov)

    def _internal_gaps(
        self, symbol: str, tf: Timeframe, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> list[TimeRange]:
        bars = self.store.read(symbol, tf, start, end)
        cal = get_calendar(self.instruments.get(symbol).calendar)
        report = analyze_gaps(bars, tf, cal)
        g = report.gaps[report.gaps["kind"] == "unexpected"]
        return [TimeRange(s, e) for s, e in zip(g["start"], g["end"], strict=True)]
