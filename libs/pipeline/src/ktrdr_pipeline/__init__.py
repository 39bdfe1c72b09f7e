"""ktrdr_pipeline: the in-process composition root of KTRDR.

It wires the data, indicator and fuzzy domains together without the network, exactly as the
services' apps wire gRPC clients, so both give the same answers (a test asserts it). The neural
and backtest domains join it later; the backtest runs its in-process mode on it.

Public API
----------
Pipeline            the wired domains: ``calculate_indicator`` (CalculateIndicator),
                    ``calculate_fuzzy`` (CalculateFuzzy), ``strategy_stream``
StrategyStream      bars in, a strategy's ordered features out, batch by batch
StoreBarSource, DomainIndicatorSource, DomainCatalogue
                    the in-process sources (``ktrdr_pipeline.sources``)
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
