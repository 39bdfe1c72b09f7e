"""The in-process pipeline: data -> indicators -> fuzzy -> neural -> backtest through domain
objects, no network.

:class:`Pipeline` wires the domains the way the services' apps wire gRPC clients, so its
answers equal the mesh's: ``calculate_indicator`` is ``CalculateIndicator``, ``calculate_fuzzy``
``CalculateFuzzy``, :class:`StrategyStream` is ``StreamIndicators`` (a strategy's indicators on
all its timeframes) piped into ``StreamFuzzy`` (its features), batch by batch; ``backtester``
runs ``RunBacktest`` (the same trades) and ``walk_forward`` ``RunWalkForward``, training with
the neural domain in a worker thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # the neural and backtest domains (torch) load only when a backtest runs
    from ktrdr_backtest.domain.run import BacktestRunner, RunRecorder
    from ktrdr_backtest.domain.walkforward import WalkForward


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
    models_dir
        The neural model registry (``$KTRDR_HOME/models``); needed to backtest and train.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        strategies_dir: Path,
        offload: Offload = asyncio.to_thread,
        models_dir: Path | None = None,
    ) -> None:
        self.offload = offload
        self.strategies_dir = strategies_dir
        self.models_dir = models_dir
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

    def backtester(self, *, recorder: RunRecorder | None = None) -> BacktestRunner:
        """``RunBacktest`` in-process: the backtest domain's runner over these domains.

        ``recorder`` stores the runs (none: nothing is stored). Predictions run with BLAS on
        one thread, as in the neural service, so they are the same bits as the mesh's.
        """
        from ktrdr_backtest.domain.run import BacktestRunner
        from ktrdr_backtest.domain.strategies import StrategyFiles
        from ktrdr_neural.domain.serving import ModelServer, limit_blas_threads
        from ktrdr_pipeline.backtest import LocalModelCatalog, LocalSignalSource, StoreBarFeed

        registry = self._registry()
        limit_blas_threads(1)
        return BacktestRunner(
            strategies=StrategyFiles(self.strategies_dir, self.catalogue, offload=self.offload),
            models=LocalModelCatalog(registry, offload=self.offload),
            feed=StoreBarFeed(self.store, offload=self.offload),
            signals=LocalSignalSource(self, ModelServer(registry)),
            recorder=recorder,
            offload=self.offload,
        )

    def walk_forward(self, *, recorder: RunRecorder | None = None) -> WalkForward:
        """``RunWalkForward`` in-process: trains each window with the neural domain."""
        from ktrdr_backtest.domain.walkforward import WalkForward
        from ktrdr_pipeline.backtest import LocalTrainer

        trainer = LocalTrainer(self, self._registry())
        return WalkForward(runner=self.backtester(recorder=recorder), trainer=trainer)

    def _registry(self) -> Any:
        from ktrdr_neural.domain.registry import LocalStorage, ModelRegistry

        if self.models_dir is None:
            raise ValueError("Pipeline(models_dir=...) is needed to backtest or train")
        return ModelRegistry(LocalStorage(self.models_dir))
