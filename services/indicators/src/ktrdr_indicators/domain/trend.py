"""Trend indicators: moving averages, ADX, Parabolic SAR, Aroon (TA-Lib) and SuperTrend,
Ichimoku, ZigZag (hand-written)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import talib

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain.metadata import Params
from ktrdr_indicators.domain.registry import (
    CLOSE,
    HL,
    HLC,
    call,
    choice,
    hand_written,
    integer,
    not_more,
    number,
    period,
    talib_indicator,
    talib_period_indicator,
)
from ktrdr_indicators.domain.rolling import Atr, ratio_or
from ktrdr_indicators.domain.streams import NAN, HandWritten, UpdateFn
from ktrdr_indicators.domain.talib_engine import TalibCall, TalibStream

talib_period_indicator(
    "sma",
    function="SMA",
    inputs=CLOSE,
    display="Simple Moving Average",
    category="trend",
    description="Arithmetic mean of the last `period` closes.",
    default=20,
)
talib_period_indicator(
    "ema",
    function="EMA",
    inputs=CLOSE,
    display="Exponential Moving Average",
    category="trend",
    description="EMA with k = 2/(period+1), seeded by the SMA of the first `period` closes "
    "(TA-Lib convention; pandas' ewm(adjust=False) seeds with the first close instead).",
    default=20,
)
talib_period_indicator(
    "wma",
    function="WMA",
    inputs=CLOSE,
    display="Weighted Moving Average",
    category="trend",
    description="Linearly weighted mean (weights 1..period).",
    default=20,
)


# Steady-state updates of the assembled TA-Lib indicators below: the operations of their
# ``assemble``, on the handles' ``update`` (see ``talib_engine.Steady``).
def _adx_update(stream: TalibStream, updates: Sequence[Callable[..., Any]]) -> UpdateFn:
    adx, plus_di, minus_di = updates
    nan = stream._nan

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0:
            vals = stream._values = (adx(h, lo, c), plus_di(h, lo, c), minus_di(h, lo, c))
            return vals
        return nan

    return update


def _aroon_update(stream: TalibStream, updates: Sequence[Callable[..., Any]]) -> UpdateFn:
    aroon, oscillator = updates
    nan = stream._nan

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0:
            down, up = aroon(h, lo)
            vals = stream._values = (up, down, oscillator(h, lo))
            return vals
        return nan

    return update


def _distance_update(stream: TalibStream, updates: Sequence[Callable[..., Any]]) -> UpdateFn:
    (average,) = updates
    nan = stream._nan

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if c - c == 0.0:
            ma = average(c)
            vals = stream._values = ((c - ma) / ma * 100.0 if ma != 0.0 else 0.0,)
            return vals
        return nan

    return update


talib_indicator(
    "adx",
    display="Average Directional Index",
    category="trend",
    description="Wilder ADX with +DI/-DI (TA-Lib). +DI/-DI are withheld until ADX is ready so "
    "all outputs share one warm-up of 2*period-1 bars.",
    params=(period(14, 2),),
    calls=(
        call("ADX", HLC, timeperiod="period"),
        call("PLUS_DI", HLC, timeperiod="period"),
        call("MINUS_DI", HLC, timeperiod="period"),
    ),
    outputs=("adx", "plus_di", "minus_di"),
    assemble=lambda r, o, h, lo, c, v, p: (r[0], r[1], r[2]),
    steady=_adx_update,
    aliases=("dmi",),
)
talib_indicator(
    "psar",
    display="Parabolic SAR",
    category="trend",
    description="Wilder stop-and-reverse (TA-Lib SAR). acceleration must not exceed maximum.",
    params=(
        number("acceleration", 0.02, 0.0, 1.0, "AF step."),
        number("maximum", 0.2, 0.0, 1.0, "AF cap."),
    ),
    calls=(call("SAR", HL, acceleration="acceleration", maximum="maximum"),),
    aliases=("sar", "parabolic_sar"),
    check=not_more("acceleration", "maximum"),
)
talib_indicator(
    "aroon",
    display="Aroon",
    category="trend",
    description="Aroon up/down over period+1 bars (ties -> most recent) and oscillator up - down.",
    params=(period(14),),
    calls=(call("AROON", HL, timeperiod="period"), call("AROONOSC", HL, timeperiod="period")),
    outputs=("up", "down", "oscillator"),
    primary="oscillator",
    # TA-Lib's AROON answers (down, up)
    assemble=lambda r, o, h, lo, c, v, p: (r[0][1], r[0][0], r[1]),
    steady=_aroon_update,
)
talib_indicator(
    "distance_from_ma",
    display="Distance from Moving Average",
    category="trend",
    description="(close - MA) / MA x 100 with an SMA or EMA (TA-Lib conventions).",
    params=(period(20), choice("ma_type", "sma", ("sma", "ema"), "Moving average type.")),
    calls=(
        TalibCall(
            "MA",
            CLOSE,
            lambda p: {"timeperiod": p["period"], "matype": 0 if p["ma_type"] == "sma" else 1},
        ),
    ),
    assemble=lambda r, o, h, lo, c, v, p: ((c - r[0]) / r[0] * 100.0 if r[0] != 0.0 else 0.0,),
    assemble_batch=lambda r, bars, p: [ratio_or(bars.close - r[0], r[0], 0.0) * 100.0],
    steady=_distance_update,
    aliases=("ma_distance",),
)


# ----------------------------------------------------------------------------- SuperTrend
def _supertrend_batch(bars: Bars, *, period: int, multiplier: float) -> list[np.ndarray]:
    h, lo, c = bars.high, bars.low, bars.close
    n = len(c)
    atr = talib.ATR(h, lo, c, period)
    hl2 = (h + lo) / 2
    bu = (hl2 + multiplier * atr).tolist()
    bl = (hl2 - multiplier * atr).tolist()
    cl = c.tolist()
    trend = [math.nan] * n
    dirs = [math.nan] * n
    fu = fl = 0.0
    d = 1.0
    for i in range(period, n):  # bar `period` is the first with an ATR
        if i == period:
            fu, fl, d = bu[i], bl[i], 1.0
        else:
            pc = cl[i - 1]
            fu = bu[i] if (bu[i] < fu or pc > fu) else fu
            fl = bl[i] if (bl[i] > fl or pc < fl) else fl
            if d > 0.0 and cl[i] < fl:
                d = -1.0
            elif d < 0.0 and cl[i] > fu:
                d = 1.0
        trend[i] = fl if d > 0.0 else fu
        dirs[i] = d
    return [np.array(trend), np.array(dirs)]


@hand_written(
    "supertrend",
    display="SuperTrend",
    category="trend",
    description="HL2 +- multiplier x ATR(period) trailing bands; direction +1 bullish / -1 "
    "bearish, +1 on the first ready bar.",
    params=(period(10), number("multiplier", 3.0, 0.0, 100.0, "ATR multiple.")),
    inputs=HLC,
    outputs=("trend", "direction"),
    warmup=lambda p: p["period"],
    batch=_supertrend_batch,
)
class SuperTrend(HandWritten):
    """SuperTrend on HL2 +- multiplier * ATR(period) (TA-Lib-seeded Wilder ATR). direction is
    +1 (trend = lower band, bullish) or -1 (trend = upper band); starts at +1 on the first
    ATR bar. Bands only tighten unless the previous close broke them."""

    def _configure(self, params: Params) -> None:
        self._period: int = params["period"]
        self._mult: float = params["multiplier"]

    def _reset(self) -> None:
        self._atr = Atr(self._period)
        self._fu = self._fl = self._pc = 0.0
        self._dir = 1.0

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        a = self._atr.push(h, lo, c)
        if a != a:
            return self._nan
        hl2 = (h + lo) / 2
        bu = hl2 + self._mult * a
        bl = hl2 - self._mult * a
        if not self.initialized:
            self.initialized = True
            fu, fl, d = bu, bl, 1.0
        else:
            pc = self._pc
            fu = bu if (bu < self._fu or pc > self._fu) else self._fu
            fl = bl if (bl > self._fl or pc < self._fl) else self._fl
            d = self._dir
            if d > 0.0 and c < fl:
                d = -1.0
            elif d < 0.0 and c > fu:
                d = 1.0
        self._fu = fu
        self._fl = fl
        self._dir = d
        self._pc = c
        return (fl if d > 0.0 else fu, d)


# ------------------------------------------------------------------------------- Ichimoku
def _shift(a: np.ndarray, k: int) -> np.ndarray:
    if k == 0:
        return a.copy()
    out = np.full_like(a, np.nan)
    if k < len(a):
        out[k:] = a[:-k]
    return out


def _ichimoku_batch(
    bars: Bars, *, tenkan: int, kijun: int, senkou: int, displacement: int
) -> list[np.ndarray]:
    h, lo = bars.high, bars.low
    t = (talib.MAX(h, tenkan) + talib.MIN(lo, tenkan)) / 2
    k = (talib.MAX(h, kijun) + talib.MIN(lo, kijun)) / 2
    b = (talib.MAX(h, senkou) + talib.MIN(lo, senkou)) / 2
    out = [t, k, _shift((t + k) / 2, displacement), _shift(b, displacement), bars.close.copy()]
    warm = min(max(tenkan, kijun, senkou) - 1 + displacement, len(h))
    for a in out:
        a[:warm] = np.nan
    return out


@hand_written(
    "ichimoku",
    display="Ichimoku Cloud",
    category="trend",
    description="Causal Ichimoku: senkou_a/senkou_b at bar t are the spans computed "
    "`displacement` bars earlier (the cloud drawn at t); chikou at t is the close at t. No "
    "output uses data after t.",
    params=(
        integer("tenkan", 9),
        integer("kijun", 26),
        integer("senkou", 52),
        integer("displacement", 26, 0, "Cloud displacement in bars."),
    ),
    inputs=HLC,
    outputs=("tenkan", "kijun", "senkou_a", "senkou_b", "chikou"),
    primary="kijun",
    warmup=lambda p: max(p["tenkan"], p["kijun"], p["senkou"]) - 1 + p["displacement"],
    batch=_ichimoku_batch,
)
class Ichimoku(HandWritten):
    """Causal Ichimoku. tenkan/kijun = midpoint of the high-low range over their windows;
    senkou_a / senkou_b at bar t are the spans *computed* ``displacement`` bars earlier
    (the cloud value plotted at t - no look-ahead); chikou at bar t is the close at t
    (the classic chikou plots it ``displacement`` bars back, which would be look-ahead).

    One monotonic max deque of high and one min deque of low over the longest window serve all
    three windows: the max over the last k <= w bars is the first entry whose bar index is
    > i - k (entries are index-ascending, value-descending), found by bisection."""

    def _configure(self, params: Params) -> None:
        self._tenkan: int = params["tenkan"]
        self._kijun: int = params["kijun"]
        self._senkou: int = params["senkou"]
        self._disp: int = params["displacement"]
        self._w = max(self._tenkan, self._kijun, self._senkou)

    def _reset(self) -> None:
        self._hv: deque[float] = deque()
        self._hx: deque[int] = deque()
        self._lv: deque[float] = deque()
        self._lx: deque[int] = deque()
        self._i = 0
        # senkou a / b delay line (one position for both spans)
        self._da = [NAN] * max(self._disp, 1)
        self._db = [NAN] * max(self._disp, 1)
        self._dpos = 0
        self._ready = self._w - 1 + self._disp

    def _mid(self, p: int, i: int) -> float:
        hv, lv = self._hv, self._lv
        if p == self._w:
            return (hv[0] + lv[0]) / 2
        return (hv[bisect_right(self._hx, i - p)] + lv[bisect_right(self._lx, i - p)]) / 2

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        i = self._i
        self._i = i + 1
        hv, hx, lv, lx = self._hv, self._hx, self._lv, self._lx
        while hv and hv[-1] <= h:
            hv.pop()
            hx.pop()
        hv.append(h)
        hx.append(i)
        while lv and lv[-1] >= lo:
            lv.pop()
            lx.pop()
        lv.append(lo)
        lx.append(i)
        old = i - self._w
        if hx[0] <= old:
            hx.popleft()
            hv.popleft()
        if lx[0] <= old:
            lx.popleft()
            lv.popleft()
        t = self._mid(self._tenkan, i)
        k = self._mid(self._kijun, i)
        b = self._mid(self._senkou, i)
        d = self._disp
        if d:
            pos = self._dpos
            sa = self._da[pos]
            sb = self._db[pos]
            self._da[pos] = (t + k) / 2
            self._db[pos] = b
            pos += 1
            self._dpos = 0 if pos == d else pos
        else:
            sa = (t + k) / 2
            sb = b
        if i < self._ready:
            return self._nan
        self.initialized = True
        return (t, k, sa, sb, c)


# --------------------------------------------------------------------------------- ZigZag
def _zigzag_batch(bars: Bars, *, deviation: float) -> list[np.ndarray]:
    stream = ZigZag(deviation=deviation)
    highs, lows = bars.high.tolist(), bars.low.tolist()
    rows = [stream.update(0.0, h, lo, 0.0, 0.0) for h, lo in zip(highs, lows, strict=True)]
    arr = np.array(rows, dtype=np.float64).reshape(len(rows), 2)
    return [arr[:, 0].copy(), arr[:, 1].copy()]


@hand_written(
    "zigzag",
    display="ZigZag (causal)",
    category="trend",
    description="Last *confirmed* swing pivot price and direction. A pivot is confirmed only "
    "once price reverses `deviation` percent from it, so it is reported with a lag (unbounded, "
    "data dependent); warm-up lasts until the first confirmation (0 bars is the minimum).",
    params=(number("deviation", 5.0, 0.001, 100.0, "Reversal in percent."),),
    inputs=HL,
    outputs=("value", "direction"),
    warmup=lambda p: 0,
    batch=_zigzag_batch,
)
class ZigZag(HandWritten):
    """Causal ZigZag on high/low. A swing high (low) is *confirmed* once price has fallen
    (risen) ``deviation`` percent from it; ``value`` is the price of the last confirmed pivot
    and ``direction`` +1 after a confirmed low (up-swing), -1 after a confirmed high."""

    def _configure(self, params: Params) -> None:
        self._up = 1.0 + params["deviation"] / 100.0
        self._down = 1.0 - params["deviation"] / 100.0

    def _reset(self) -> None:
        self._dir = 0
        self._hi = -math.inf
        self._lo = math.inf
        self._pivot = NAN
        self._n = self._hi_i = self._lo_i = 0

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        d = self._dir
        if d == 1:
            if h > self._hi:
                self._hi = h
            elif lo <= self._hi * self._down:
                self._pivot = self._hi
                self._dir = d = -1
                self._lo = lo
        elif d == -1:
            if lo < self._lo:
                self._lo = lo
            elif h >= self._lo * self._up:
                self._pivot = self._lo
                self._dir = d = 1
                self._hi = h
        elif not self._first_pivot(h, lo):
            return self._nan
        return (self._pivot, float(self._dir))

    def _first_pivot(self, h: float, lo: float) -> bool:
        """Track the extremes until the first reversal of ``deviation`` percent."""
        i = self._n
        self._n = i + 1
        if h > self._hi:
            self._hi = h
            self._hi_i = i
        if lo < self._lo:
            self._lo = lo
            self._lo_i = i
        if self._lo_i <= self._hi_i and self._hi >= self._lo * self._up:
            self._pivot = self._lo  # the low came first and price rose from it
            self._dir = 1
        elif self._hi_i <= self._lo_i and self._lo <= self._hi * self._down:
            self._pivot = self._hi
            self._dir = -1
        else:
            return False
        self.initialized = True
        return True
