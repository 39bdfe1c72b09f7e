"""gRPC servicer of the indicator service: thin, over ``ktrdr_indicators.domain``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
import numpy as np
import pandas as pd
from grpc import aio

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.bars import Bars, frame_from_arrays
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.dates import parse_date, to_us
from ktrdr_core.errors import ValidationError
from ktrdr_core.resample import align_to_base, resample
from ktrdr_core.timeframes import Timeframe, parse_timeframe
from ktrdr_indicators import convert
from ktrdr_indicators.domain.catalogue import Indicator, create, get_info, list_indicators
from ktrdr_indicators.domain.sets import IndicatorSet
from ktrdr_runtime.bars import (
    bars_to_arrays,
    columns_to_arrays,
    concat_arrays,
    timestamps,
    value_column,
)
from ktrdr_runtime.grpc_errors import from_rpc_error
from ktrdr_runtime.servicers import ConfigFirstStream

DESCRIPTOR = indicators_pb2.DESCRIPTOR.services_by_name["IndicatorService"]
Arrays = dict[str, np.ndarray]


class IndicatorServiceServicer(indicators_pb2_grpc.IndicatorServiceServicer):
    def __init__(self, data: Callable[[], data_pb2_grpc.DataServiceStub]) -> None:
        self._data = data

    async def ListIndicators(
        self, request: indicators_pb2.ListIndicatorsRequest, context: aio.ServicerContext
    ) -> indicators_pb2.ListIndicatorsResponse:
        infos = list_indicators(request.category or None)
        return indicators_pb2.ListIndicatorsResponse(
            indicators=[convert.indicator_info(i) for i in infos]
        )

    async def GetIndicatorInfo(
        self, request: indicators_pb2.GetIndicatorInfoRequest, context: aio.ServicerContext
    ) -> indicators_pb2.GetIndicatorInfoResponse:
        return indicators_pb2.GetIndicatorInfoResponse(
            indicator=convert.indicator_info(get_info(request.name))
        )

    async def CalculateIndicator(
        self, request: indicators_pb2.CalculateIndicatorRequest, context: aio.ServicerContext
    ) -> indicators_pb2.CalculateIndicatorResponse:
        indicator = create(request.indicator, convert.parameters(request.parameters))
        keep: np.ndarray | None = None
        calendar: TradingCalendar | None = None
        if request.data and request.HasField("source"):
            raise ValidationError(
                "IND-011",
                "Give the bars either in 'data' or as a stored 'source', not both.",
                field="data",
            )
        if request.data:
            arrays = bars_to_arrays(request.data)
            base_code = request.data_timeframe
            base_field = "data_timeframe"
        elif request.HasField("source"):
            arrays, keep, calendar = await self._stored(request.source)
            base_code = request.source.timeframe
            base_field = "source.timeframe"
        else:
            raise ValidationError(
                "IND-011",
                "Give the bars to compute on in 'data' or a stored 'source'.",
                field="data",
            )
        if request.compute_timeframe:
            if not base_code:
                raise ValidationError(
                    "IND-012",
                    f"'{base_field}' is required with 'compute_timeframe'.",
                    field=base_field,
                )
            values = await asyncio.to_thread(
                _compute_on_higher,
                indicator,
                arrays,
                parse_timeframe(base_code, field=base_field),
                parse_timeframe(request.compute_timeframe, field="compute_timeframe"),
                calendar,
            )
        else:
            values = await asyncio.to_thread(indicator.compute, Bars(**arrays))
        stamps = arrays["timestamps_us"]
        if keep is not None:
            stamps = stamps[keep]
            values = {k: v[keep] for k, v in values.items()}
        return indicators_pb2.CalculateIndicatorResponse(
            indicator_id=indicator.name,
            timestamps=timestamps(stamps),
            outputs=[value_column(name, values[name]) for name in indicator.columns],
            warmup_bars=indicator.warmup,
        )

    async def _stored(
        self, source: indicators_pb2.DataSelection
    ) -> tuple[Arrays, np.ndarray, TradingCalendar]:
        """The stored history up to ``end_date`` and a mask of the requested range.

        Computing over the whole history before ``start_date`` makes the first bars of the
        range exact rather than warming up.
        """
        start = parse_date(source.start_date or None, "source.start_date")
        end = parse_date(source.end_date or None, "source.end_date")
        if start is not None and end is not None and start > end:
            raise ValidationError(
                "IND-013",
                "'source.start_date' is after 'source.end_date'.",
                field="source.start_date",
            )
        stub = self._data()
        parts: list[Arrays] = []
        try:
            info = await stub.GetDataInfo(
                data_pb2.GetDataInfoRequest(symbol=source.symbol, timeframe=source.timeframe)
            )
            async for reply in stub.StreamBars(
                data_pb2.StreamBarsRequest(
                    symbol=source.symbol,
                    timeframe=source.timeframe,
                    end_date=source.end_date,
                    batch_size=10_000,
                )
            ):
                parts.append(columns_to_arrays(reply.bars))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="data") from exc
        arrays = concat_arrays(parts)
        stamps = arrays["timestamps_us"]
        keep = np.ones(len(stamps), dtype=bool)
        if start is not None:
            keep &= stamps >= to_us(start)
        return arrays, keep, get_calendar(info.instrument.calendar)

    async def StreamIndicators(
        self,
        request_iterator: AsyncIterator[indicators_pb2.StreamIndicatorsRequest],
        context: aio.ServicerContext,
    ) -> AsyncIterator[indicators_pb2.StreamIndicatorsResponse]:
        requests = ConfigFirstStream(request_iterator, code="IND-014", payload="bars")
        config = await requests.config()
        indicator_set = IndicatorSet([convert.spec(s) for s in config.indicators])
        stream, columns = indicator_set.stream(), indicator_set.columns
        async for bars in requests.batches():
            try:
                arrays = columns_to_arrays(bars)
            except ValueError as exc:
                raise ValidationError("IND-007", f"'bars': {exc}.", field="bars") from None
            values = stream.update_bars(Bars(**arrays))
            yield indicators_pb2.StreamIndicatorsResponse(
                timestamps_us=bars.timestamps_us,
                columns=[value_column(name, values[name]) for name in columns],
            )


def _compute_on_higher(
    indicator: Indicator,
    arrays: Arrays,
    base: Timeframe,
    higher: Timeframe,
    calendar: TradingCalendar | None,
) -> Arrays:
    """Compute on ``higher`` bars resampled from the base bars, then align without look-ahead."""
    frame = frame_from_arrays(arrays)
    bars = resample(frame, base, higher, calendar)
    higher_values = indicator.compute(Bars.from_frame(bars))
    aligned = align_to_base(
        pd.DataFrame(higher_values, index=bars.index), higher, frame.index, base
    )
    return {name: aligned[name].to_numpy(np.float64) for name in indicator.columns}
