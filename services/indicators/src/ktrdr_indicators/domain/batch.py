"""Batch (whole-array) implementations of the native catalogue.

Each function takes a dict of *finite* float64 column arrays (invalid rows were removed by
the caller, see :func:`run_batch` and :class:`PreparedBars`) plus the resolved parameters and
returns one float64 array per output in declared order, NaN during warm-up. TA-Lib's C
functions are used where their definition is identical to ours (see each indicator's
``engine``); the rest is numpy plus, for path-dependent recursions (SuperTrend, Fisher, ZigZag),
a plain Python loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import talib

from ktrdr_indicators.domain import streaming as S
from ktrdr_indicators.domain.bars import OHLCV, as_ohlcv

Arrays = Mapping[str, np.ndarray]
BatchFn = Callable[..., list[np.ndarray]]


#: Derived price series: the columns each reads and how it combines them.
DERIVED: dict[str, tuple[tuple[str, ...], Callable[..., np.ndarray]]] = {
    "hl2": (("high", "low"), lambda h, lo: (h + lo) / 2.0),
    "hlc3": (("high", "low", "close"), lambda h, lo, c: (h + lo + c) / 3.0),
    "ohlc4": (("open", "high", "low", "close"), lambda o, h, lo, c: (o + h + lo + c) / 4.0),
}


class PreparedBars:
    """Bars coerced once, with validity worked out lazily and cached: per column whether every
    value is finite (one ``np.isfinite`` pass), per combination of inputs the valid rows and the
    columns restricted to them. Several indicators over the same bars (an ``IndicatorSet``)
    share one instance, so the coercion and the NaN/inf checks are done once per column."""

    __slots__ = ("_derived", "_finite", "_rows", "n", "ohlcv")

    def __init__(self, bars: OHLCV | Mapping[str, Any] | Any) -> None:
        self.ohlcv = as_ohlcv(bars)
        self.n = len(self.ohlcv)
        self._finite: dict[str, np.ndarray | None] = {}  # None: every value finite
        self._rows: dict[tuple[str, ...], tuple[np.ndarray | None, dict[str, np.ndarray]]] = {}
        self._derived: dict[str, np.ndarray] = {}

    def series(self, name: str) -> np.ndarray:
        """A column, or a derived price (``hl2``, ``hlc3``, ``ohlc4``) computed once."""
        derived = DERIVED.get(name)
        if derived is None:
            return self.ohlcv.get(name)
        if name not in self._derived:
            columns, formula = derived
            self._derived[name] = formula(*(self.ohlcv.get(c) for c in columns))
        return self._derived[name]

    def _finite_mask(self, name: str) -> np.ndarray | None:
        try:
            return self._finite[name]
        except KeyError:
            mask = np.isfinite(self.series(name))
            res = self._finite[name] = None if mask.all() else mask
            return res

    def rows(self, inputs: Sequence[str]) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """``(idx, cols)``: the indices of the rows where every input is finite (``None`` when
        that is all rows) and the input columns restricted to those rows (the original arrays
        when ``idx`` is ``None``).

        Raises
        ------
        ValidationError
            IND-007 when an input column is missing.
        """
        key = tuple(inputs)
        hit = self._rows.get(key)
        if hit is None:
            cols = {f: self.series(f) for f in key}  # raises for a missing column first
            masks = [m for m in (self._finite_mask(f) for f in key) if m is not None]
            if not masks:
                hit = (None, cols)
            else:
                valid = masks[0]
                for m in masks[1:]:
                    valid = valid & m  # new array: the cached per-column masks stay intact
                idx = np.flatnonzero(valid)
                hit = (idx, {f: np.ascontiguousarray(a[idx]) for f, a in cols.items()})
            self._rows[key] = hit
        return hit


def run_batch(
    fn: BatchFn,
    inputs: Sequence[str],
    bars: PreparedBars,
    n_out: int,
    params: Mapping[str, Any],
    source: str = "close",
) -> list[np.ndarray]:
    """Compute ``fn`` on the rows where every input is finite and scatter the results back;
    invalid rows get NaN and do not influence any other row (same as streaming). When every
    input is finite ``fn`` runs on the columns as they are (no masking work at all).

    ``source`` replaces the ``close`` input (a single-series indicator reading another price).
    """
    if source != "close":
        idx, cols = bars.rows(tuple(source if f == "close" else f for f in inputs))
        cols = {("close" if k == source else k): v for k, v in cols.items()}
    else:
        idx, cols = bars.rows(inputs)
    n = bars.n
    if n == 0:
        return [np.empty(0) for _ in range(n_out)]
    if idx is None:
        return [np.asarray(x, dtype=np.float64) for x in fn(cols, **params)]
    outs = [np.full(n, np.nan) for _ in range(n_out)]
    if len(idx):
        for full, part in zip(outs, fn(cols, **params), strict=True):
            full[idx] = part
    return outs


def _nan_before(arrays: list[np.ndarray], k: int) -> list[np.ndarray]:
    for a in arrays:
        a[: min(k, len(a))] = np.nan
    return arrays


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    if k == 0:
        return a.copy()
    out = np.full_like(a, np.nan)
    if k < len(a):
        out[k:] = a[:-k]
    return out


def _loop(cls: type[S.StreamingIndicator], cols: Arrays, params: Mapping[str, Any]):
    """Run a streaming class over arrays (used only for path-dependent recursions)."""
    ind = cls(**params)
    n = len(cols[ind.inputs[0]])
    get = [cols[f].tolist() if f in cols else [0.0] * n for f in S._POSITION]
    res = [ind.update(*bar) for bar in zip(*get, strict=True)]
    arr = np.array(res, dtype=np.float64).reshape(n, len(ind.outputs))
    return [arr[:, j].copy() for j in range(arr.shape[1])]


# --- TA-Lib backed ------------------------------------------------------------------------
def sma(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.SMA(a["close"], period)]


def ema(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.EMA(a["close"], period)]


def wma(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.WMA(a["close"], period)]


def rsi(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.RSI(a["close"], period)]


def macd(a: Arrays, fast: int, slow: int, signal: int) -> list[np.ndarray]:
    return list(talib.MACD(a["close"], fast, slow, signal))


def _stddev(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(SMA, population stddev) with exactly the streaming operation order (TA-Lib SUM running
    sums, mean of squares minus squared mean). Like TA-Lib it loses precision when stddev /
    price < ~1e-7."""
    # in place where possible: the same operations on the same operands, fewer temporaries
    m = talib.SUM(x, n)
    m /= n
    sd = talib.SUM(x * x, n)
    sd /= n
    sd -= m * m  # variance
    with np.errstate(invalid="ignore"):
        np.copyto(sd, 0.0, where=~(sd > 0.0))
    np.sqrt(sd, out=sd)
    sd[np.isnan(m)] = np.nan
    return m, sd


def bbands(a: Arrays, period: int, std: float) -> list[np.ndarray]:
    # Not talib.BBANDS: its stddev op order differs from ours in the last bits, which the
    # mean-of-squares cancellation turns into visible differences on flat stretches.
    m, sd = _stddev(a["close"], period)
    if std != 1.0:
        sd *= std
    return [m + sd, m, m - sd]


def bbwidth(a: Arrays, period: int, std: float) -> list[np.ndarray]:
    m, sd = _stddev(a["close"], period)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(m != 0.0, (2.0 * std * sd) / m, 0.0)
    w[np.isnan(m)] = np.nan
    return [w]


def atr(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.ATR(a["high"], a["low"], a["close"], period)]


def stoch(a: Arrays, k_period: int, k_smooth: int, d_period: int) -> list[np.ndarray]:
    k, d = talib.STOCH(a["high"], a["low"], a["close"], k_period, k_smooth, 0, d_period, 0)
    return [k, d]


def adx(a: Arrays, period: int) -> list[np.ndarray]:
    h, lo, c = a["high"], a["low"], a["close"]
    out = [
        talib.ADX(h, lo, c, period),
        talib.PLUS_DI(h, lo, c, period),
        talib.MINUS_DI(h, lo, c, period),
    ]
    return _nan_before(out, 2 * period - 1)


def cci(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.CCI(a["high"], a["low"], a["close"], period)]


def willr(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.WILLR(a["high"], a["low"], a["close"], period)]


def roc(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.ROC(a["close"], period)]


def mom(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.MOM(a["close"], period)]


def obv(a: Arrays) -> list[np.ndarray]:
    return [talib.OBV(a["close"], a["volume"])]


def mfi(a: Arrays, period: int) -> list[np.ndarray]:
    return [talib.MFI(a["high"], a["low"], a["close"], a["volume"], period)]


def ad(a: Arrays) -> list[np.ndarray]:
    return [talib.AD(a["high"], a["low"], a["close"], a["volume"])]


def psar(a: Arrays, acceleration: float, maximum: float) -> list[np.ndarray]:
    return [talib.SAR(a["high"], a["low"], acceleration, maximum)]


def aroon(a: Arrays, period: int) -> list[np.ndarray]:
    down, up = talib.AROON(a["high"], a["low"], period)
    return [up, down, talib.AROONOSC(a["high"], a["low"], period)]


# --- numpy (+ TA-Lib building blocks) -------------------------------------------------
def vwap(a: Arrays, period: int) -> list[np.ndarray]:
    tp = (a["high"] + a["low"] + a["close"]) / 3
    v = a["volume"]
    pv = tp * v
    if period == 0:
        spv, sv = np.cumsum(pv), np.cumsum(v)
    else:
        spv, sv = talib.SUM(pv, period), talib.SUM(v, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sv != 0.0, spv / sv, tp)
    out[np.isnan(spv)] = np.nan
    return [out]


def cmf(a: Arrays, period: int) -> list[np.ndarray]:
    h, lo, c, v = a["high"], a["low"], a["close"], a["volume"]
    r = h - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        mfv = np.where(r > 0.0, (((c - lo) - (h - c)) / r) * v, 0.0)
        smf, sv = talib.SUM(mfv, period), talib.SUM(v, period)
        out = np.where(sv != 0.0, smf / sv, 0.0)
    out[np.isnan(smf)] = np.nan
    return [out]


def keltner(a: Arrays, period: int, multiplier: float, atr_period: int) -> list[np.ndarray]:
    m = talib.EMA(a["close"], period)
    w = talib.ATR(a["high"], a["low"], a["close"], atr_period)
    w *= multiplier
    out = [m + w, m, m - w]
    return _nan_before(out, max(period - 1, atr_period))


def donchian(a: Arrays, period: int) -> list[np.ndarray]:
    u = talib.MAX(a["high"], period)
    lo = talib.MIN(a["low"], period)
    mid = u + lo
    mid /= 2
    return [u, mid, lo]


def ichimoku(a: Arrays, tenkan: int, kijun: int, senkou: int, displacement: int):
    h, lo = a["high"], a["low"]
    t = (talib.MAX(h, tenkan) + talib.MIN(lo, tenkan)) / 2
    k = (talib.MAX(h, kijun) + talib.MIN(lo, kijun)) / 2
    b = (talib.MAX(h, senkou) + talib.MIN(lo, senkou)) / 2
    out = [t, k, _shift((t + k) / 2, displacement), _shift(b, displacement), a["close"].copy()]
    return _nan_before(out, max(tenkan, kijun, senkou) - 1 + displacement)


def rvi(a: Arrays, period: int) -> list[np.ndarray]:
    n = len(a["close"])
    co = a["close"] - a["open"]
    hl = a["high"] - a["low"]

    def swma(x: np.ndarray) -> np.ndarray:
        out = np.full(len(x), np.nan)
        if len(x) >= 4:
            out[3:] = (x[3:] + 2.0 * x[2:-1] + 2.0 * x[1:-2] + x[:-3]) / 6.0
        return out

    num, den = swma(co), swma(hl)
    sn = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    if n > 3:
        sn[3:] = talib.SUM(num[3:], period)
        sd[3:] = talib.SUM(den[3:], period)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(sd != 0.0, sn / sd, 0.0)
    r[np.isnan(sn)] = np.nan
    sig = np.full(n, np.nan)
    if n >= 4:
        sig[3:] = (r[3:] + 2.0 * r[2:-1] + 2.0 * r[1:-2] + r[:-3]) / 6.0
    return _nan_before([r, sig], period + 5)


def volume_ratio(a: Arrays, period: int) -> list[np.ndarray]:
    v = a["volume"]
    m = talib.SMA(v, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(m != 0.0, v / m, 1.0)
    out[np.isnan(m)] = np.nan
    return [out]


def distance_from_ma(a: Arrays, period: int, ma_type: str) -> list[np.ndarray]:
    c = a["close"]
    m = talib.SMA(c, period) if ma_type == "sma" else talib.EMA(c, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(m != 0.0, (c - m) / m * 100.0, 0.0)
    out[np.isnan(m)] = np.nan
    return [out]


def squeeze_intensity(
    a: Arrays, bb_period: int, bb_std: float, kc_period: int, kc_multiplier: float
) -> list[np.ndarray]:
    _, sd = _stddev(a["close"], bb_period)
    kcw = 2.0 * (kc_multiplier * talib.ATR(a["high"], a["low"], a["close"], kc_period))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(kcw > 0.0, 1.0 - (2.0 * bb_std * sd) / kcw, 0.0)
    out = np.maximum(r, 0.0)
    out[np.isnan(sd) | np.isnan(kcw)] = np.nan
    return [out]


# --- path-dependent recursions ------------------------------------------------------------
def supertrend(a: Arrays, period: int, multiplier: float) -> list[np.ndarray]:
    h, lo, c = a["high"], a["low"], a["close"]
    n = len(c)
    atr_ = talib.ATR(h, lo, c, period)
    hl2 = (h + lo) / 2
    bu = (hl2 + multiplier * atr_).tolist()
    bl = (hl2 - multiplier * atr_).tolist()
    cl = c.tolist()
    trend = [math.nan] * n
    dirs = [math.nan] * n
    fu = fl = 0.0
    d = 1.0
    start = period  # first ATR bar
    for i in range(start, n):
        if i == start:
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


def fisher(a: Arrays, period: int, signal: int) -> list[np.ndarray]:
    x = (a["high"] + a["low"]) / 2
    n = len(x)
    hh = talib.MAX(x, period).tolist()
    ll = talib.MIN(x, period).tolist()
    xl = x.tolist()
    out = [math.nan] * n
    v = f = 0.0
    log = math.log
    for i in range(period - 1, n):
        rng = hh[i] - ll[i]
        pos = (xl[i] - ll[i]) / rng - 0.5 if rng > 0.0 else 0.0
        v = 0.66 * pos + 0.67 * v
        if v > 0.99:
            v = 0.999
        elif v < -0.99:
            v = -0.999
        f = 0.5 * (log((1.0 + v) / (1.0 - v)) + f)
        out[i] = f
    fa = np.array(out)
    return _nan_before([fa, _shift(fa, signal)], period - 1 + signal)


def zigzag(a: Arrays, deviation: float) -> list[np.ndarray]:
    return _loop(S.ZigZag, a, {"deviation": deviation})
