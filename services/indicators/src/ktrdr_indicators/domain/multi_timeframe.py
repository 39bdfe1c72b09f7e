"""Indicators on higher timeframes, built from base bars, seen on the base bars without look-ahead.

Two paths that agree:

* batch, :func:`compute_on_timeframe`: resample the base bars (``ktrdr_core.resample``, with the
  instrument's calendar), compute on the higher bars, align each higher value onto the base bars
  from the base bar at whose close the higher bar has closed (``align_to_base``);
* incremental, :class:`MultiTimeframeStream`: base bars in, batch by batch; each higher bar is
  aggregated as its base bars arrive, fed to its timeframe's indicator stream as soon as it is
  complete, and its values become visible on the first base bar whose close is at or after the
  higher bar's close — the batch path's rule, applied bar by bar.

The two give the same values after warm-up (each indicator's stream equals its batch), for any
split of the base bars into batches, and a value at bar t never depends on bars after t.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ktrdr_core.bars import Bars, check_bars
from ktrdr_core.calendars import TradingCalendar
from ktrdr_core.resample import align_to_base, period_close_us, period_keys, resample
from ktrdr_core.timeframes import Timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.sets import IndicatorSet, SetStream


class Computable(Protocol):
    """An indicator or an indicator set: batch values per column."""

    def compute(self, bars: Any) -> dict[str, np.ndarray]: ...


def compute_on_timeframe(
    indicator: Computable,
    bars: Bars,
    *,
    base: Timeframe,
    timeframe: Timeframe,
    calendar: TradingCalendar | None,
) -> dict[str, np.ndarray]:
    """Compute on ``timeframe`` bars resampled from ``bars`` and align the values onto ``bars``.

    A higher bar's values appear from the base bar at whose close that higher bar has closed;
    before the first such bar they are NaN.

    Raises
    ------
    ValidationError
        DATA-012 naming ``timeframe`` when ``timeframe`` is not longer than ``base``.
    """
    frame = bars.to_frame()
    higher = resample(frame, base, timeframe, calendar)
    values = indicator.compute(Bars.from_frame(higher))
    aligned = align_to_base(
        pd.DataFrame(values, index=higher.index), timeframe, frame.index, base, calendar
    )
    return {name: aligned[name].to_numpy(np.float64) for name in values}


class MultiTimeframeStream:
    """An indicator set on several timeframes, fed with base bars only.

    Parameters
    ----------
    indicators
        The set (or its specs, as :class:`IndicatorSet` takes them).
    base
        Timeframe of the bars fed in; required with ``timeframes``.
    timeframes
        Timeframes to compute on (each at least ``base``; ``base`` itself computes on the bars
        as they come). Columns are then ``{timeframe}_{column}`` (``4h_rsi_14``,
        ``1d_macd_12_26_9.signal``), timeframe by timeframe. Empty: the set's own columns on the
        bars as they come.
    calendar
        Trading calendar that bounds daily, weekly and monthly bars (``None``: UTC days), as in
        the batch path.

    Raises
    ------
    ValidationError
        IND-016 for a timeframe shorter than the base, listed twice, or without a base.
    """

    def __init__(
        self,
        indicators: IndicatorSet | Sequence[Mapping[str, Any]],
        *,
        base: Timeframe | None = None,
        timeframes: Sequence[Timeframe] = (),
        calendar: TradingCalendar | None = None,
    ) -> None:
        self.indicators = (
            indicators if isinstance(indicators, IndicatorSet) else IndicatorSet(indicators)
        )
        self.base = base
        self.timeframes = tuple(timeframes)
        self.calendar = calendar
        _check_timeframes(base, self.timeframes)
        self._parts: list[_BaseStream | _HigherStream] = []
        names: list[str] = []
        for tf in self.timeframes or (None,):
            if tf is None or (base is not None and tf.code == base.code):
                self._parts.append(_BaseStream(self.indicators.stream()))
            else:
                assert base is not None
                self._parts.append(
                    _HigherStream(self.indicators, base=base, timeframe=tf, calendar=calendar)
                )
            prefix = f"{tf.code}_" if tf is not None else ""
            names.extend(f"{prefix}{c}" for c in self.indicators.columns)
        self.columns: tuple[str, ...] = tuple(names)
        self._last_us: int | None = None

    def update(self, bars: Bars) -> ValueFrame:
        """Feed the next bars (time order, after the previous batch); one row per bar.

        Raises
        ------
        ValidationError
            COMMON-005 naming ``bars`` and the first bad row for bars that break a bar rule
            (out of time order, at or before the previous batch's last bar, bad prices or
            volume: the rules imports are held to); IND-015 for a bar inside a higher bar that
            has already closed (bars closer together than the base timeframe).
        """
        stamps = bars.timestamps_us
        check_bars(bars, field="bars", after_us=self._last_us)
        if len(stamps):
            self._last_us = int(stamps[-1])
        blocks = [part.update(bars) for part in self._parts]
        values = np.hstack(blocks) if blocks else np.empty((len(bars), 0))
        return ValueFrame(stamps, self.columns, values)

    def reset(self) -> None:
        """Forget every bar seen (as a new stream)."""
        for part in self._parts:
            part.reset()
        self._last_us = None


def _check_timeframes(base: Timeframe | None, timeframes: tuple[Timeframe, ...]) -> None:
    if not timeframes:
        return
    if base is None:
        raise E.ValidationError(
            E.BAD_STREAM_TIMEFRAMES,
            "'base_timeframe' is required with 'timeframes': it is the bars' timeframe.",
            field="config.base_timeframe",
        )
    seen: set[str] = set()
    for i, tf in enumerate(timeframes):
        if tf.seconds < base.seconds:
            raise E.ValidationError(
                E.BAD_STREAM_TIMEFRAMES,
                f"Timeframe {tf.code} is shorter than the {base.code} bars it would be built from.",
                field=f"config.timeframes[{i}]",
            )
        if tf.code in seen:
            raise E.ValidationError(
                E.BAD_STREAM_TIMEFRAMES,
                f"Timeframe {tf.code} is listed twice.",
                field=f"config.timeframes[{i}]",
            )
        seen.add(tf.code)


class _BaseStream:
    def __init__(self, stream: SetStream) -> None:
        self._stream = stream

    def update(self, bars: Bars) -> np.ndarray:
        values = self._stream.update_bars(bars)
        columns = self._stream.columns
        out = np.empty((len(bars), len(columns)), dtype=np.float64)
        for j, name in enumerate(columns):
            out[:, j] = values[name]
        return out

    def reset(self) -> None:
        self._stream.reset()


class _HigherStream:
    """One higher timeframe: the forming bar, completed bars waiting for their close time, and
    the values visible now."""

    def __init__(
        self,
        indicators: IndicatorSet,
        *,
        base: Timeframe,
        timeframe: Timeframe,
        calendar: TradingCalendar | None,
    ) -> None:
        self._indicators = indicators
        self._stream = indicators.stream()
        self._width = len(indicators.columns)
        self._base_us = base.seconds * 1_000_000
        self._timeframe = timeframe
        self._periods = _Periods(timeframe, calendar, step_us=min(self._base_us, _HOUR_US))
        self.reset()

    def reset(self) -> None:
        self._stream.reset()
        self._key: int | None = None  # open time of the forming higher bar
        self._close = 0  # its close time
        self._bar: list[float] = []  # its open, high, low, close, volume so far
        self._fed = False  # already complete (its close time reached) and fed
        self._closes: list[int] = []  # completed bars not visible yet: close times ...
        self._pending: list[tuple[float, ...]] = []  # ... and values
        self._visible: tuple[float, ...] = (math.nan,) * self._width

    def update(self, bars: Bars) -> np.ndarray:
        n = len(bars)
        if n == 0:
            return np.empty((0, self._width))
        known = bars.timestamps_us + self._base_us  # when each base bar closes
        keys, closes = self._periods(bars.timestamps_us)
        starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
        ends = np.append(starts[1:], n)
        segments = zip(
            keys[starts].tolist(),
            closes[starts].tolist(),
            bars.open[starts].tolist(),
            np.maximum.reduceat(bars.high, starts).tolist(),
            np.minimum.reduceat(bars.low, starts).tolist(),
            bars.close[ends - 1].tolist(),
            np.add.reduceat(bars.volume, starts).tolist(),
            known[ends - 1].tolist(),
            strict=True,
        )
        for key, close, o, h, lo, c, v, last_known in segments:
            self._add(key, close, [o, h, lo, c, v])
            if not self._fed and self._close <= last_known:
                self._complete()
        return self._visible_at(known)

    def _add(self, key: int, close: int, segment: list[float]) -> None:
        if key == self._key:
            if self._fed:
                raise E.ValidationError(
                    E.BARS_OUT_OF_ORDER,
                    f"A bar falls inside the {self._timeframe.code} bar that closed at "
                    f"{np.datetime64(self._close, 'us')}Z: bars are closer together than the "
                    "base timeframe.",
                    field="bars",
                )
            o, h, lo, _, v = self._bar
            self._bar = [o, _max(h, segment[1]), _min(lo, segment[2]), segment[3], v + segment[4]]
            return
        if self._key is not None and not self._fed:
            self._complete()
        self._key, self._close, self._bar, self._fed = key, close, segment, False

    def _complete(self) -> None:
        self._pending.append(tuple(self._stream.update(*self._bar)))
        self._closes.append(self._close)
        self._fed = True

    def _visible_at(self, known: np.ndarray) -> np.ndarray:
        """Values per base bar: the last completed bar whose close is at or before the bar's."""
        count = np.searchsorted(np.asarray(self._closes, dtype=np.int64), known, side="right")
        table = np.array([self._visible, *self._pending], dtype=np.float64)
        out: np.ndarray = table[count]
        seen = int(count[-1])
        if seen:
            self._visible = self._pending[seen - 1]
            del self._closes[:seen], self._pending[:seen]
        return out


_HOUR_US = 3_600_000_000


class _Periods:
    """Open and close time of the period containing each timestamp (``period_keys`` and
    ``period_close_us``), exact, and cheap for a stream's small batches.

    Calendar periods (daily and longer) need time-zone arithmetic whose cost is per call, not
    per value; bars sit on a grid (multiples of ``step_us``), so the periods of the next
    ``span`` grid points are computed at once and looked up until the bars pass them.
    """

    def __init__(
        self,
        timeframe: Timeframe,
        calendar: TradingCalendar | None,
        *,
        step_us: int,
        span: int = 4096,
    ) -> None:
        self._timeframe = timeframe
        self._calendar = calendar
        self._step = step_us
        self._span = span
        self._first = 0
        self._keys = np.empty(0, np.int64)
        self._closes = np.empty(0, np.int64)

    def __call__(self, stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._timeframe.is_intraday or np.any(stamps % self._step):
            keys = period_keys(stamps, self._timeframe, self._calendar)
            return keys, period_close_us(keys, self._timeframe, self._calendar)
        index = (stamps - self._first) // self._step
        if index[0] < 0 or index[-1] >= len(self._keys):
            self._first = int(stamps[0])
            count = max(self._span, int((stamps[-1] - stamps[0]) // self._step) + 1)
            grid = self._first + self._step * np.arange(count, dtype=np.int64)
            self._keys = period_keys(grid, self._timeframe, self._calendar)
            self._closes = period_close_us(self._keys, self._timeframe, self._calendar)
            index = (stamps - self._first) // self._step
        return self._keys[index], self._closes[index]


def _max(a: float, b: float) -> float:
    """``max`` that propagates NaN like ``np.maximum`` (as the batch resampling does)."""
    return a if (a != a or a >= b) else b


def _min(a: float, b: float) -> float:
    return a if (a != a or a <= b) else b
