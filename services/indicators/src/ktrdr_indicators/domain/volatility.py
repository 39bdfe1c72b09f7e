"""Volatility indicators: ATR, Keltner and Donchian channels (TA-Lib) and Bollinger bands,
Bollinger width and squeeze intensity (hand-written around a numerically stable standard
deviation, see :mod:`ktrdr_indicators.domain.rolling`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import talib

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain.metadata import Params
from ktrdr_indicators.domain.registry import (
    CLOSE,
    HLC,
    VALUE,
    call,
    hand_written,
    integer,
    number,
    period,
    talib_indicator,
    talib_period_indicator,
)
from ktrdr_indicators.domain.rolling import Atr, RollingMoments, rolling_mean_std
from ktrdr_indicators.domain.streams import HandWritten, UpdateFn
from ktrdr_indicators.domain.talib_engine import TalibStream

talib_period_indicator(
    "atr",
    function="ATR",
    inputs=HLC,
    display="Average True Range",
    category="volatility",
    description="Wilder ATR; first value = mean of true ranges of bars 1..period.",
    default=14,
)


def _bands(middle: np.ndarray, width: np.ndarray, k: float) -> list[np.ndarray]:
    """``(middle + k * width, middle, middle - k * width)``, scaling ``width`` in place."""
    width *= k
    return [middle + width, middle, middle - width]


def _keltner(
    r: tuple[float, float], o: float, h: float, lo: float, c: float, v: float, p: Params
) -> tuple[float, float, float]:
    """One bar of Keltner channels from (EMA, ATR): the operations of :func:`_bands`."""
    middle, width = r[0], p["multiplier"] * r[1]
    return (middle + width, middle, middle - width)


def _keltner_update(stream: TalibStream, updates: Sequence[Callable[..., Any]]) -> UpdateFn:
    """Steady-state update: the operations of :func:`_keltner` (``talib_engine.Steady``)."""
    ema, atr = updates
    multiplier = stream.params["multiplier"]
    nan = stream._nan

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0:
            middle = ema(c)
            width = multiplier * atr(h, lo, c)
            vals = stream._values = (middle + width, middle, middle - width)
            return vals
        return nan

    return update


def _donchian_update(stream: TalibStream, updates: Sequence[Callable[..., Any]]) -> UpdateFn:
    """Steady-state update: the operations of the ``assemble`` below (``talib_engine.Steady``)."""
    highest, lowest = updates
    nan = stream._nan

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0:
            upper = highest(h)
            lower = lowest(lo)
            vals = stream._values = (upper, (upper + lower) / 2, lower)
            return vals
        return nan

    return update


def _midpoint(upper: np.ndarray, lower: np.ndarray) -> list[np.ndarray]:
    """``(upper, (upper + lower) / 2, lower)`` with one temporary."""
    mid = upper + lower
    mid /= 2
    return [upper, mid, lower]


talib_indicator(
    "keltner_channels",
    display="Keltner Channels",
    category="volatility",
    description="EMA(period) of close +- multiplier x ATR(atr_period).",
    params=(
        period(20),
        number("multiplier", 2.0, 0.0, 100.0, "ATR multiple."),
        integer("atr_period", 10, 1, "ATR window."),
    ),
    calls=(call("EMA", CLOSE, timeperiod="period"), call("ATR", HLC, timeperiod="atr_period")),
    outputs=("upper", "middle", "lower"),
    primary="middle",
    assemble=_keltner,
    steady=_keltner_update,
    assemble_batch=lambda r, bars, p: _bands(r[0], r[1], p["multiplier"]),
    aliases=("keltner", "kc"),
)
talib_indicator(
    "donchian_channels",
    display="Donchian Channels",
    category="volatility",
    description="Highest high / lowest low over `period` bars and their midpoint.",
    params=(period(20),),
    calls=(call("MAX", ("high",), timeperiod="period"), call("MIN", ("low",), timeperiod="period")),
    outputs=("upper", "middle", "lower"),
    primary="middle",
    assemble=lambda r, o, h, lo, c, v, p: (r[0], (r[0] + r[1]) / 2, r[1]),
    assemble_batch=lambda r, bars, p: _midpoint(r[0], r[1]),
    steady=_donchian_update,
    aliases=("donchian",),
)

_STD = number("std", 2.0, 0.0, 100.0, "Band width in standard deviations.")


# ------------------------------------------------------------------------ Bollinger bands
def _bollinger_batch(bars: Bars, *, period: int, std: float) -> list[np.ndarray]:
    m, sd = rolling_mean_std(bars.close, period)
    sd *= std
    return [m + sd, m, m - sd]


@hand_written(
    "bollinger_bands",
    display="Bollinger Bands",
    category="volatility",
    description="SMA(period) +- std x population standard deviation (TA-Lib BBANDS' definition; "
    "the deviation is computed stably, exact to ~1e-15 relative even on FX prices where TA-Lib's "
    "BBANDS loses ~1e-10).",
    params=(period(20, 2), _STD),
    inputs=CLOSE,
    outputs=("upper", "middle", "lower"),
    primary="middle",
    warmup=lambda p: p["period"] - 1,
    batch=_bollinger_batch,
    aliases=("bbands", "bb"),
)
class BollingerBands(HandWritten):
    """SMA(period) +- std * population stddev, from a stable rolling mean / deviation."""

    def _configure(self, params: Params) -> None:
        self._period: int = params["period"]
        self._k: float = params["std"]

    def _reset(self) -> None:
        self._moments = RollingMoments(self._period)

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        mid, sd = self._moments.push(c)
        if mid != mid:
            return self._nan
        self.initialized = True
        sd *= self._k
        return (mid + sd, mid, mid - sd)


def _width_batch(bars: Bars, *, period: int, std: float) -> list[np.ndarray]:
    m, sd = rolling_mean_std(bars.close, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(m != 0.0, (2.0 * std * sd) / m, 0.0)
    w[np.isnan(m)] = np.nan
    return [w]


@hand_written(
    "bollinger_width",
    display="Bollinger Band Width",
    category="volatility",
    description="(upper - lower) / middle of the Bollinger Bands (0 if middle is 0).",
    params=(period(20, 2), _STD),
    inputs=CLOSE,
    outputs=VALUE,
    warmup=lambda p: p["period"] - 1,
    batch=_width_batch,
    aliases=("bbwidth", "bb_width"),
)
class BollingerWidth(BollingerBands):
    """(upper - lower) / middle of the Bollinger Bands, computed as 2 * std * stddev / middle
    (no cancellation); 0 when middle is 0."""

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        mid, sd = self._moments.push(c)
        if mid != mid:
            return self._nan
        self.initialized = True
        return ((2.0 * self._k * sd) / mid if mid != 0.0 else 0.0,)


# ----------------------------------------------------------------------- squeeze intensity
def _squeeze_batch(
    bars: Bars, *, bb_period: int, bb_std: float, kc_period: int, kc_multiplier: float
) -> list[np.ndarray]:
    _, sd = rolling_mean_std(bars.close, bb_period)
    kcw = 2.0 * (kc_multiplier * talib.ATR(bars.high, bars.low, bars.close, kc_period))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(kcw > 0.0, 1.0 - (2.0 * bb_std * sd) / kcw, 0.0)
    out = np.maximum(r, 0.0)
    out[np.isnan(sd) | np.isnan(kcw)] = np.nan
    return [out]


@hand_written(
    "squeeze_intensity",
    display="Squeeze Intensity",
    category="volatility",
    description="max(0, 1 - BB width / Keltner width): 0 = no squeeze, towards 1 = bands "
    "tightly inside the channel. BB: SMA/population stddev; KC width: 2 x multiplier x ATR.",
    params=(
        integer("bb_period", 20, 2),
        number("bb_std", 2.0, 0.0, 100.0),
        integer("kc_period", 20, 1),
        number("kc_multiplier", 1.5, 0.0, 100.0),
    ),
    inputs=HLC,
    outputs=VALUE,
    warmup=lambda p: max(p["bb_period"] - 1, p["kc_period"]),
    batch=_squeeze_batch,
    aliases=("squeeze",),
)
class SqueezeIntensity(HandWritten):
    """How far the Bollinger Bands sit inside the Keltner Channel:
    ``max(0, 1 - bb_width / kc_width)`` with bb_width = 2 * bb_std * stddev(bb_period) and
    kc_width = 2 * kc_multiplier * ATR(kc_period). 0 = no squeeze, -> 1 = tight squeeze."""

    def _configure(self, params: Params) -> None:
        self._bb_period: int = params["bb_period"]
        self._k2: float = 2.0 * params["bb_std"]  # (2.0 * k) * sd == 2.0 * k * sd
        self._kc_period: int = params["kc_period"]
        self._kc_mult: float = params["kc_multiplier"]

    def _reset(self) -> None:
        self._moments = RollingMoments(self._bb_period)
        self._atr = Atr(self._kc_period)

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        _, sd = self._moments.push(c)
        a = self._atr.push(h, lo, c)
        if sd != sd or a != a:
            return self._nan
        self.initialized = True
        kcw = 2.0 * (self._kc_mult * a)
        if kcw <= 0.0:
            return (0.0,)
        r = 1.0 - (self._k2 * sd) / kcw
        return (r if r > 0.0 else 0.0,)
