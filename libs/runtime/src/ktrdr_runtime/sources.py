"""gRPC-client implementations of the sources the domains declare, shared by every service.

A domain declares what it needs as a Protocol in core types (``ktrdr_indicators.domain.sources.
BarSource``, ``ktrdr_fuzzy.domain.sources.IndicatorSource`` and ``IndicatorCatalogue``); these
classes satisfy them structurally over the mesh, so this module imports no domain. The in-process
implementations are in ``ktrdr_pipeline.sources``. Both raise the same domain errors: a failed
call becomes the remote service's own error (code, field, suggestions; see
:func:`~ktrdr_runtime.grpc_errors.from_rpc_error`) or ``RUNTIME-002``/``003`` when the service is
down or slow.

=====================  ==========================  =========================================
class                  satisfies                   calls
=====================  ==========================  =========================================
GrpcBarSource          indicators ``BarSource``    data ``GetDataInfo``, ``StreamBars``
GrpcIndicatorSource    fuzzy ``IndicatorSource``   indicators ``CalculateIndicator``
GrpcIndicatorCatalogue fuzzy ``IndicatorCatalogue`` indicators ``ValidateIndicator``
=====================  ==========================  =========================================
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import grpc

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.bars import Bars
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.strategy.document import IndicatorSpec
from ktrdr_core.timeframes import Timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_runtime.bars import (
    bars_from_columns,
    parameters_struct,
    timestamps_to_us,
    value_columns_to_frame,
)
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.grpc_errors import from_rpc_error

DATA = data_pb2.DESCRIPTOR.services_by_name["DataService"]
INDICATORS = indicators_pb2.DESCRIPTOR.services_by_name["IndicatorService"]

#: Bars per StreamBars message when fetching a history (the data service's maximum).
STREAM_BATCH = 10_000
#: Catalogue answers kept per client (strategies repeat the same few indicators).
CATALOGUE_CACHE = 1024


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


class _Client:
    def __init__(self, address: str, service: Any, *, timeout_seconds: float) -> None:
        self._channel = open_channel(address, services=[service], timeout_seconds=timeout_seconds)

    async def close(self) -> None:
        await self._channel.close()


class GrpcBarSource(_Client):
    """The data service as the indicator domain's ``BarSource``."""

    def __init__(self, address: str, *, timeout_seconds: float) -> None:
        super().__init__(address, DATA, timeout_seconds=timeout_seconds)
        self._stub = data_pb2_grpc.DataServiceStub(self._channel)

    async def bars(self, *, symbol: str, timeframe: Timeframe, end: dt.datetime | None) -> Bars:
        request = data_pb2.StreamBarsRequest(
            symbol=symbol, timeframe=timeframe.code, end_date=_iso(end), batch_size=STREAM_BATCH
        )
        parts: list[Bars] = []
        try:
            async for reply in self._stub.StreamBars(request):
                parts.append(bars_from_columns(reply.bars))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="data") from exc
        return Bars.concat(parts)

    async def calendar(self, *, symbol: str, timeframe: Timeframe) -> TradingCalendar:
        request = data_pb2.GetDataInfoRequest(symbol=symbol, timeframe=timeframe.code)
        try:
            info = await self._stub.GetDataInfo(request)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="data") from exc
        return get_calendar(info.instrument.calendar)


class GrpcIndicatorSource(_Client):
    """The indicator service as the fuzzy domain's ``IndicatorSource``."""

    def __init__(self, address: str, *, timeout_seconds: float) -> None:
        super().__init__(address, INDICATORS, timeout_seconds=timeout_seconds)
        self._stub = indicators_pb2_grpc.IndicatorServiceStub(self._channel)

    async def values(
        self,
        indicator: IndicatorSpec,
        *,
        symbol: str,
        timeframe: Timeframe,
        compute_timeframe: Timeframe | None,
        end: dt.datetime | None,
    ) -> ValueFrame:
        request = indicators_pb2.CalculateIndicatorRequest(
            indicator=indicator.type,
            parameters=parameters_struct(indicator.params),
            source=indicators_pb2.DataSelection(
                symbol=symbol, timeframe=timeframe.code, end_date=_iso(end)
            ),
            compute_timeframe=compute_timeframe.code if compute_timeframe else "",
        )
        try:
            reply = await self._stub.CalculateIndicator(request)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="indicators") from exc
        frame = value_columns_to_frame(timestamps_to_us(reply.timestamps), reply.outputs)
        return frame.with_prefix(reply.indicator_id, indicator.id)


class GrpcIndicatorCatalogue(_Client):
    """The indicator service as the fuzzy domain's ``IndicatorCatalogue`` (answers cached)."""

    def __init__(self, address: str, *, timeout_seconds: float) -> None:
        super().__init__(address, INDICATORS, timeout_seconds=timeout_seconds)
        self._stub = indicators_pb2_grpc.IndicatorServiceStub(self._channel)
        self._cache: dict[tuple[str, str], tuple[str, ...]] = {}

    async def outputs(self, indicator: str, parameters: Mapping[str, Any]) -> tuple[str, ...]:
        key = (indicator, json.dumps(dict(parameters), sort_keys=True, default=str))
        if key in self._cache:
            return self._cache[key]
        request = indicators_pb2.ValidateIndicatorRequest(
            indicator=indicator, parameters=parameters_struct(parameters)
        )
        try:
            reply = await self._stub.ValidateIndicator(request)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="indicators") from exc
        if len(self._cache) >= CATALOGUE_CACHE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = tuple(reply.outputs)
        return self._cache[key]
