"""The neural domain: train, version and serve neuro-fuzzy networks (never imports grpc).

Public API
----------
- :class:`~ktrdr_neural.domain.features.FeatureSource` — what a composition root plugs in
  (features and bars); :class:`FeatureFrame`, :class:`PriceBars`, :class:`StoredRange`.
- :func:`~ktrdr_core.strategy.training.parse_network_spec` — the strategy's ``model`` and
  ``training`` sections as a :class:`NetworkSpec`.
- :func:`~ktrdr_neural.domain.plan.plan_training` and :class:`TrainRequest` — a prepared
  :class:`~ktrdr_neural.domain.jobs.TrainingJob`; :class:`TrainingManager` runs them.
- :func:`~ktrdr_neural.domain.training.train_network` — the loop itself (in-process).
- :class:`~ktrdr_neural.domain.registry.ModelRegistry` over a :class:`RegistryStorage`
  (:class:`LocalStorage`, sealed at rest by :class:`EncryptedStorage`); :func:`parse_model_name`.
- :class:`~ktrdr_neural.domain.serving.ModelServer` -> :class:`LoadedModel` (``predict``,
  ``stream``, ``check_features``) -> :class:`PredictionBatch`.
"""

from ktrdr_core.strategy.training import NetworkSpec, parse_network_spec
from ktrdr_neural.domain.features import (
    FeatureColumn,
    FeatureFrame,
    FeatureSource,
    PriceBars,
    StoredRange,
    resolve_schema,
)
from ktrdr_neural.domain.registry import (
    EncryptedStorage,
    LocalStorage,
    ModelRef,
    ModelRegistry,
    RegistryStorage,
    parse_model_name,
)
from ktrdr_neural.domain.scaling import Scaler

__all__ = [
    "EncryptedStorage",
    "FeatureColumn",
    "FeatureFrame",
    "FeatureSource",
    "LocalStorage",
    "ModelRef",
    "ModelRegistry",
    "NetworkSpec",
    "PriceBars",
    "RegistryStorage",
    "Scaler",
    "StoredRange",
    "parse_model_name",
    "parse_network_spec",
    "resolve_schema",
]
