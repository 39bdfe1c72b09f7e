"""Where the indicator domain gets stored bars: the :class:`BarSource` it declares.

The domain never reaches for the data service itself. A composition root plugs in a source: the
indicator service a gRPC client of the data service (``ktrdr_runtime.sources.GrpcBarSource``),
the in-process pipeline the data domain's store (``ktrdr_pipeline.sources.StoreBarSource``).
Both answer the same bars and raise the same errors, so a calculation gives the same result
either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Protocol

import numpy as np

from ktrdr_core.bars import Bars
from ktrdr_core.calendars import TradingCalendar
from ktrdr_core.dates import to_us
from ktrdr_core.errors import KtrdrError
from ktrdr_core.timeframes import Timeframe
from ktrdr_indicators.domain import errors as E


class BarSource(Protocol):
    """Stored bars and the instrument's trading calendar.

    Errors are the data domain's (``DATA-*``: an invalid or unknown symbol, a series not
    stored, a corrupt file; ``RUNTIME-*`` when a remote source is down), their ``field`` naming
    the argument at fault (``symbol``, ``timeframe``).
    """

    async def bars(self, *, symbol: str, timeframe: Timeframe, end: dt.datetime | None) -> Bars:
        """Every stored bar of the series opening before ``end`` (all with ``None``), in time
        order."""
        ...

    async def calendar(self, *, symbol: str, timeframe: Timeframe) -> TradingCalendar:
        """The trading calendar of ``symbol`` (whose ``timeframe`` series must be stored)."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class StoredSelection:
    """Stored bars to compute on: ``start <= t < end`` (either bound optional)."""

    symbol: str
    timeframe: Timeframe
    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class History:
    """The stored history up to a selection's end and where its range begins.

    ``bars[first:]`` are the selected bars; the bars before them are the history that warms
    indicators up, so the first selected bar is already past its warm-up.
    """

    bars: Bars
    first: int
    calendar: TradingCalendar


async def load_history(
    source: BarSource, selection: StoredSelection, *, field: str = "source"
) -> History:
    """Fetch the stored history of ``selection`` from ``source``.

    Parameters
    ----------
    source
        Where bars come from.
    selection
        The series and range.
    field
        The request field holding the selection: the source's errors are put under it
        (``symbol`` becomes ``source.symbol``), keeping their code and suggestions.

    Raises
    ------
    ValidationError
        IND-013 when the start is after the end; the source's errors as described.
    """
    start, end = selection.start, selection.end
    if start is not None and end is not None and start > end:
        raise E.ValidationError(
            E.START_AFTER_END,
            f"'{field}.start_date' is after '{field}.end_date'.",
            field=f"{field}.start_date",
        )
    try:
        calendar = await source.calendar(symbol=selection.symbol, timeframe=selection.timeframe)
        bars = await source.bars(symbol=selection.symbol, timeframe=selection.timeframe, end=end)
    except KtrdrError as exc:
        raise exc.under(field) from exc
    first = 0 if start is None else int(np.searchsorted(bars.timestamps_us, to_us(start)))
    return History(bars, first, calendar)
