"""The in-process pipeline: data -> indicators -> fuzzy through domain objects, no network.

:class:`Pipeline` wires the domains the way the services' apps wire gRPC clients, so its
answers equal the mesh's: ``calculate_indicator`` is ``CalculateIndicator``, ``calculate_fuzzy``
``CalculateFuzzy``, and :class:`StrategyStream` is ``StreamIndicators`` (a strategy's indicators on
all its timeframes) piped into ``StreamFuzzy`` (its features), batch by batch.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ktrdr_core.bars import Bars
from ktrdr_core.offload import Offload
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.values import ValueFrame
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_fuzzy.domain.features import FeatureCalculator, FeatureRequest, Features, FeatureStream
from ktrdr_fuzzy.domain.strategies import StrategyLibrary
from ktrdr_indicators.domain.calculation import (
    CalculateRequest,
    Calculation,
    IndicatorCalculator,
    StreamConfig,
    open_stream,
)
from ktrdr_indicators.domain.multi_timeframe import MultiTimeframeStream
from ktrdr_pipeline.sources import DomainCatalogue, DomainIndicatorSource, StoreBarSource


class StrategyStream:
    """A strategy's features per base bar from its base-timeframe bars, batch by batch.

    ``indicators`` computes the strategy's indicators on all its timeframes (columns
    ``{timeframe}_{indicator_id}[.output]``); ``features`` turns them into the strategy's
    ordered feature vector. Feed bars in time order; any split into batches gives the same rows.
    """

    def __init__(self, indicators: MultiTimeframeStream, features: FeatureStream) -> None:
        self.indicators = indicators
        self.features = features

    @property
    def names(self) -> tuple[str, ...]:
        """The feature names, in the strategy's resolved order."""
        return self.features.names

    def update(self, bars: Bars) -> ValueFrame:
        """The features of the next bars (one row per bar)."""
        return self.features.update(self.indicators.update(bars))


class Pipeline:
    """The data, indicator and fuzzy domains wired in-process.

    Parameters
    ----------
    data_dir
        The data domain's Parquet store (``$KTRDR_HOME/data``).
    strategies_dir
        Strategy files.
    offload
        Runs file reads and CPU work (default ``asyncio.to_thread``).
    """

    def __init__(
        self, *, data_dir: Path, strategies_dir: Path, offload: Offload = asyncio.to_thread
    ) -> None:
        self.store = ParquetBarStore(data_dir)
        self.bars = StoreBarSource(self.store, offload=offload)
        self.indicators = IndicatorCalculator(self.bars, offload=offload)
        self.indicator_source = DomainIndicatorSource(self.indicators)
        self.catalogue = DomainCatalogue()
        self.strategies = StrategyLibrary(strategies_dir, self.catalogue, offload=offload)
        self.features = FeatureCalculator(self.indicator_source, offload=offload)

    async def strategy(self, strategy: Strategy | str) -> Strategy:
        """A strategy by name (validated against the catalogue), or the one given."""
        return strategy if isinstance(strategy, Strategy) else await self.strategies.get(strategy)

    async def calculate_indicator(self, request: CalculateRequest) -> Calculation:
        """What ``CalculateIndicator`` answers."""
        return await self.indicators.calculate(request)

    async def calculate_fuzzy(self, strategy: Strategy | str, request: FeatureRequest) -> Features:
        """What ``CalculateFuzzy`` answers: the strategy's features on stored bars."""
        return await self.features.calculate(await self.strategy(strategy), request)

    async def strategy_stream(
        self, strategy: Strategy | str, *, symbol: str = "", calendar: str = ""
    ) -> StrategyStream:
        """A fresh :class:`StrategyStream`; the calendar of daily and longer bars is the stored
        ``symbol``'s, or ``calendar`` by name (neither: UTC days)."""
        chosen = await self.strategy(strategy)
        config = StreamConfig.for_strategy(chosen, symbol=symbol, calendar=calendar)
        indicators = await open_stream(config, self.bars)
        return StrategyStream(indicators, FeatureStream(chosen))
