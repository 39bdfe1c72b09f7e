"""A strategy's feature stream over the mesh: ``StreamIndicators`` piped into ``StreamFuzzy``.

:class:`GrpcStrategyStream` is the mesh counterpart of the in-process
``ktrdr_pipeline.StrategyStream``: base-timeframe bars in, the strategy's ordered features out,
one batch (one message each way per stream) at a time. Both run the same domain objects, so
they give the same rows bit for bit. The configs are built from a strategy with
:func:`indicator_stream_config` and :func:`feature_stream_config`.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc import aio

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_core.bars import Bars
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.values import ValueFrame
from ktrdr_runtime.bars import bars_to_columns, parameters_struct, value_columns_to_frame
from ktrdr_runtime.grpc_errors import from_rpc_error


def indicator_stream_config(
    strategy: Strategy, *, symbol: str = "", calendar: str = ""
) -> indicators_pb2.StreamIndicatorsConfig:
    """The strategy's indicators (with its ids) on all its timeframes, fed with bars of its base
    timeframe; daily and longer bars follow the stored ``symbol``'s calendar or ``calendar``."""
    return indicators_pb2.StreamIndicatorsConfig(
        indicators=[
            indicators_pb2.IndicatorSpec(
                id=ind_id, indicator=spec.type, parameters=parameters_struct(spec.params)
            )
            for ind_id, spec in strategy.indicators.items()
        ],
        base_timeframe=strategy.training_data.base_timeframe,
        timeframes=list(strategy.timeframes),
        symbol=symbol,
        calendar=calendar,
    )


def feature_stream_config(strategy: str) -> fuzzy_pb2.StreamFuzzyConfig:
    """The features of the strategy named ``strategy`` (as the fuzzy service knows it)."""
    return fuzzy_pb2.StreamFuzzyConfig(strategy=strategy, features=True)


class GrpcStrategyStream:
    """Bars in, a strategy's features out, through the indicator and fuzzy services.

    Open it with :meth:`open`; each :meth:`update` sends one batch of bars to
    ``StreamIndicators``, its indicator columns to ``StreamFuzzy``, and returns the features.
    Errors are the services' own (see :func:`~ktrdr_runtime.grpc_errors.from_rpc_error`).
    """

    def __init__(self, indicators: Any, fuzzy: Any) -> None:
        self._indicators = indicators
        self._fuzzy = fuzzy

    @classmethod
    async def open(
        cls,
        indicators: aio.Channel,
        fuzzy: aio.Channel,
        *,
        strategy: Strategy,
        name: str = "",
        symbol: str = "",
        calendar: str = "",
    ) -> GrpcStrategyStream:
        """Start both streams and send their configs (``name``: the strategy's name for the
        fuzzy service, default ``strategy.name``)."""
        ind = indicators_pb2_grpc.IndicatorServiceStub(indicators).StreamIndicators()
        fuz = fuzzy_pb2_grpc.FuzzyServiceStub(fuzzy).StreamFuzzy()
        config = indicator_stream_config(strategy, symbol=symbol, calendar=calendar)
        await ind.write(indicators_pb2.StreamIndicatorsRequest(config=config))
        await fuz.write(
            fuzzy_pb2.StreamFuzzyRequest(config=feature_stream_config(name or strategy.name))
        )
        return cls(ind, fuz)

    async def update(self, bars: Bars) -> ValueFrame:
        """The features of the next bars (one row per bar)."""
        try:
            await self._indicators.write(
                indicators_pb2.StreamIndicatorsRequest(bars=bars_to_columns(bars))
            )
            values = await self._indicators.read()
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="indicators") from exc
        try:
            await self._fuzzy.write(
                fuzzy_pb2.StreamFuzzyRequest(
                    values=fuzzy_pb2.IndicatorValues(
                        timestamps_us=values.timestamps_us, columns=values.columns
                    )
                )
            )
            features = await self._fuzzy.read()
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="fuzzy") from exc
        return value_columns_to_frame(features.timestamps_us, features.columns)

    async def close(self) -> None:
        """End both streams."""
        await self._indicators.done_writing()
        await self._fuzzy.done_writing()
