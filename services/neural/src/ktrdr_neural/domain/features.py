"""What the neural domain needs from the rest of KTRDR, declared as a Protocol.

The network's inputs are exactly the strategy's resolved, ordered features (``nn_inputs``):
fuzzy memberships ``{tf}_{set}_{membership}`` and, once the grammar has them, raw indicators
``{tf}_{indicator}_raw`` with a ``normalization``. The domain never computes them; it asks a
:class:`FeatureSource`. The service plugs in a gRPC client (fuzzy ``CalculateFuzzy`` + data
``StreamBars``/``GetDataInfo``); the in-process pipeline plugs in the fuzzy domain directly.
Either way the columns must come back with exactly the resolved names, in order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal, Protocol

import numpy as np

from ktrdr_core.strategy.document import Strategy
from ktrdr_core.strategy.features import resolve_features

Scaling = Literal["none", "zscore", "minmax"]
SCALINGS: tuple[str, ...] = ("none", "zscore", "minmax")


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureFrame:
    """A strategy's feature matrix on base-timeframe bars.

    ``timestamps_us`` are bar open times (int64 microseconds, UTC, increasing); ``values`` has
    one row per bar and one column per name, NaN where a value is not ready (warm-up).
    """

    timestamps_us: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape != (len(self.timestamps_us), len(self.names)):
            raise ValueError(
                f"values {self.values.shape} do not match {len(self.timestamps_us)} bars x "
                f"{len(self.names)} features"
            )


@dataclasses.dataclass(frozen=True, slots=True)
class PriceBars:
    """OHLC of base-timeframe bars (what labels are computed from)."""

    timestamps_us: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray

    def __len__(self) -> int:
        return len(self.timestamps_us)


@dataclasses.dataclass(frozen=True, slots=True)
class StoredRange:
    """The stored extent of one series."""

    first_us: int
    last_us: int
    bar_count: int


class FeatureSource(Protocol):
    """Where training and range predictions get their inputs.

    Implementations raise :class:`~ktrdr_core.errors.NotFoundError` from
    :meth:`stored_range` when nothing is stored for the series, and the other
    :class:`~ktrdr_core.errors.KtrdrError` kinds for everything else.
    """

    async def stored_range(self, *, symbol: str, timeframe: str) -> StoredRange:
        """The stored extent of ``symbol``/``timeframe``."""
        ...

    async def features(
        self,
        strategy: Strategy,
        *,
        symbol: str,
        timeframe: str,
        start: dt.datetime | None,
        end: dt.datetime | None,
    ) -> FeatureFrame:
        """The strategy's resolved features on stored ``timeframe`` bars, ``start <= t < end``,
        aligned without look-ahead, columns in resolved order."""
        ...

    async def bars(
        self, *, symbol: str, timeframe: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> PriceBars:
        """Stored bars ``start <= t < end`` in time order."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureColumn:
    """One network input: its name and how it is scaled (memberships are not)."""

    name: str
    scaling: Scaling = "none"


def resolve_schema(strategy: Strategy) -> tuple[FeatureColumn, ...]:
    """The strategy's ordered network inputs with their scaling.

    Fuzzy memberships are already in [0, 1] and are not scaled. A raw-indicator feature (the
    ``raw_indicator`` entries of ``nn_inputs``, named ``{tf}_{indicator}_raw``) carries its
    ``normalization`` (``zscore``, ``minmax`` or ``none``) on the resolved feature spec.
    """
    out = []
    for spec in resolve_features(strategy):
        scaling: Any = getattr(spec, "normalization", None) or "none"
        if scaling not in SCALINGS:
            raise ValueError(f"feature {spec.name}: unknown normalization {scaling!r}")
        out.append(FeatureColumn(spec.name, scaling))
    return tuple(out)
