"""What the fuzzy domain needs from the indicator domain, declared as Protocols.

The fuzzy domain never imports the indicator domain. A composition root plugs in an
implementation: the fuzzy service gRPC clients of the indicator service
(``ktrdr_runtime.sources.GrpcIndicatorSource`` and ``GrpcIndicatorCatalogue``), the in-process
pipeline the indicator domain itself (``ktrdr_pipeline.sources``). Both give the same values and
raise the same errors, with fields named as in the indicator service's requests (``indicator``,
``parameters.<name>``, ``source.symbol``...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from ktrdr_core.strategy.document import IndicatorSpec
from ktrdr_core.timeframes import Timeframe
from ktrdr_core.values import ValueFrame


class IndicatorSource(Protocol):
    """Indicator values on stored bars."""

    async def values(
        self,
        indicator: IndicatorSpec,
        *,
        symbol: str,
        timeframe: Timeframe,
        compute_timeframe: Timeframe | None,
        end: dt.datetime | None,
    ) -> ValueFrame:
        """``indicator`` on every stored ``timeframe`` bar of ``symbol`` opening before ``end``.

        Computed on ``compute_timeframe`` bars resampled from those bars (``None``: on the bars
        themselves) and aligned onto them without look-ahead: a higher bar's values appear from
        the bar at whose close it has closed. Columns are ``{indicator.id}`` for one output,
        ``{indicator.id}.{output}`` for several, in output order.
        """
        ...


class IndicatorCatalogue(Protocol):
    """Checks indicator configurations (what strategy validation needs)."""

    async def outputs(self, indicator: str, parameters: Mapping[str, Any]) -> tuple[str, ...]:
        """The output names of ``indicator`` with ``parameters``.

        Raises
        ------
        KtrdrError
            NOT_FOUND ``IND-001`` for an unknown indicator (field ``indicator``), INVALID_ARGUMENT
            ``IND-002..006`` for a bad parameter (field ``parameters.<name>``), with close
            matches as suggestions.
        """
        ...
