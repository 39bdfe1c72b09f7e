"""The indicator domain: indicators in batch and streaming, on the core alone.

Public API
----------
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
