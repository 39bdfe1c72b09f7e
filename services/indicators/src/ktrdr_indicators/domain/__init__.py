"""The indicator domain: a catalogue of indicators computed in batch and streamed bar by bar,
on the core alone.

Public API::

    from ktrdr_indicators.domain import create, IndicatorSet

    rsi = create("rsi", {"period": 14})      # validated; IND-00x errors otherwise
    rsi.compute(bars)                        # bars: ktrdr_core.bars.Bars -> {column: array}
    stream = rsi.stream(); stream.update(o, h, lo, c, v)
    IndicatorSet(specs).stream().update_bars(bars)

Each indicator is registered once (:mod:`~ktrdr_indicators.domain.registry`) in its family
module (``trend``, ``momentum``, ``volatility``, ``volume``); pandas-ta-classic adds breadth
(:mod:`~ktrdr_indicators.domain.pta`).

Modules
-------
catalogue        ``create(type, params) -> Indicator`` (``compute``, ``stream``, ``info``),
                 ``get_info``, ``list_indicators``
sets             ``IndicatorSet``: several indicators computed or streamed together
sources          ``BarSource``: the stored bars and calendar the domain needs (a Protocol; gRPC
                 client ``ktrdr_runtime.sources.GrpcBarSource``, in-process
                 ``ktrdr_pipeline.sources.StoreBarSource``), ``StoredSelection``, ``load_history``
multi_timeframe  ``compute_on_timeframe`` (batch) and ``MultiTimeframeStream`` (incremental):
                 indicators on higher timeframes built from base bars, without look-ahead
calculation      ``IndicatorCalculator`` (CalculateIndicator: ``CalculateRequest`` ->
                 ``Calculation``), ``StreamConfig`` (``for_strategy``) and ``open_stream``
                 (StreamIndicators)
errors           the ``IND-*`` codes
"""

from ktrdr_indicators.domain.catalogue import Indicator, create, get_info, list_indicators
from ktrdr_indicators.domain.metadata import MAX_PERIOD, IndicatorInfo, ParamSpec
from ktrdr_indicators.domain.sets import IndicatorSet, SetStream
from ktrdr_indicators.domain.streams import StreamingIndicator

__all__ = [
    "MAX_PERIOD",
    "Indicator",
    "IndicatorInfo",
    "IndicatorSet",
    "ParamSpec",
    "SetStream",
    "StreamingIndicator",
    "create",
    "get_info",
    "list_indicators",
]
