"""ktrdr_pipeline: the in-process composition root of KTRDR.

It wires the data, indicator, fuzzy, neural and backtest domains together without the network,
exactly as the services' apps wire gRPC clients, so both give the same answers (tests assert
it, against real mesh processes).

Public API
----------
Pipeline            the wired domains: ``calculate_indicator`` (CalculateIndicator),
                    ``calculate_fuzzy`` (CalculateFuzzy), ``strategy_stream``, ``backtester``
                    (RunBacktest), ``walk_forward`` (RunWalkForward)
StrategyStream      bars in, a strategy's ordered features out, batch by batch
StoreBarSource, DomainIndicatorSource, DomainCatalogue
                    the in-process sources (``ktrdr_pipeline.sources``)
DomainFeatureSource, StoreBarFeed, LocalSignalSource, LocalModelCatalog, LocalTrainer
                    the neural and backtest domains' sources (``ktrdr_pipeline.backtest``,
                    imported on first use: it loads torch)
"""

from ktrdr_pipeline.pipeline import Pipeline, StrategyStream
from ktrdr_pipeline.sources import DomainCatalogue, DomainIndicatorSource, StoreBarSource

__all__ = [
    "DomainCatalogue",
    "DomainIndicatorSource",
    "Pipeline",
    "StoreBarSource",
    "StrategyStream",
]
