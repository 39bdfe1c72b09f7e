"""The fuzzy domain: memberships, features and rule inference, on the core alone.

Public API
----------
sources      ``IndicatorSource`` and ``IndicatorCatalogue``: what the domain needs from the
             indicator domain (Protocols; gRPC clients in ``ktrdr_runtime.sources``, in-process
             ones in ``ktrdr_pipeline.sources``)
strategies   ``StrategyLibrary``: strategy files validated against an ``IndicatorCatalogue``
features     ``plan_features``/``FeaturePlan``, ``compute_features``, ``FeatureCalculator``
             (CalculateFuzzy: ``FeatureRequest`` -> ``Features``) and ``FeatureStream`` (the same
             features batch by batch from a multi-timeframe indicator stream)
engine       ``FuzzyEngine``/``FuzzyStream``: vectorised and per-bar fuzzification
inference    ``build_inference_system``, ``FuzzyInference``: Mamdani and Sugeno
operations   the smaller use cases of the service (strategy and set choice, one inference,
             ``open_stream`` for StreamFuzzy)
errors       the ``FUZZY-*`` codes
"""
