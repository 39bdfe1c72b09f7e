"""gRPC servicer of the data service: thin, over ``ktrdr_data.domain``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import pandas as pd
from grpc import aio

from ktrdr.common.v1 import common_pb2
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_core.timeframes import TIMEFRAMES, parse_timeframe
from ktrdr_data import convert
from ktrdr_data.domain import csv_io, paging, replay
from ktrdr_data.domain.gaps import analyze_gaps, listed_gaps
from ktrdr_data.domain.imports import ImportResult, check_import_size, import_bars
from ktrdr_data.domain.instruments import validate_symbol
from ktrdr_data.domain.loader import DataLoader, parse_range, read_page
from ktrdr_data.domain.quality import RawBars
from ktrdr_data.domain.reader import Series
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_runtime.bars import arrays_to_columns

DESCRIPTOR = data_pb2.DESCRIPTOR.services_by_name["DataService"]
T = TypeVar("T")


async def _in_thread(items: Iterator[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterator off the event loop."""
    done = object()
    while (item := await asyncio.to_thread(next, items, done)) is not done:
        yield item  # type: ignore[misc]


class DataServiceServicer(data_pb2_grpc.DataServiceServicer):
    def __init__(self, store: ParquetBarStore, loader: DataLoader) -> None:
        self._store = store
        self._loader = loader
        self._reader = loader.reader
        self._instruments = loader.instruments

    async def LoadData(
        self, request: data_pb2.LoadDataRequest, context: aio.ServicerContext
    ) -> data_pb2.LoadDataResponse:
        page = paging.page(
            request.page_size,
            request.page_token,
            what="bars",
            request=(request.symbol, request.timeframe, request.start_date, request.end_date),
        )
        result = await self._loader.load(
            request.symbol,
            request.timeframe,
            request.start_date or None,
            request.end_date or None,
            convert.load_mode(request.mode),
            page=page,
        )
        bars = await asyncio.to_thread(convert.frame_to_bars, result.bars)
        return data_pb2.LoadDataResponse(
            symbol=result.symbol,
            timeframe=result.timeframe,
            bars=bars,
            quality=convert.quality_report(result.quality),
            provenance=convert.provenance(result.provenance),
            next_page_token=result.next_page_token,
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
                    instrument=convert.instrument(self._instruments.get(sym)), series=items
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
            await asyncio.to_thread(self._store.read, symbol, tf, limit=1)  # raises DATA-005
        return data_pb2.GetDataInfoResponse(
            instrument=convert.instrument(self._instruments.get(symbol)),
            series=convert.series_info(info),
        )

    async def AnalyzeGaps(
        self, request: data_pb2.AnalyzeGapsRequest, context: aio.ServicerContext
    ) -> data_pb2.AnalyzeGapsResponse:
        series, start, end = await self._series(
            request.symbol, request.timeframe, request.start_date, request.end_date
        )
        page = paging.page(
            request.page_size,
            request.page_token,
            what="gaps",
            request=(series.symbol, series.timeframe.code, start, end, request.include_expected),
        )
        stamps = await asyncio.to_thread(
            lambda: self._reader.timestamps(series, start=start, end=end)
        )
        calendar = self._reader.calendar(series.symbol)
        report = await asyncio.to_thread(analyze_gaps, stamps, series.timeframe, calendar)
        gaps, token = listed_gaps(report, include_expected=request.include_expected, page=page)
        return convert.gap_response(report, gaps, next_page_token=token)

    async def ImportBars(
        self, request: data_pb2.ImportBarsRequest, context: aio.ServicerContext
    ) -> data_pb2.ImportBarsResponse:
        result = await asyncio.to_thread(self._import, request, replace=False)
        return data_pb2.ImportBarsResponse(
            imported=result.imported,
            quality=convert.quality_report(result.quality),
            series=convert.series_info(result.series) if result.series else None,
            instrument=convert.instrument(result.instrument),
        )

    async def ReplaceSeries(
        self, request: data_pb2.ReplaceSeriesRequest, context: aio.ServicerContext
    ) -> data_pb2.ReplaceSeriesResponse:
        result = await asyncio.to_thread(self._import, request, replace=True)
        return data_pb2.ReplaceSeriesResponse(
            replaced_bars=result.write.bars_before,
            imported=result.imported,
            quality=convert.quality_report(result.quality),
            series=convert.series_info(result.series) if result.series else None,
        )

    async def DeleteSeries(
        self, request: data_pb2.DeleteSeriesRequest, context: aio.ServicerContext
    ) -> data_pb2.DeleteSeriesResponse:
        symbol = validate_symbol(request.symbol)
        tf = parse_timeframe(request.timeframe)
        deleted = await asyncio.to_thread(self._store.delete, symbol, tf)
        return data_pb2.DeleteSeriesResponse(deleted=deleted)

    async def GetSymbolMetadata(
        self, request: data_pb2.GetSymbolMetadataRequest, context: aio.ServicerContext
    ) -> data_pb2.GetSymbolMetadataResponse:
        instrument = await asyncio.to_thread(self._instruments.get, request.symbol)
        return data_pb2.GetSymbolMetadataResponse(instrument=convert.instrument(instrument))

    async def UpdateSymbolMetadata(
        self, request: data_pb2.UpdateSymbolMetadataRequest, context: aio.ServicerContext
    ) -> data_pb2.UpdateSymbolMetadataResponse:
        symbol = validate_symbol(request.symbol)
        fields = convert.instrument_fields(request.instrument, symbol)
        instrument = await asyncio.to_thread(
            lambda: self._instruments.declare(symbol, **fields)  # type: ignore[arg-type]
        )
        return data_pb2.UpdateSymbolMetadataResponse(instrument=convert.instrument(instrument))

    async def ExportBars(
        self, request: data_pb2.ExportBarsRequest, context: aio.ServicerContext
    ) -> data_pb2.ExportBarsResponse:
        series, start, end = await self._series(
            request.symbol, request.timeframe, request.start_date, request.end_date
        )
        page = paging.page(
            request.page_size,
            request.page_token,
            what="rows",
            request=(series.symbol, series.timeframe.code, start, end),
        )
        bars, token = await asyncio.to_thread(
            lambda: read_page(self._reader, series, start=start, end=end, page=page)
        )
        text = await asyncio.to_thread(csv_io.write_csv, bars)
        return data_pb2.ExportBarsResponse(
            csv_content=text, bar_count=len(bars), next_page_token=token
        )

    async def StreamBars(
        self, request: data_pb2.StreamBarsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[data_pb2.StreamBarsResponse]:
        batch, speed = replay.check_stream(request.batch_size, request.replay_speed)
        series, start, end = await self._series(
            request.symbol, request.timeframe, request.start_date, request.end_date
        )
        chunks = self._reader.chunks(series, start=start, end=end)
        bar_us = series.timeframe.seconds * 1_000_000
        loop = asyncio.get_running_loop()
        started = loop.time()
        paced = replay.paced(replay.batches(chunks, batch), bar_us=bar_us, speed=speed)
        async for bars, due in _in_thread(paced):
            delay = started + due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            yield data_pb2.StreamBarsResponse(
                bars=arrays_to_columns(
                    bars.timestamps_us, bars.open, bars.high, bars.low, bars.close, bars.volume
                ),
                resampled_from=series.resampled_from,
            )

    async def _series(
        self, symbol: str, timeframe: str, start: str, end: str
    ) -> tuple[Series, pd.Timestamp | None, pd.Timestamp | None]:
        symbol = validate_symbol(symbol)
        tf = parse_timeframe(timeframe)
        start_ts, end_ts = parse_range(start or None, end or None)
        series = await asyncio.to_thread(self._reader.locate, symbol, tf)
        return series, start_ts, end_ts

    def _import(
        self,
        request: data_pb2.ImportBarsRequest | data_pb2.ReplaceSeriesRequest,
        *,
        replace: bool,
    ) -> ImportResult:
        symbol = validate_symbol(request.symbol)
        tf = parse_timeframe(request.timeframe)
        instrument = (
            convert.instrument_fields(request.instrument, symbol)
            if request.HasField("instrument")
            else None
        )
        field, rows = convert.import_size(request)
        check_import_size(rows, field=field)
        frame = convert.import_source(request)
        raw: pd.DataFrame | RawBars = (
            frame
            if frame is not None
            else csv_io.read_csv(
                io.StringIO(request.csv_content),
                tz=request.time_zone or None,
                date_order=convert.date_order(request.date_order),
            )
        )
        return import_bars(
            self._store,
            self._instruments,
            symbol=symbol,
            timeframe=tf,
            raw=raw,
            instrument=instrument,
            replace=replace,
            field=field,
        )
