"""In-process implementations of the sources the domains declare, backed by the other domains.

They answer exactly what the gRPC clients in ``ktrdr_runtime.sources`` answer over the mesh
(same values, same errors and fields), because they call the same domain code the services'
servicers call:

=====================  ==========================  =========================================
class                  satisfies                   backed by
=====================  ==========================  =========================================
StoreBarSource         indicators ``BarSource``    the data domain's Parquet store
DomainIndicatorSource  fuzzy ``IndicatorSource``   the indicator domain's calculator
DomainCatalogue        fuzzy ``IndicatorCatalogue``, the indicator domain's catalogue
                       backtest ``IndicatorCatalogue``
=====================  ==========================  =========================================
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ktrdr_backtest.domain.strategies import IndicatorInfo
from ktrdr_core.bars import Bars
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.offload import Offload
from ktrdr_core.strategy.document import IndicatorSpec
from ktrdr_core.timeframes import Timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_data.domain.instruments import get_instrument, validate_symbol
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_indicators.domain.calculation import CalculateRequest, IndicatorCalculator
from ktrdr_indicators.domain.catalogue import create
from ktrdr_indicators.domain.sources import StoredSelection


class StoreBarSource:
    """The data domain's store as the indicator domain's ``BarSource`` (what the data service's
    ``StreamBars`` and ``GetDataInfo`` answer)."""

    def __init__(self, store: ParquetBarStore, *, offload: Offload = asyncio.to_thread) -> None:
        self._store = store
        self._offload = offload

    async def bars(self, *, symbol: str, timeframe: Timeframe, end: dt.datetime | None) -> Bars:
        symbol = validate_symbol(symbol)
        until = pd.Timestamp(end) if end is not None else None
        frame = await self._offload(self._store.read, symbol, timeframe, None, until)
        return Bars.from_frame(frame)

    async def calendar(self, *, symbol: str, timeframe: Timeframe) -> TradingCalendar:
        symbol = validate_symbol(symbol)
        info = await self._offload(self._store.info, symbol, timeframe)
        if info is None:
            raise self._store.not_found(symbol, timeframe)
        if info.error is not None:
            await self._offload(self._store.read, symbol, timeframe)  # raises DATA-005 naming it
        return get_calendar(get_instrument(symbol).calendar)


class DomainIndicatorSource:
    """The indicator domain's calculator as the fuzzy domain's ``IndicatorSource`` (what the
    indicator service's ``CalculateIndicator`` answers on a stored source)."""

    def __init__(self, calculator: IndicatorCalculator) -> None:
        self._calculator = calculator

    async def values(
        self,
        indicator: IndicatorSpec,
        *,
        symbol: str,
        timeframe: Timeframe,
        compute_timeframe: Timeframe | None,
        end: dt.datetime | None,
    ) -> ValueFrame:
        result = await self._calculator.calculate(
            CalculateRequest(
                indicator=indicator.type,
                parameters=indicator.params,
                source=StoredSelection(symbol, timeframe, end=end),
                compute_timeframe=compute_timeframe,
            )
        )
        return result.values.with_prefix(result.indicator.name, indicator.id)


class DomainCatalogue:
    """The indicator domain's catalogue as the fuzzy domain's ``IndicatorCatalogue`` and the
    backtest domain's (what the indicator service's ``ValidateIndicator`` answers)."""

    async def outputs(self, indicator: str, parameters: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(create(indicator, parameters).info.outputs)

    async def describe(self, indicator: str, parameters: Mapping[str, Any]) -> IndicatorInfo:
        made = create(indicator, parameters)
        return IndicatorInfo(tuple(made.info.outputs), int(made.warmup))
