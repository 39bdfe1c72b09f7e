"""The mesh's :class:`~ktrdr_neural.domain.features.FeatureSource`: fuzzy and data over gRPC.

Features come from the fuzzy service's ``CalculateFuzzy`` (the strategy's resolved feature
matrix on stored base bars, aligned without look-ahead), bars from the data service's
``StreamBars`` and the stored extent from ``GetDataInfo``. Channels come from the runtime's
channel factory (deadlines, request-id propagation, retries of reads).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import grpc
import numpy as np
from grpc import aio

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_core.strategy.document import Strategy
from ktrdr_neural.domain.features import FeatureFrame, PriceBars, StoredRange
from ktrdr_runtime.bars import columns_to_arrays, concat_arrays, value_columns_to_arrays
from ktrdr_runtime.channels import wait_connected
from ktrdr_runtime.grpc_errors import from_rpc_error

STREAM_BATCH = 10_000


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _us(ts: object) -> int:
    return int(ts.seconds) * 1_000_000 + int(ts.nanos) // 1000  # type: ignore[attr-defined]


class GrpcFeatureSource:
    """Features and bars from the fuzzy and data services."""

    def __init__(
        self,
        *,
        fuzzy: fuzzy_pb2_grpc.FuzzyServiceStub,
        data: data_pb2_grpc.DataServiceStub,
        timeout_seconds: float,
        channels: Sequence[aio.Channel] = (),
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {timeout_seconds}")
        self._fuzzy = fuzzy
        self._data = data
        self._timeout = timeout_seconds
        # Waited for (briefly) before each call: a restarted dependency is reconnecting.
        self._channels = tuple(channels)

    async def stored_range(self, *, symbol: str, timeframe: str) -> StoredRange:
        await wait_connected(self._channels)
        try:
            reply = await self._data.GetDataInfo(
                data_pb2.GetDataInfoRequest(symbol=symbol, timeframe=timeframe)
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="data") from exc
        s = reply.series
        return StoredRange(_us(s.first), _us(s.last), int(s.bar_count))

    async def features(
        self,
        strategy: Strategy,
        *,
        symbol: str,
        timeframe: str,
        start: dt.datetime | None,
        end: dt.datetime | None,
    ) -> FeatureFrame:
        request = fuzzy_pb2.CalculateFuzzyRequest(
            symbol=symbol,
            timeframe=timeframe,
            strategy=strategy.name,
            start_date=_iso(start),
            end_date=_iso(end),
        )
        await wait_connected(self._channels)
        try:
            reply = await self._fuzzy.CalculateFuzzy(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="fuzzy") from exc
        stamps = np.fromiter((_us(t) for t in reply.timestamps), np.int64, len(reply.timestamps))
        columns = value_columns_to_arrays(reply.columns, len(stamps))
        names = tuple(columns)
        values = (
            np.column_stack([columns[n] for n in names]) if names else np.zeros((len(stamps), 0))
        )
        return FeatureFrame(stamps, names, values)

    async def bars(
        self, *, symbol: str, timeframe: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> PriceBars:
        request = data_pb2.StreamBarsRequest(
            symbol=symbol,
            timeframe=timeframe,
            start_date=_iso(start),
            end_date=_iso(end),
            batch_size=STREAM_BATCH,
        )
        parts = []
        await wait_connected(self._channels)
        try:
            async for message in self._data.StreamBars(request, timeout=self._timeout):
                parts.append(columns_to_arrays(message.bars))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="data") from exc
        a = concat_arrays(parts)
        return PriceBars(a["timestamps_us"], a["open"], a["high"], a["low"], a["close"])
