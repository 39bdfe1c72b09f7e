"""Momentum indicators: RSI, MACD, Stochastic, CCI, Williams %R, ROC, Momentum (TA-Lib) and the
Fisher transform and Relative Vigor Index (hand-written)."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import talib

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain.metadata import Params
from ktrdr_indicators.domain.registry import (
    CLOSE,
    HL,
    HLC,
    call,
    hand_written,
    integer,
    less,
    period,
    talib_indicator,
    talib_period_indicator,
)
from ktrdr_indicators.domain.streams import NAN, HandWritten

_LOG = math.log

talib_period_indicator(
    "rsi",
    function="RSI",
    inputs=CLOSE,
    display="Relative Strength Index",
    category="momentum",
    description="Wilder RSI in [0, 100]; seed = mean gain/loss of the first `period` changes; "
    "0 when average gain and loss are both 0 (a flat range), as TA-Lib.",
    default=14,
    minimum=2,
)
talib_indicator(
    "macd",
    display="MACD",
    category="momentum",
    description="EMA(fast) - EMA(slow), signal EMA and histogram. TA-Lib seeding: the fast EMA "
    "starts at bar slow-1 from the SMA of the preceding `fast` closes; all outputs start "
    "together.",
    params=(
        integer("fast", 12, 2, "Fast EMA period."),
        integer("slow", 26, 2, "Slow EMA period."),
        integer("signal", 9, 1, "Signal EMA period."),
    ),
    calls=(call("MACD", CLOSE, fastperiod="fast", slowperiod="slow", signalperiod="signal"),),
    outputs=("line", "signal", "histogram"),
    check=less("fast", "slow"),
)
talib_indicator(
    "stochastic",
    display="Stochastic Oscillator",
    category="momentum",
    description="Slow stochastic: %K = SMA(k_smooth) of fast %K over k_period, %D = "
    "SMA(d_period) of %K (TA-Lib STOCH with SMA smoothing; fast %K is 0 on a flat window).",
    params=(
        integer("k_period", 14, 1, "Fast %K window."),
        integer("k_smooth", 3, 1, "%K smoothing."),
        integer("d_period", 3, 1, "%D smoothing."),
    ),
    calls=(
        call(
            "STOCH",
            HLC,
            fastk_period="k_period",
            slowk_period="k_smooth",
            slowk_matype=0,
            slowd_period="d_period",
            slowd_matype=0,
        ),
    ),
    outputs=("k", "d"),
    aliases=("stoch",),
)
talib_period_indicator(
    "cci",
    function="CCI",
    inputs=HLC,
    display="Commodity Channel Index",
    category="momentum",
    description="(tp - SMA(tp)) / (0.015 x mean deviation), tp = (h+l+c)/3.",
    default=20,
    minimum=2,
)
talib_period_indicator(
    "williams_r",
    function="WILLR",
    inputs=HLC,
    display="Williams %R",
    category="momentum",
    description="Position of close in the high-low range, [-100, 0].",
    default=14,
    aliases=("willr", "wr"),
)
talib_period_indicator(
    "roc",
    function="ROC",
    inputs=CLOSE,
    display="Rate of Change",
    category="momentum",
    description="(close / close[period] - 1) x 100.",
    default=10,
)
talib_period_indicator(
    "momentum",
    function="MOM",
    inputs=CLOSE,
    display="Momentum",
    category="momentum",
    description="close - close[period].",
    default=10,
    aliases=("mom",),
)


# ------------------------------------------------------------------------ Fisher transform
def _shift(a: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(a, np.nan)
    if k < len(a):
        out[k:] = a[: len(a) - k]
    return out


def _fisher_batch(bars: Bars, *, period: int, signal: int) -> list[np.ndarray]:
    x = (bars.high + bars.low) / 2
    n = len(x)
    hh = talib.MAX(x, period).tolist()
    ll = talib.MIN(x, period).tolist()
    xl = x.tolist()
    out = [math.nan] * n
    v = f = 0.0
    for i in range(period - 1, n):
        rng = hh[i] - ll[i]
        pos = (xl[i] - ll[i]) / rng - 0.5 if rng > 0.0 else 0.0
        v = 0.66 * pos + 0.67 * v
        if v > 0.99:
            v = 0.999
        elif v < -0.99:
            v = -0.999
        f = 0.5 * (_LOG((1.0 + v) / (1.0 - v)) + f)
        out[i] = f
    fisher = np.array(out)
    outs = [fisher, _shift(fisher, signal)]
    warm = min(period - 1 + signal, n)
    for a in outs:
        a[:warm] = np.nan
    return outs


@hand_written(
    "fisher_transform",
    display="Fisher Transform",
    category="momentum",
    description="Ehlers Fisher transform of HL2 over `period`; signal = fisher `signal` bars ago.",
    params=(period(9, 2), integer("signal", 1, 1, "Signal lag in bars.")),
    inputs=HL,
    outputs=("fisher", "signal"),
    warmup=lambda p: p["period"] - 1 + p["signal"],
    batch=_fisher_batch,
    aliases=("fisher",),
)
class FisherTransform(HandWritten):
    """Ehlers Fisher transform of HL2 over ``period`` bars; ``signal`` = fisher ``signal`` bars
    ago. value = 0.66 * (pos - 0.5) + 0.67 * value[-1] clamped at +-0.999 (Ehlers); fisher =
    0.5 * (ln((1 + value) / (1 - value)) + fisher[-1]); a flat window gives pos = 0.5
    (pandas-ta instead floors the range at an absolute 0.001). The rolling max / min of HL2 are
    monotonic deques sharing one bar counter."""

    def _configure(self, params: Params) -> None:
        self._period: int = params["period"]
        self._signal: int = params["signal"]

    def _reset(self) -> None:
        self._hv: deque[float] = deque()
        self._hx: deque[int] = deque()
        self._lv: deque[float] = deque()
        self._lx: deque[int] = deque()
        self._i = 0
        self._v = 0.0
        self._f = 0.0
        self._delay = [NAN] * self._signal
        self._dpos = 0

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        x = (h + lo) / 2
        i = self._i
        self._i = i + 1
        hv, hx, lv, lx = self._hv, self._hx, self._lv, self._lx
        while hv and hv[-1] <= x:
            hv.pop()
            hx.pop()
        hv.append(x)
        hx.append(i)
        while lv and lv[-1] >= x:
            lv.pop()
            lx.pop()
        lv.append(x)
        lx.append(i)
        n = self._period
        old = i - n
        if hx[0] <= old:
            hx.popleft()
            hv.popleft()
        if lx[0] <= old:
            lx.popleft()
            lv.popleft()
        if i < n - 1:
            return self._nan
        ll = lv[0]
        rng = hv[0] - ll
        pos = (x - ll) / rng - 0.5 if rng > 0.0 else 0.0
        val = 0.66 * pos + 0.67 * self._v
        if val > 0.99:
            val = 0.999
        elif val < -0.99:
            val = -0.999
        self._v = val
        self._f = f = 0.5 * (_LOG((1.0 + val) / (1.0 - val)) + self._f)
        p = self._dpos
        s = self._delay[p]
        self._delay[p] = f
        p += 1
        self._dpos = 0 if p == self._signal else p
        if s != s:
            return self._nan
        self.initialized = True
        return (f, s)


# ------------------------------------------------------------------ Relative Vigor Index
def _swma(x: np.ndarray) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if len(x) >= 4:
        out[3:] = (x[3:] + 2.0 * x[2:-1] + 2.0 * x[1:-2] + x[:-3]) / 6.0
    return out


def _rvi_batch(bars: Bars, *, period: int) -> list[np.ndarray]:
    n = len(bars)
    num, den = _swma(bars.close - bars.open), _swma(bars.high - bars.low)
    sn = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    if n > 3:
        sn[3:] = talib.SUM(num[3:], period)
        sd[3:] = talib.SUM(den[3:], period)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(sd != 0.0, sn / sd, 0.0)
    r[np.isnan(sn)] = np.nan
    outs = [r, _swma(r)]
    warm = min(period + 5, n)
    for a in outs:
        a[:warm] = np.nan
    return outs


@hand_written(
    "rvi",
    display="Relative Vigor Index",
    category="momentum",
    description="Ehlers RVI: SWMA(close-open) summed over period / SWMA(high-low) summed; "
    "signal = SWMA(rvi). Not the Relative Volatility Index.",
    params=(period(10),),
    inputs=("open", "high", "low", "close"),
    outputs=("rvi", "signal"),
    warmup=lambda p: p["period"] + 5,
    batch=_rvi_batch,
    aliases=("rvgi", "relative_vigor_index"),
)
class RVI(HandWritten):
    """Ehlers Relative Vigor Index: SWMA(1,2,2,1) of close-open summed over ``period`` divided
    by the same of high-low; signal = SWMA(1,2,2,1) of rvi. 0 when the range sum is 0. The two
    period sums are running sums in TA-Lib's SUM order sharing one ring position."""

    def _configure(self, params: Params) -> None:
        self._period: int = params["period"]

    def _reset(self) -> None:
        self._co = (0.0, 0.0, 0.0)  # SWMA taps, oldest first
        self._hl = (0.0, 0.0, 0.0)
        self._r = (0.0, 0.0, 0.0)
        self._count = 0
        self._rcount = 0
        self._nbuf = [0.0] * self._period
        self._dbuf = [0.0] * self._period
        self._pos = 0
        self._wcount = 0
        self._ntot = 0.0
        self._dtot = 0.0

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        co = c - o
        hl = h - lo
        a0, a1, a2 = self._co
        b0, b1, b2 = self._hl
        self._co = (a1, a2, co)
        self._hl = (b1, b2, hl)
        if self._count < 3:
            self._count += 1
            return self._nan
        num = (co + 2.0 * a2 + 2.0 * a1 + a0) / 6.0
        den = (hl + 2.0 * b2 + 2.0 * b1 + b0) / 6.0
        pos = self._pos
        self._nbuf[pos] = num
        self._dbuf[pos] = den
        pos += 1
        n = self._period
        if pos == n:
            pos = 0
        self._pos = pos
        if self._wcount < n - 1:
            self._wcount += 1
            self._ntot += num
            self._dtot += den
            return self._nan
        sn = self._ntot + num
        self._ntot = sn - self._nbuf[pos]
        sd = self._dtot + den
        self._dtot = sd - self._dbuf[pos]
        rvi = sn / sd if sd != 0.0 else 0.0
        r0, r1, r2 = self._r
        self._r = (r1, r2, rvi)
        if self._rcount < 3:
            self._rcount += 1
            return self._nan
        self.initialized = True
        return (rvi, (rvi + 2.0 * r2 + 2.0 * r1 + r0) / 6.0)
