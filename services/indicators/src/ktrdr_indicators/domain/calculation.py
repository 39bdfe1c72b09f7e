"""Indicator calculations as use cases: what ``CalculateIndicator`` and ``StreamIndicators`` do,
in domain terms, for the servicer and the in-process pipeline alike.

* :class:`IndicatorCalculator` computes one indicator over supplied bars or a stored range
  (fetched from its :class:`~ktrdr_indicators.domain.sources.BarSource`), on the bars' timeframe
  or a higher one, with the CPU work handed to an :class:`~ktrdr_core.offload.Offload`;
* :func:`open_stream` builds the incremental stream a :class:`StreamConfig` describes.

Field names in errors are the request's (``data``, ``source.symbol``, ``compute_timeframe``...),
so both transports report the same field.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from ktrdr_core.bars import Bars, check_bars
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.errors import KtrdrError
from ktrdr_core.offload import Offload
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.timeframes import Timeframe, parse_timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.catalogue import Indicator, create
from ktrdr_indicators.domain.multi_timeframe import MultiTimeframeStream, compute_on_timeframe
from ktrdr_indicators.domain.sets import IndicatorSet
from ktrdr_indicators.domain.sources import BarSource, StoredSelection, load_history

T = TypeVar("T")

#: Bars one non-streaming calculation may cover: the inline ``data``, or the stored history up
#: to the range's end (every stored bar before it warms the indicator up). Longer series stream.
MAX_CALCULATION_BARS = 500_000
#: Indicators one stream config may compute (each on every timeframe of the config).
MAX_STREAM_INDICATORS = 64


@dataclasses.dataclass(frozen=True, slots=True)
class CalculateRequest:
    """One indicator over bars: ``bars`` given inline, or a stored ``source`` (not both).

    ``bars_timeframe`` is the inline bars' timeframe (needed only with ``compute_timeframe``);
    ``compute_timeframe`` computes on that higher timeframe and aligns the values onto the bars
    without look-ahead.
    """

    indicator: str
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    bars: Bars | None = None
    source: StoredSelection | None = None
    bars_timeframe: Timeframe | None = None
    compute_timeframe: Timeframe | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Calculation:
    """An indicator's values: ``values`` has one column per output (``indicator.columns``) and
    one row per bar (the stored range's bars for a stored source, past warm-up)."""

    indicator: Indicator
    values: ValueFrame


class IndicatorCalculator:
    """Computes indicators over supplied or stored bars.

    Parameters
    ----------
    bars
        Where stored bars come from; ``None`` when only inline bars are used.
    offload
        Runs the CPU work (default ``asyncio.to_thread``).
    """

    def __init__(self, bars: BarSource | None, *, offload: Offload = asyncio.to_thread) -> None:
        self._bars = bars
        self._offload = offload

    async def calculate(self, request: CalculateRequest) -> Calculation:
        """The indicator's values over the request's bars.

        Raises
        ------
        NotFoundError
            IND-001 unknown indicator (with suggestions).
        ValidationError
            IND-002..006 bad parameters, IND-011 bars given twice or not at all, IND-012
            ``compute_timeframe`` without the bars' timeframe, IND-013 start after end,
            IND-017 more than :data:`MAX_CALCULATION_BARS` bars to cover (checked before
            computing), DATA-012 a compute timeframe not above the bars'; the bar source's
            errors under ``source``.
        """
        indicator = create(request.indicator, request.parameters)
        bars, first, calendar, base, base_field = await self._bars_of(request)
        if request.compute_timeframe is None:
            values = await self._offload(indicator.compute, bars)
        else:
            if base is None:
                raise E.ValidationError(
                    E.BASE_TIMEFRAME_REQUIRED,
                    f"'{base_field}' is required with 'compute_timeframe'.",
                    field=base_field,
                )
            values = await self._offload(
                compute_on_timeframe,
                indicator,
                bars,
                base=base,
                timeframe=request.compute_timeframe,
                calendar=calendar,
            )
        frame = ValueFrame.from_columns(
            bars.timestamps_us, {name: values[name] for name in indicator.columns}
        )
        return Calculation(indicator, frame.take(slice(first, None)))

    async def _bars_of(
        self, request: CalculateRequest
    ) -> tuple[Bars, int, TradingCalendar | None, Timeframe | None, str]:
        """Bars, index of the first one to answer, calendar, base timeframe and its field."""
        if request.bars is not None and request.source is not None:
            raise E.ValidationError(
                E.BARS_SOURCE,
                "Give the bars either in 'data' or as a stored 'source', not both.",
                field="data",
            )
        if request.bars is not None:
            _check_covered(
                len(request.bars), field="data", what="bars in 'data'", fix="send fewer bars"
            )
            check_bars(request.bars, field="data")
            return request.bars, 0, None, request.bars_timeframe, "data_timeframe"
        if request.source is None:
            raise E.ValidationError(
                E.BARS_SOURCE,
                "Give the bars to compute on in 'data' or a stored 'source'.",
                field="data",
            )
        history = await load_history(self._source(), request.source)
        _check_covered(
            len(history.bars),
            field="source.end_date",
            what="stored bars up to the end date (the whole history before it)",
            fix="choose an earlier end date",
        )
        return (
            history.bars,
            history.first,
            history.calendar,
            request.source.timeframe,
            "source.timeframe",
        )

    def _source(self) -> BarSource:
        if self._bars is None:
            raise E.ValidationError(
                E.BARS_SOURCE,
                "Stored bars are not available here; give them in 'data'.",
                field="source",
            )
        return self._bars


@dataclasses.dataclass(frozen=True, slots=True)
class StreamConfig:
    """What a stream computes (see :class:`MultiTimeframeStream`).

    ``indicators`` are set specs ``{"id", "indicator", "parameters"}``. With ``timeframes``,
    ``base_timeframe`` names the bars' timeframe and the calendar comes from ``calendar`` (a
    name) or else from the stored ``symbol`` (asked of the bar source); neither means UTC days.
    """

    indicators: Sequence[Mapping[str, Any]]
    base_timeframe: Timeframe | None = None
    timeframes: tuple[Timeframe, ...] = ()
    symbol: str = ""
    calendar: str = ""

    @classmethod
    def for_strategy(
        cls, strategy: Strategy, *, symbol: str = "", calendar: str = ""
    ) -> StreamConfig:
        """A strategy's stream: its indicators (ids as the strategy names them) on all its
        timeframes, fed with bars of its base timeframe."""
        return cls(
            indicators=[
                {"id": ind_id, "indicator": spec.type, "parameters": spec.params}
                for ind_id, spec in strategy.indicators.items()
            ],
            base_timeframe=parse_timeframe(strategy.training_data.base_timeframe),
            timeframes=tuple(parse_timeframe(tf) for tf in strategy.timeframes),
            symbol=symbol,
            calendar=calendar,
        )


async def open_stream(config: StreamConfig, bars: BarSource | None) -> MultiTimeframeStream:
    """A fresh stream for ``config``.

    Raises
    ------
    ValidationError
        IND-017 more than :data:`MAX_STREAM_INDICATORS` indicators; the set's errors
        (IND-001..009, fields under ``config.indicators[i]``), IND-016 for the timeframes,
        DATA-011 an unknown calendar; the bar source's errors under ``config`` when the
        calendar comes from ``symbol``.
    """
    if len(config.indicators) > MAX_STREAM_INDICATORS:
        raise E.ValidationError(
            E.TOO_LARGE,
            f"'config.indicators' has {len(config.indicators):,} indicators; one stream "
            f"computes 1 to {MAX_STREAM_INDICATORS}: open more streams for more.",
            field="config.indicators",
        )
    indicators = _config_errors(lambda: IndicatorSet(config.indicators))
    calendar: TradingCalendar | None = None
    if config.calendar:
        calendar = _config_errors(lambda: get_calendar(config.calendar))
    elif config.symbol and config.timeframes and config.base_timeframe is not None:
        if bars is None:
            raise E.ValidationError(
                E.BAD_STREAM_TIMEFRAMES,
                "Stored instruments are not available here; name the 'calendar'.",
                field="config.symbol",
            )
        try:
            calendar = await bars.calendar(symbol=config.symbol, timeframe=config.base_timeframe)
        except KtrdrError as exc:
            raise exc.under("config") from exc
    return MultiTimeframeStream(
        indicators,
        base=config.base_timeframe,
        timeframes=config.timeframes,
        calendar=calendar,
    )


def _check_covered(count: int, *, field: str, what: str, fix: str) -> None:
    """IND-017 naming ``field`` when a calculation would cover more than the bound."""
    if count > MAX_CALCULATION_BARS:
        raise E.ValidationError(
            E.TOO_LARGE,
            f"The calculation would cover {count:,} {what}; one calculation covers 1 to "
            f"{MAX_CALCULATION_BARS:,} bars: {fix}, or stream the bars through "
            "StreamIndicators.",
            field=field,
        )


def _config_errors(build: Callable[[], T]) -> T:
    """``build()``, its errors' fields put under ``config``."""
    try:
        return build()
    except KtrdrError as exc:
        raise exc.under("config") from exc
