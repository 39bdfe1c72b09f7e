"""gRPC servicer of the data service: thin, over ``ktrdr_data.domain``."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator

import pandas as pd
from grpc import aio

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_core.bars import Bars, frame_from_arrays
from ktrdr_core.calendars import get_calendar
from ktrdr_core.errors import ValidationError
from ktrdr_core.timeframes import TIMEFRAMES, parse_timeframe
from ktrdr_data import convert
from ktrdr_data.domain import csv_io
from ktrdr_data.domain.gaps import analyze_gaps
from ktrdr_data.domain.instruments import get_instrument, validate_symbol
from ktrdr_data.domain.loader import DataLoader, parse_date
from ktrdr_data.domain.quality import validate_bars
from ktrdr_data.domain.replay import replay_due_seconds
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_runtime.bars import arrays_to_columns, columns_to_arrays

DESCRIPTOR = data_pb2.DESCRIPTOR.services_by_name["DataService"]
DEFAULT_BATCH = 1000
MAX_BATCH = 10_000
# Replay pacing, in times real time (0: no pacing); slower than 1/100 would block for months.
MIN_REPLAY_SPEED = 0.01
MAX_REPLAY_SPEED = 1_000_000.0


class DataServiceServicer(data_pb2_grpc.DataServiceServicer):
    def __init__(self, store: ParquetBarStore, loader: DataLoader) -> None:
        self._store = store
        self._loader = loader

    async def LoadData(
        self, request: data_pb2.LoadDataRequest, context: aio.ServicerContext
    ) -> data_pb2.LoadDataResponse:
        result = await self._loader.load(
            request.symbol,
            request.timeframe,
            request.start_date or None,
            request.end_date or None,
            convert.load_mode(request.mode),
        )
        bars = await asyncio.to_thread(convert.frame_to_bars, result.bars)
        return data_pb2.LoadDataResponse(
            symbol=result.symbol,
            timeframe=result.timeframe,
            bars=bars,
            quality=convert.quality_report(result.quality),
            provenance=convert.provenance(result.provenance),
        )

    async def ListSymbols(
        self, request: data_pb2.ListSymbolsRequest, context: aio.ServicerContext
    ) -> data_pb2.ListSymbolsResponse:
        series = await asyncio.to_thread(self._store.list_series)
        by_symbol: dict[str, list[data_pb2.SeriesInfo]] = {}
        for info in series:
            by_symbol.setdefault(info.symbol, []).append(convert.series_info(info))
        return data_pb2.ListSymbolsResponse(
            symbols=[
                data_pb2.SymbolInfo(
                    instrument=convert.instrument(get_instrument(sym)), series=items
                )
                for sym, items in sorted(by_symbol.items())
            ]
        )

    async def ListTimeframes(
        self, request: data_pb2.ListTimeframesRequest, context: aio.ServicerContext
    ) -> data_pb2.ListTimeframesResponse:
        return data_pb2.ListTimeframesResponse(
            timeframes=[
                common_pb2.TimeframeInfo(
                    timeframe=common_pb2.Timeframe.Value(tf.enum_name),
                    code=tf.code,
                    seconds=tf.seconds,
                )
                for tf in TIMEFRAMES.values()
            ]
        )

    async def GetDataInfo(
        self, request: data_pb2.GetDataInfoRequest, context: aio.ServicerContext
    ) -> data_pb2.GetDataInfoResponse:
        symbol = validate_symbol(request.symbol)
        tf = parse_timeframe(request.timeframe)
        info = await asyncio.to_thread(self._store.info, symbol, tf)
        if info is None:
            raise self._store.not_found(symbol, tf)
        if info.error is not None:
            await asyncio.to_thread(self._store.read, symbol, tf)  # raises DATA-005 naming it
        return data_pb2.GetDataInfoResponse(
            instrument=convert.instrument(get_instrument(symbol)),
            series=convert.series_info(info),
        )

    async def AnalyzeGaps(
        self, request: data_pb2.AnalyzeGapsRequest, context: aio.ServicerContext
    ) -> data_pb2.AnalyzeGapsResponse:
        bars = await self._read(
            request.symbol, request.timeframe, request.start_date, request.end_date
        )
        tf = parse_timeframe(request.timeframe)
        calendar = get_calendar(get_instrument(request.symbol).calendar)
        report = await asyncio.to_thread(analyze_gaps, bars, tf, calendar)
        return convert.gap_response(report, include_expected=request.include_expected)

    async def ImportBars(
        self, request: data_pb2.ImportBarsRequest, context: aio.ServicerContext
    ) -> data_pb2.ImportBarsResponse:
        symbol = validate_symbol(request.symbol)
        tf = parse_timeframe(request.timeframe)
        source = request.WhichOneof("source")
        if source == "csv_content":
            raw = await asyncio.to_thread(
                csv_io.read_csv, io.StringIO(request.csv_content), tz=request.time_zone or None
            )
        elif source == "bars":
            try:
                arrays = columns_to_arrays(request.bars)
            except ValueError as exc:
                raise ValidationError("DATA-010", f"'bars': {exc}.", field="bars") from None
            raw = frame_from_arrays(arrays)
        else:
            raise ValidationError(
                "DATA-015",
                "Give the bars to import as 'csv_content' or as 'bars' columns.",
                field="csv_content",
            )
        bars, quality = await asyncio.to_thread(validate_bars, raw)
        written = await asyncio.to_thread(self._store.write, symbol, tf, bars)
        info = await asyncio.to_thread(self._store.info, symbol, tf)
        return data_pb2.ImportBarsResponse(
            imported=written.bars_added + written.bars_replaced,
            quality=convert.quality_report(quality),
            series=convert.series_info(info) if info else None,
        )

    async def ExportBars(
        self, request: data_pb2.ExportBarsRequest, context: aio.ServicerContext
    ) -> data_pb2.ExportBarsResponse:
        bars = await self._read(
            request.symbol, request.timeframe, request.start_date, request.end_date
        )
        text = await asyncio.to_thread(csv_io.write_csv, bars)
        return data_pb2.ExportBarsResponse(csv_content=text, bar_count=len(bars))

    async def StreamBars(
        self, request: data_pb2.StreamBarsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[data_pb2.StreamBarsResponse]:
        batch = request.batch_size or DEFAULT_BATCH
        if not 1 <= batch <= MAX_BATCH:
            raise ValidationError(
                "DATA-016",
                f"'batch_size' {batch} must be between 1 and {MAX_BATCH}.",
                field="batch_size",
            )
        speed = request.replay_speed
        if speed != 0 and not MIN_REPLAY_SPEED <= speed <= MAX_REPLAY_SPEED:
            raise ValidationError(
                "DATA-017",
                f"'replay_speed' {speed:g} must be 0 (no pacing) or from {MIN_REPLAY_SPEED:g} to "
                f"{MAX_REPLAY_SPEED:,.0f} (times real time).",
                field="replay_speed",
            )
        tf = parse_timeframe(request.timeframe)
        bars = await self._read(
            request.symbol, request.timeframe, request.start_date, request.end_date
        )
        cols = Bars.from_frame(bars)
        n = len(cols)
        due = (
            replay_due_seconds(cols.timestamps_us + tf.seconds * 1_000_000, batch, speed)
            if speed > 0
            else None
        )
        started = time.monotonic()
        for i, lo in enumerate(range(0, n, batch)):
            hi = min(lo + batch, n)
            if due is not None:
                delay = started + due[i] - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield data_pb2.StreamBarsResponse(
                bars=arrays_to_columns(
                    cols.timestamps_us[lo:hi],
                    cols.open[lo:hi],
                    cols.high[lo:hi],
                    cols.low[lo:hi],
                    cols.close[lo:hi],
                    cols.volume[lo:hi],
                )
            )

    async def _read(self, symbol: str, timeframe: str, start: str, end: str) -> pd.DataFrame:
        symbol = validate_symbol(symbol)
        tf = parse_timeframe(timeframe)
        start_ts = parse_date(start or None, "start_date")
        end_ts = parse_date(end or None, "end_date")
        if start_ts is not None and end_ts is not None and start_ts > end_ts:
            raise ValidationError(
                "DATA-003",
                f"'start_date' {start_ts.isoformat()} is after 'end_date' {end_ts.isoformat()}.",
                field="start_date",
            )
        return await asyncio.to_thread(self._store.read, symbol, tf, start_ts, end_ts)
