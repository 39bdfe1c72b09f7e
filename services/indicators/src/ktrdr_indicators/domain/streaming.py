"""Incremental (streaming) implementations of the native catalogue.

Contract (nautilus_trader style)
--------------------------------
Every class takes its parameters as keyword arguments and offers

* ``update(open, high, low, close, volume) -> tuple[float, ...]`` - feed one bar, get one
  value per output (declared order). All five prices are always passed; only the class's
  ``inputs`` are read.
* ``value`` (primary output), ``values`` (all outputs), ``initialized``, ``reset()``,
  ``repr()`` -> ``Name(params)``.

Warm-up: until ``initialized`` is True every output is NaN - never a partial value.

Invalid bars: if any input the indicator reads is NaN or +-inf, ``update`` returns NaNs
for that bar and leaves the state untouched (``values`` still shows the last valid bar);
the next valid bar continues exactly as if the invalid bar had never been seen. Batch mode
does the same (it computes on the valid rows only and scatters NaN into invalid ones).

Numerics: the classes mirror TA-Lib's C floating-point operation order (running sums kept
over ``n - 1`` values, Wilder smoothing, exact-zero guards as TA-Lib >= 0.6) so that streaming
matches the TA-Lib-backed batch mode to ~1e-12. Update paths use plain Python floats only.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

NAN = math.nan
_LOG = math.log
_SQRT = math.sqrt


def _update_close(self, o, h, lo, c, v):
    if c - c == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals
    return self._nan


def _update_hl(self, o, h, lo, c, v):
    if h - h == 0.0 and lo - lo == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals
    return self._nan


def _update_hlc(self, o, h, lo, c, v):
    if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals
    return self._nan


def _update_hlcv(self, o, h, lo, c, v):
    if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0 and v - v == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals
    return self._nan


_UPDATES = {
    ("close",): _update_close,
    ("high", "low"): _update_hl,
    ("high", "low", "close"): _update_hlc,
    ("high", "low", "close", "volume"): _update_hlcv,
}
_POSITION = {"open": 0, "high": 1, "low": 2, "close": 3, "volume": 4}


def _make_update(inputs: tuple[str, ...]):
    """``update`` checking exactly ``inputs`` for finiteness (``x - x == 0`` is False for NaN
    and +-inf): a hand-written function for the common input sets, a generic one otherwise
    (no generated source: nothing is compiled at run time)."""
    if inputs in _UPDATES:
        return _UPDATES[inputs]
    positions = tuple(_POSITION[f] for f in inputs)

    def update(self, o, h, lo, c, v):
        bar = (o, h, lo, c, v)
        for i in positions:
            x = bar[i]
            if x - x != 0.0:
                return self._nan
        vals = self._values = self._step(o, h, lo, c, v)
        return vals

    return update


class StreamingIndicator:
    """Base class; subclasses set ``inputs``, ``outputs``, ``primary`` and implement
    ``_reset`` and ``_step`` (which only ever sees finite inputs)."""

    inputs: tuple[str, ...] = ("close",)
    outputs: tuple[str, ...] = ("value",)
    primary: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.update = _make_update(cls.inputs)  # type: ignore[method-assign]

    def __init__(self, **params: Any) -> None:
        self._params = params
        for k, val in params.items():
            setattr(self, k, val)
        self._nan = (NAN,) * len(self.outputs)
        self.reset()

    def reset(self) -> None:
        """Return to the freshly constructed state."""
        self._values = self._nan
        self.initialized = False
        self._reset()

    def _reset(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        raise NotImplementedError  # pragma: no cover

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        raise NotImplementedError  # pragma: no cover - replaced per subclass

    @property
    def value(self) -> float:
        """Primary output of the last valid bar (NaN while not initialized)."""
        return self._values[self.primary]

    @property
    def values(self) -> tuple[float, ...]:
        """All outputs of the last valid bar."""
        return self._values

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(v) for v in self._params.values())})"


# ----------------------------------------------------------------------------- helpers
class _WinSum:
    """Sum of the last ``n`` values in TA-Lib's INT_SUM/INT_SMA operation order; NaN until
    ``n`` values were pushed."""

    __slots__ = ("buf", "count", "n", "pos", "total")

    def __init__(self, n: int) -> None:
        self.n = n
        self.buf = [0.0] * n
        self.pos = 0
        self.count = 0
        self.total = 0.0

    def push(self, x: float) -> float:
        buf = self.buf
        pos = self.pos
        buf[pos] = x
        pos += 1
        if pos == self.n:
            pos = 0
        self.pos = pos
        if self.count < self.n - 1:
            self.count += 1
            self.total += x
            return NAN
        t = self.total + x
        self.total = t - buf[pos]
        return t


class _Ema:
    """TA-Lib EMA: seeded by the SMA of the first ``n`` values, then
    ``prev = (x - prev) * k + prev`` with ``k = 2 / (n + 1)``."""

    __slots__ = ("count", "k", "n", "prev")

    def __init__(self, n: int) -> None:
        self.n = n
        self.k = 2.0 / (n + 1)
        self.count = 0
        self.prev = 0.0

    def push(self, x: float) -> float:
        if self.count >= self.n:
            self.prev = p = (x - self.prev) * self.k + self.prev
            return p
        self.count += 1
        self.prev += x
        if self.count == self.n:
            self.prev /= self.n
            return self.prev
        return NAN


class _Max:
    """Rolling maximum over the last ``n`` values (monotonic deque, amortised O(1)).
    Ties keep the most recent index (TA-Lib AROON convention)."""

    __slots__ = ("i", "idx", "n", "val")

    def __init__(self, n: int) -> None:
        self.n = n
        self.idx: deque[int] = deque()
        self.val: deque[float] = deque()
        self.i = 0

    def push(self, x: float) -> float:
        idx = self.idx
        val = self.val
        while val and val[-1] <= x:
            val.pop()
            idx.pop()
        i = self.i
        val.append(x)
        idx.append(i)
        if idx[0] <= i - self.n:
            idx.popleft()
            val.popleft()
        self.i = i + 1
        return val[0]


class _Min(_Max):
    """Rolling minimum (see :class:`_Max`)."""

    __slots__ = ()

    def push(self, x: float) -> float:
        idx = self.idx
        val = self.val
        while val and val[-1] >= x:
            val.pop()
            idx.pop()
        i = self.i
        val.append(x)
        idx.append(i)
        if idx[0] <= i - self.n:
            idx.popleft()
            val.popleft()
        self.i = i + 1
        return val[0]


class _Delay:
    """Returns the value pushed ``n`` pushes ago (NaN before)."""

    __slots__ = ("buf", "count", "n", "pos")

    def __init__(self, n: int) -> None:
        self.n = n
        self.buf = [NAN] * max(n, 1)
        self.pos = 0
        self.count = 0

    def push(self, x: float) -> float:
        if self.n == 0:
            return x
        buf = self.buf
        pos = self.pos
        old = buf[pos]
        buf[pos] = x
        pos += 1
        self.pos = 0 if pos == self.n else pos
        return old


def _true_range(h: float, lo: float, pc: float) -> float:
    g = h - lo
    a = abs(pc - h)
    if a > g:
        g = a
    a = abs(pc - lo)
    if a > g:
        g = a
    return g


class _Atr:
    """TA-Lib ATR: SMA of the first ``n`` true ranges (bars 1..n), then Wilder smoothing."""

    __slots__ = ("atr", "count", "n", "pc")

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.atr = 0.0
        self.pc = NAN

    def push(self, h: float, lo: float, c: float) -> float:
        n = self.n
        count = self.count
        if count == 0:
            self.count = 1
            self.pc = c
            return NAN
        tr = _true_range(h, lo, self.pc)
        self.pc = c
        if count > n:
            self.atr = a = (self.atr * (n - 1) + tr) / n
            return a
        self.count = count + 1
        self.atr += tr
        if count == n:
            self.atr /= n
            return self.atr
        return NAN


class _StdDev:
    """TA-Lib population standard deviation (mean of squares minus squared SMA, 0 when the
    variance is not positive). Returns (sma, stddev)."""

    __slots__ = ("n", "s", "s2")

    def __init__(self, n: int) -> None:
        self.n = n
        self.s = _WinSum(n)
        self.s2 = _WinSum(n)

    def push(self, x: float) -> tuple[float, float]:
        t = self.s.push(x)
        t2 = self.s2.push(x * x)
        if t != t:
            return NAN, NAN
        n = self.n
        mid = t / n
        var = t2 / n - mid * mid
        return mid, (_SQRT(var) if var > 0.0 else 0.0)


# ----------------------------------------------------------------------------- overlap
class SMA(StreamingIndicator):
    """Simple moving average of close (TA-Lib SMA)."""

    def _reset(self) -> None:
        self._sum = _WinSum(self.period)

    def _step(self, o, h, lo, c, v):
        t = self._sum.push(c)
        if t != t:
            return self._nan
        self.initialized = True
        return (t / self.period,)


class EMA(StreamingIndicator):
    """Exponential moving average of close, SMA-seeded (TA-Lib EMA)."""

    def _reset(self) -> None:
        self._ema = _Ema(self.period)

    def _step(self, o, h, lo, c, v):
        e = self._ema.push(c)
        if e != e:
            return self._nan
        self.initialized = True
        return (e,)


class WMA(StreamingIndicator):
    """Linearly weighted moving average (TA-Lib WMA operation order)."""

    def _reset(self) -> None:
        n = self.period
        self._buf = [0.0] * n
        self._pos = 0
        self._count = 0
        self._psum = 0.0
        self._psub = 0.0
        self._trail = 0.0
        self._div = (n * (n + 1)) >> 1

    def _step(self, o, h, lo, c, v):
        n = self.period
        buf = self._buf
        pos = self._pos
        buf[pos] = c
        pos += 1
        if pos == n:
            pos = 0
        self._pos = pos
        if self._count < n - 1:
            self._count += 1
            self._psub += c
            self._psum += c * self._count
            return self._nan
        self._psub += c
        self._psub -= self._trail
        self._psum += c * n
        self._trail = buf[pos]
        out = self._psum / self._div
        self._psum -= self._psub
        self.initialized = True
        return (out,)


# ----------------------------------------------------------------------------- momentum
class RSI(StreamingIndicator):
    """Wilder RSI (TA-Lib RSI: seed = mean gain/loss of the first ``period`` changes;
    0 when average gain + loss is exactly 0)."""

    def _reset(self) -> None:
        self._count = 0
        self._prev = 0.0
        self._gain = 0.0
        self._loss = 0.0

    def _step(self, o, h, lo, c, v):
        count = self._count
        if count == 0:
            self._count = 1
            self._prev = c
            return self._nan
        n = self.period
        d = c - self._prev
        self._prev = c
        if count > n:
            gain = self._gain * (n - 1)
            loss = self._loss * (n - 1)
            if d < 0:
                loss -= d
            else:
                gain += d
            self._gain = gain = gain / n
            self._loss = loss = loss / n
        else:
            self._count = count + 1
            if d < 0:
                self._loss -= d
            else:
                self._gain += d
            if count < n:
                return self._nan
            self._gain = gain = self._gain / n
            self._loss = loss = self._loss / n
            self.initialized = True
        t = gain + loss
        return ((100.0 * (gain / t)) if t != 0.0 else 0.0,)


class MACD(StreamingIndicator):
    """MACD with TA-Lib seeding: the fast EMA is seeded at bar ``slow - 1`` with the SMA of the
    last ``fast`` closes (not at bar ``fast - 1``), the signal EMA with the SMA of the first
    ``signal`` MACD values; all three outputs appear together at bar ``slow + signal - 2``."""

    outputs = ("line", "signal", "histogram")

    def _reset(self) -> None:
        self._i = 0
        self._recent: deque[float] = deque(maxlen=self.fast)
        self._slow_ema = _Ema(self.slow)
        self._sig_ema = _Ema(self.signal)
        self._fast_v = 0.0
        self._kf = 2.0 / (self.fast + 1)

    def _step(self, o, h, lo, c, v):
        s = self._slow_ema.push(c)
        i = self._i
        if i < self.slow - 1:
            self._i = i + 1
            self._recent.append(c)
            return self._nan
        if i == self.slow - 1:
            self._i = i + 1
            self._recent.append(c)
            t = 0.0
            for x in self._recent:
                t += x
            f = self._fast_v = t / self.fast
        else:
            self._fast_v = f = (c - self._fast_v) * self._kf + self._fast_v
        m = f - s
        sig = self._sig_ema.push(m)
        if sig != sig:
            return self._nan
        self.initialized = True
        return (m, sig, m - sig)


class ROC(StreamingIndicator):
    """Rate of change in percent: ``(close / close[period] - 1) * 100`` (0 if the old close
    is 0, as TA-Lib)."""

    def _reset(self) -> None:
        self._delay = _Delay(self.period)

    def _step(self, o, h, lo, c, v):
        p = self._delay.push(c)
        if p != p:
            return self._nan
        self.initialized = True
        return (((c / p) - 1.0) * 100.0 if p != 0.0 else 0.0,)


class Momentum(StreamingIndicator):
    """``close - close[period]`` (TA-Lib MOM)."""

    def _reset(self) -> None:
        self._delay = _Delay(self.period)

    def _step(self, o, h, lo, c, v):
        p = self._delay.push(c)
        if p != p:
            return self._nan
        self.initialized = True
        return (c - p,)


class Stochastic(StreamingIndicator):
    """Slow stochastic (TA-Lib STOCH with SMA smoothing): fast %K over ``k_period``, %K = SMA
    of fast %K over ``k_smooth``, %D = SMA of %K over ``d_period``.

    Hot path: the rolling max / min (monotonic deques, see :class:`_Max`) and the two
    :class:`_WinSum` running sums are inlined on local variables (same operations, same
    order), which halves the per-bar cost of the helper-object version."""

    inputs = ("high", "low", "close")
    outputs = ("k", "d")

    def _reset(self) -> None:
        self._hv: deque[float] = deque()  # rolling max of high: values / bar indices
        self._hx: deque[int] = deque()
        self._lv: deque[float] = deque()  # rolling min of low
        self._lx: deque[int] = deque()
        self._i = 0
        # %K / %D sums: TA-Lib INT_SUM order (total of n - 1 values, + new, - oldest)
        self._kbuf = [0.0] * self.k_smooth
        self._dbuf = [0.0] * self.d_period
        self._kpos = self._dpos = 0
        self._ktot = self._dtot = 0.0
        # bars still to see before each stage yields: fast %K, %K, %D
        self._wait_fk = self.k_period - 1
        self._wait_k = self.k_smooth - 1
        self._wait_d = self.d_period - 1

    def _step(self, o, h, lo, c, v):
        i = self._i
        self._i = i + 1
        hv = self._hv
        hx = self._hx
        while hv and hv[-1] <= h:
            hv.pop()
            hx.pop()
        hv.append(h)
        hx.append(i)
        lv = self._lv
        lx = self._lx
        while lv and lv[-1] >= lo:
            lv.pop()
            lx.pop()
        lv.append(lo)
        lx.append(i)
        old = i - self.k_period
        if hx[0] <= old:
            hx.popleft()
            hv.popleft()
        if lx[0] <= old:
            lx.popleft()
            lv.popleft()
        if self._wait_fk:
            self._wait_fk -= 1
            return self._nan
        ll = lv[0]
        diff = (hv[0] - ll) / 100.0
        fk = (c - ll) / diff if diff != 0.0 else 0.0
        # %K running sum
        buf = self._kbuf
        pos = self._kpos
        buf[pos] = fk
        pos += 1
        if pos == self.k_smooth:
            pos = 0
        self._kpos = pos
        if self._wait_k:
            self._wait_k -= 1
            self._ktot += fk
            return self._nan
        ks = self._ktot + fk
        self._ktot = ks - buf[pos]
        k = ks / self.k_smooth
        # %D running sum
        buf = self._dbuf
        pos = self._dpos
        buf[pos] = k
        pos += 1
        if pos == self.d_period:
            pos = 0
        self._dpos = pos
        if self._wait_d:
            self._wait_d -= 1
            self._dtot += k
            return self._nan
        ds = self._dtot + k
        self._dtot = ds - buf[pos]
        self.initialized = True
        return (k, ds / self.d_period)


class WilliamsR(StreamingIndicator):
    """Williams %R in [-100, 0] (TA-Lib WILLR; 0 when the range is flat)."""

    inputs = ("high", "low", "close")

    def _reset(self) -> None:
        self._hh = _Max(self.period)
        self._ll = _Min(self.period)
        self._count = 0

    def _step(self, o, h, lo, c, v):
        hh = self._hh.push(h)
        ll = self._ll.push(lo)
        if self._count < self.period - 1:
            self._count += 1
            return self._nan
        self.initialized = True
        diff = (hh - ll) / (-100.0)
        return ((hh - c) / diff if diff != 0.0 else 0.0,)


@cache
def _cci_kernel(n: int) -> Callable[[list[float], float], float]:
    """CCI of the full ring ``buf`` (``n`` typical prices) whose newest entry is ``tp``.

    ``avg = sum(buf) / n`` and the mean absolute deviation summed left to right in the ring's
    storage order, exactly TA-Lib's circular-buffer order (starting from 0.0 adds nothing:
    ``0.0 + t0 == t0``). ``|x - avg|`` is taken as ``x - avg if x >= avg else avg - x`` -
    bit-identical to ``abs(x - avg)`` (IEEE subtraction is sign-symmetric and an exact
    difference of distinct floats is never 0). The mean uses ``sum`` (C): on Python 3.11
    (pinned) that is plain left-to-right addition, identical to TA-Lib's loop - Python >= 3.12
    switches ``sum`` of floats to compensated summation and would need revisiting.
    """

    def cci(buf: list[float], tp: float) -> float:
        avg = sum(buf) / n
        dev = 0.0
        for x in buf:
            dev += x - avg if x >= avg else avg - x
        d = tp - avg
        return d / (0.015 * (dev / n)) if d != 0.0 and dev != 0.0 else 0.0

    return cci


class CCI(StreamingIndicator):
    """Commodity Channel Index (TA-Lib CCI; O(period) per bar for the mean deviation).

    The mean and the mean absolute deviation are recomputed over the whole window every bar,
    summing the ring buffer in its storage order exactly like TA-Lib's circular buffer (a
    running mean would round differently); see :func:`_cci_kernel`.
    """

    inputs = ("high", "low", "close")

    def _reset(self) -> None:
        self._buf = [0.0] * self.period
        self._pos = 0
        self._wait = self.period - 1
        self._kernel = _cci_kernel(self.period)

    def _step(self, o, h, lo, c, v):
        tp = (h + lo + c) / 3
        buf = self._buf
        pos = self._pos
        buf[pos] = tp
        pos += 1
        self._pos = 0 if pos == self.period else pos
        if not self.initialized:
            if self._wait:
                self._wait -= 1
                return self._nan
            self.initialized = True
        return (self._kernel(buf, tp),)


class Aroon(StreamingIndicator):
    """Aroon up/down over ``period + 1`` bars (ties -> most recent bar) and the oscillator
    ``100 / period * (index_of_high - index_of_low)`` (TA-Lib AROON / AROONOSC)."""

    inputs = ("high", "low")
    outputs = ("up", "down", "oscillator")
    primary = 2

    def _reset(self) -> None:
        self._hh = _Max(self.period + 1)
        self._ll = _Min(self.period + 1)
        self._factor = 100.0 / self.period

    def _step(self, o, h, lo, c, v):
        hh = self._hh
        ll = self._ll
        hh.push(h)
        ll.push(lo)
        today = hh.i - 1
        if today < self.period:
            return self._nan
        self.initialized = True
        hi = hh.idx[0]
        lo = ll.idx[0]
        f = self._factor
        n = self.period
        return (f * (n - (today - hi)), f * (n - (today - lo)), f * (hi - lo))


class FisherTransform(StreamingIndicator):
    """Ehlers Fisher transform of HL2 over ``period`` bars; ``signal`` = fisher ``signal``
    bars ago. value = 0.66 * (pos - 0.5) + 0.67 * value[-1] clamped at +-0.999 (Ehlers);
    fisher = 0.5 * (ln((1 + value) / (1 - value)) + fisher[-1]); a flat window gives pos
    = 0.5 (pandas-ta instead floors the range at an absolute 0.001)."""

    inputs = ("high", "low")
    outputs = ("fisher", "signal")

    def _reset(self) -> None:
        # rolling max / min of HL2 (monotonic deques as in _Max / _Min, sharing one bar
        # counter) and the signal delay line, inlined into _step
        self._hv: deque[float] = deque()
        self._hx: deque[int] = deque()
        self._lv: deque[float] = deque()
        self._lx: deque[int] = deque()
        self._i = 0
        self._v = 0.0
        self._f = 0.0
        self._dbuf = [NAN] * max(self.signal, 1)
        self._dpos = 0

    def _step(self, o, h, lo, c, v):
        x = (h + lo) / 2
        i = self._i
        self._i = i + 1
        hv = self._hv
        hx = self._hx
        while hv and hv[-1] <= x:
            hv.pop()
            hx.pop()
        hv.append(x)
        hx.append(i)
        lv = self._lv
        lx = self._lx
        while lv and lv[-1] >= x:
            lv.pop()
            lx.pop()
        lv.append(x)
        lx.append(i)
        n = self.period
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
        d = self.signal
        if d:
            buf = self._dbuf
            p = self._dpos
            s = buf[p]
            buf[p] = f
            p += 1
            self._dpos = 0 if p == d else p
            if s != s:
                return self._nan
        else:
            s = f
        self.initialized = True
        return (f, s)


class RVI(StreamingIndicator):
    """Ehlers Relative Vigor Index: SWMA(1,2,2,1) of close-open summed over ``period``
    divided by the same of high-low; signal = SWMA(1,2,2,1) of rvi. 0 when the range sum is 0."""

    inputs = ("open", "high", "low", "close")
    outputs = ("rvi", "signal")

    def _reset(self) -> None:
        # SWMA taps as scalars (oldest first) and the two period sums inlined (_WinSum order,
        # one shared ring position and warm-up count)
        self._co = (0.0, 0.0, 0.0)
        self._hl = (0.0, 0.0, 0.0)
        self._r = (0.0, 0.0, 0.0)
        self._count = 0
        self._rcount = 0
        n = self.period
        self._nbuf = [0.0] * n
        self._dbuf = [0.0] * n
        self._pos = 0
        self._wcount = 0
        self._ntot = 0.0
        self._dtot = 0.0

    def _step(self, o, h, lo, c, v):
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
        nbuf = self._nbuf
        dbuf = self._dbuf
        pos = self._pos
        nbuf[pos] = num
        dbuf[pos] = den
        pos += 1
        n = self.period
        if pos == n:
            pos = 0
        self._pos = pos
        if self._wcount < n - 1:
            self._wcount += 1
            self._ntot += num
            self._dtot += den
            return self._nan
        sn = self._ntot + num
        self._ntot = sn - nbuf[pos]
        sd = self._dtot + den
        self._dtot = sd - dbuf[pos]
        rvi = sn / sd if sd != 0.0 else 0.0
        r0, r1, r2 = self._r
        self._r = (r1, r2, rvi)
        if self._rcount < 3:
            self._rcount += 1
            return self._nan
        self.initialized = True
        return (rvi, (rvi + 2.0 * r2 + 2.0 * r1 + r0) / 6.0)


# ----------------------------------------------------------------------------- trend
class ADX(StreamingIndicator):
    """Wilder ADX with +DI/-DI (TA-Lib ADX/PLUS_DI/MINUS_DI operation order). All outputs
    appear together at bar ``2 * period - 1`` (ADX's warm-up)."""

    inputs = ("high", "low", "close")
    outputs = ("adx", "plus_di", "minus_di")

    def _reset(self) -> None:
        self._count = 0
        self._ph = self._pl = self._pc = 0.0
        self._pdm = self._mdm = self._tr = 0.0
        self._sumdx = 0.0
        self._adx = 0.0

    def _step(self, o, h, lo, c, v):
        count = self._count
        if count == 0:
            self._count = 1
            self._ph = h
            self._pl = lo
            self._pc = c
            return self._nan
        n = self.period
        dp = h - self._ph
        dm = self._pl - lo
        self._ph = h
        self._pl = lo
        tr = _true_range(h, lo, self._pc)
        self._pc = c
        if count < n:  # bars 1 .. n-1: plain sums
            self._count = count + 1
            if dm > 0 and dp < dm:
                self._mdm += dm
            elif dp > 0 and dp > dm:
                self._pdm += dp
            self._tr += tr
            return self._nan
        mdm = self._mdm - self._mdm / n
        pdm = self._pdm - self._pdm / n
        if dm > 0 and dp < dm:
            mdm += dm
        elif dp > 0 and dp > dm:
            pdm += dp
        self._mdm = mdm
        self._pdm = pdm
        self._tr = trs = self._tr - self._tr / n + tr
        zero_tr = trs == 0.0
        if not zero_tr:
            mdi = 100.0 * (mdm / trs)
            pdi = 100.0 * (pdm / trs)
        else:
            mdi = pdi = 0.0
        if count <= 2 * n - 1:  # bars n .. 2n-1: accumulate DX
            if not zero_tr:
                t = mdi + pdi
                if t != 0.0:
                    self._sumdx += 100.0 * (abs(mdi - pdi) / t)
            if count < 2 * n - 1:
                self._count = count + 1
                return self._nan
            self._count = 2 * n
            self._adx = self._sumdx / n
            self.initialized = True
            return (self._adx, pdi, mdi)
        if not zero_tr:
            t = mdi + pdi
            if t != 0.0:
                dx = 100.0 * (abs(mdi - pdi) / t)
                self._adx = ((self._adx * (n - 1)) + dx) / n
        return (self._adx, pdi, mdi)


class ParabolicSAR(StreamingIndicator):
    """Wilder Parabolic SAR, identical to TA-Lib SAR (initial direction from the first two
    bars' -DM; if ``acceleration > maximum`` TA-Lib caps it, we reject it instead)."""

    inputs = ("high", "low")

    def _reset(self) -> None:
        self._count = 0
        self._long = True
        self._af = self.acceleration
        self._ep = self._sar = 0.0
        self._nh = self._nl = 0.0

    def _step(self, o, h, lo, c, v):
        if self._count == 0:
            self._count = 1
            self._nh = h
            self._nl = lo
            return self._nan
        acc = self.acceleration
        mx = self.maximum
        if self._count == 1:
            self._count = 2
            dp = h - self._nh
            dm = self._nl - lo
            self._long = not (dm > 0 and dp < dm)
            if self._long:
                self._ep = h
                self._sar = self._nl
            else:
                self._ep = lo
                self._sar = self._nh
            self._nl = lo
            self._nh = h
            self.initialized = True
        pl = self._nl
        ph = self._nh
        self._nl = lo
        self._nh = h
        sar = self._sar
        ep = self._ep
        if self._long:
            if lo <= sar:
                self._long = False
                sar = ep
                if sar < ph:
                    sar = ph
                if sar < h:
                    sar = h
                out = sar
                self._af = af = acc
                ep = lo
                sar = sar + af * (ep - sar)
                if sar < ph:
                    sar = ph
                if sar < h:
                    sar = h
            else:
                out = sar
                if h > ep:
                    ep = h
                    self._af = min(self._af + acc, mx)
                sar = sar + self._af * (ep - sar)
                if sar > pl:
                    sar = pl
                if sar > lo:
                    sar = lo
        else:
            if h >= sar:
                self._long = True
                sar = ep
                if sar > pl:
                    sar = pl
                if sar > lo:
                    sar = lo
                out = sar
                self._af = af = acc
                ep = h
                sar = sar + af * (ep - sar)
                if sar > pl:
                    sar = pl
                if sar > lo:
                    sar = lo
            else:
                out = sar
                if lo < ep:
                    ep = lo
                    self._af = min(self._af + acc, mx)
                sar = sar + self._af * (ep - sar)
                if sar < ph:
                    sar = ph
                if sar < h:
                    sar = h
        self._sar = sar
        self._ep = ep
        return (out,)


class SuperTrend(StreamingIndicator):
    """SuperTrend on HL2 +- multiplier * ATR(period) (TA-Lib-seeded Wilder ATR). direction is
    +1 (trend = lower band, bullish) or -1 (trend = upper band); starts at +1 on the first
    ATR bar. Bands only tighten unless the previous close broke them."""

    inputs = ("high", "low", "close")
    outputs = ("trend", "direction")

    def _reset(self) -> None:
        self._atr = _Atr(self.period)
        self._fu = self._fl = self._pc = 0.0
        self._dir = 1.0

    def _step(self, o, h, lo, c, v):
        a = self._atr.push(h, lo, c)
        if a != a:
            return self._nan
        hl2 = (h + lo) / 2
        bu = hl2 + self.multiplier * a
        bl = hl2 - self.multiplier * a
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


class Ichimoku(StreamingIndicator):
    """Causal Ichimoku. tenkan/kijun = midpoint of the high-low range over their windows;
    senkou_a / senkou_b at bar t are the spans *computed* ``displacement`` bars earlier
    (i.e. the cloud value plotted at t - no look-ahead); chikou at bar t is the close at t
    (the classic chikou plots it ``displacement`` bars back, which would be look-ahead)."""

    inputs = ("high", "low", "close")
    outputs = ("tenkan", "kijun", "senkou_a", "senkou_b", "chikou")
    primary = 1

    def _reset(self) -> None:
        # One monotonic max deque of high and one min deque of low over the longest window
        # serve all three windows: the max over the last k <= w bars is the first entry whose
        # bar index is > i - k (entries are index-ascending, value-descending), found by
        # bisection - two deque pushes per bar instead of six.
        self._w = max(self.tenkan, self.kijun, self.senkou)
        self._hv: deque[float] = deque()
        self._hx: deque[int] = deque()
        self._lv: deque[float] = deque()
        self._lx: deque[int] = deque()
        self._i = 0
        # senkou a / b delay line (one position for both spans)
        self._da = [NAN] * max(self.displacement, 1)
        self._db = [NAN] * max(self.displacement, 1)
        self._dpos = 0
        self._ready = self._w - 1 + self.displacement

    def _step(self, o, h, lo, c, v):
        i = self._i
        self._i = i + 1
        hv = self._hv
        hx = self._hx
        while hv and hv[-1] <= h:
            hv.pop()
            hx.pop()
        hv.append(h)
        hx.append(i)
        lv = self._lv
        lx = self._lx
        while lv and lv[-1] >= lo:
            lv.pop()
            lx.pop()
        lv.append(lo)
        lx.append(i)
        w = self._w
        old = i - w
        if hx[0] <= old:
            hx.popleft()
            hv.popleft()
        if lx[0] <= old:
            lx.popleft()
            lv.popleft()
        p = self.tenkan
        if p == w:
            t = (hv[0] + lv[0]) / 2
        else:
            t = (hv[bisect_right(hx, i - p)] + lv[bisect_right(lx, i - p)]) / 2
        p = self.kijun
        if p == w:
            k = (hv[0] + lv[0]) / 2
        else:
            k = (hv[bisect_right(hx, i - p)] + lv[bisect_right(lx, i - p)]) / 2
        p = self.senkou
        if p == w:
            b = (hv[0] + lv[0]) / 2
        else:
            b = (hv[bisect_right(hx, i - p)] + lv[bisect_right(lx, i - p)]) / 2
        d = self.displacement
        if d:
            pos = self._dpos
            da = self._da
            db = self._db
            sa = da[pos]
            sb = db[pos]
            da[pos] = (t + k) / 2
            db[pos] = b
            pos += 1
            self._dpos = 0 if pos == d else pos
        else:
            sa = (t + k) / 2
            sb = b
        if i < self._ready:
            return self._nan
        self.initialized = True
        return (t, k, sa, sb, c)


class ZigZag(StreamingIndicator):
    """Causal ZigZag on high/low. A swing high (low) is *confirmed* once price has fallen
    (risen) ``deviation`` percent from it; ``value`` is the price of the last confirmed pivot
    and ``direction`` +1 after a confirmed low (up-swing), -1 after a confirmed high. Lag: a
    pivot is reported on its confirmation bar, an unbounded number of bars after the pivot
    bar itself; not ready until the first pivot is confirmed (data-dependent warm-up)."""

    inputs = ("high", "low")
    outputs = ("value", "direction")

    def _reset(self) -> None:
        self._dir = 0
        self._hi = -math.inf
        self._lo = math.inf
        self._pivot = NAN
        self._n = self._hi_i = self._lo_i = 0
        self._up = 1.0 + self.deviation / 100.0
        self._down = 1.0 - self.deviation / 100.0

    def _step(self, o, h, lo, c, v):
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
        else:
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
                self._dir = d = 1
            elif self._hi_i <= self._lo_i and self._lo <= self._hi * self._down:
                self._pivot = self._hi
                self._dir = d = -1
            else:
                return self._nan
            self.initialized = True
        return (self._pivot, float(d))


# ----------------------------------------------------------------------------- volatility
class BollingerBands(StreamingIndicator):
    """SMA(period) +- std * population stddev (TA-Lib BBANDS, matype SMA)."""

    outputs = ("upper", "middle", "lower")
    primary = 1

    def _reset(self) -> None:
        self._sd = _StdDev(self.period)

    def _step(self, o, h, lo, c, v):
        mid, sd = self._sd.push(c)
        if mid != mid:
            return self._nan
        self.initialized = True
        if self.std != 1.0:
            sd = sd * self.std
        return (mid + sd, mid, mid - sd)


class BollingerWidth(BollingerBands):
    """(upper - lower) / middle of the Bollinger Bands, computed as 2 * std * stddev / middle
    (no cancellation); 0 when middle is 0."""

    outputs = ("value",)
    primary = 0

    def _step(self, o, h, lo, c, v):
        mid, sd = self._sd.push(c)
        if mid != mid:
            return self._nan
        self.initialized = True
        return ((2.0 * self.std * sd) / mid if mid != 0.0 else 0.0,)


class ATR(StreamingIndicator):
    """Average true range (TA-Lib ATR)."""

    inputs = ("high", "low", "close")

    def _reset(self) -> None:
        self._atr = _Atr(self.period)

    def _step(self, o, h, lo, c, v):
        a = self._atr.push(h, lo, c)
        if a != a:
            return self._nan
        self.initialized = True
        return (a,)


class Keltner(StreamingIndicator):
    """EMA(period) of close +- multiplier * ATR(atr_period)."""

    inputs = ("high", "low", "close")
    outputs = ("upper", "middle", "lower")
    primary = 1

    def _reset(self) -> None:
        self._ema = _Ema(self.period)
        self._atr = _Atr(self.atr_period)

    def _step(self, o, h, lo, c, v):
        m = self._ema.push(c)
        a = self._atr.push(h, lo, c)
        if m != m or a != a:
            return self._nan
        self.initialized = True
        w = self.multiplier * a
        return (m + w, m, m - w)


class Donchian(StreamingIndicator):
    """Highest high / lowest low over ``period`` bars and their midpoint."""

    inputs = ("high", "low")
    outputs = ("upper", "middle", "lower")
    primary = 1

    def _reset(self) -> None:
        self._hh = _Max(self.period)
        self._ll = _Min(self.period)
        self._count = 0

    def _step(self, o, h, lo, c, v):
        u = self._hh.push(h)
        lo = self._ll.push(lo)
        if self._count < self.period - 1:
            self._count += 1
            return self._nan
        self.initialized = True
        return (u, (u + lo) / 2, lo)


class SqueezeIntensity(StreamingIndicator):
    """How far the Bollinger Bands sit inside the Keltner Channel:
    ``max(0, 1 - bb_width / kc_width)`` with bb_width = 2 * bb_std * stddev(bb_period) and
    kc_width = 2 * kc_multiplier * ATR(kc_period). 0 = no squeeze, -> 1 = tight squeeze."""

    inputs = ("high", "low", "close")

    def _reset(self) -> None:
        # _StdDev (two _WinSum rings sharing position / count) and _Atr inlined into _step,
        # same operation order; the steady state (both warmed up) takes the short path
        n = self.bb_period
        self._b1 = [0.0] * n
        self._b2 = [0.0] * n
        self._pos = 0
        self._scount = 0
        self._t1 = 0.0
        self._t2 = 0.0
        self._acount = 0
        self._atr = 0.0
        self._pc = NAN
        self._k2 = 2.0 * self.bb_std  # (2.0 * k) * sd == 2.0 * k * sd

    def _step(self, o, h, lo, c, v):
        # true range vs the previous close
        pc = self._pc
        self._pc = c
        g = h - lo
        x = abs(pc - h)
        if x > g:
            g = x
        x = abs(pc - lo)
        if x > g:
            g = x
        n = self.bb_period
        b1 = self._b1
        b2 = self._b2
        pos = self._pos
        b1[pos] = c
        b2[pos] = c2 = c * c
        pos += 1
        if pos == n:
            pos = 0
        self._pos = pos
        if self.initialized:
            t = self._t1 + c
            self._t1 = t - b1[pos]
            t2 = self._t2 + c2
            self._t2 = t2 - b2[pos]
            m = self.kc_period
            a = self._atr = (self._atr * (m - 1) + g) / m
        else:
            # warm-up: _WinSum / _Atr state machines
            if self._scount < n - 1:
                self._scount += 1
                self._t1 += c
                self._t2 += c2
                t = NAN
            else:
                t = self._t1 + c
                self._t1 = t - b1[pos]
                t2 = self._t2 + c2
                self._t2 = t2 - b2[pos]
            m = self.kc_period
            count = self._acount
            if count == 0:
                self._acount = 1
                a = NAN
            elif count > m:
                a = self._atr = (self._atr * (m - 1) + g) / m
            else:
                self._acount = count + 1
                self._atr += g
                if count == m:
                    self._atr /= m
                    a = self._atr
                else:
                    a = NAN
            if t != t or a != a:
                return self._nan
            self.initialized = True
        mid = t / n
        var = t2 / n - mid * mid
        kcw = 2.0 * (self.kc_multiplier * a)
        if kcw <= 0.0:
            return (0.0,)
        r = 1.0 - (self._k2 * (_SQRT(var) if var > 0.0 else 0.0)) / kcw
        return (r if r > 0.0 else 0.0,)


# ----------------------------------------------------------------------------- volume
class OBV(StreamingIndicator):
    """On-balance volume starting at the first bar's volume (TA-Lib OBV)."""

    inputs = ("close", "volume")

    def _reset(self) -> None:
        self._obv = NAN
        self._pc = 0.0

    def _step(self, o, h, lo, c, v):
        if not self.initialized:
            self.initialized = True
            self._obv = v
        elif c > self._pc:
            self._obv += v
        elif c < self._pc:
            self._obv -= v
        self._pc = c
        return (self._obv,)


class AD(StreamingIndicator):
    """Chaikin accumulation/distribution line (TA-Lib AD)."""

    inputs = ("high", "low", "close", "volume")

    def _reset(self) -> None:
        self._ad = 0.0

    def _step(self, o, h, lo, c, v):
        r = h - lo
        if r > 0.0:
            self._ad += (((c - lo) - (h - c)) / r) * v
        self.initialized = True
        return (self._ad,)


class MFI(StreamingIndicator):
    """Money flow index (TA-Lib MFI; 0 when the flow sum is below 1.0, as TA-Lib). A typical-
    price change within rounding noise (|d| <= 4 eps |tp|) counts as unchanged, which is what
    TA-Lib's C build does on the real sample data."""

    inputs = ("high", "low", "close", "volume")

    def _reset(self) -> None:
        self._count = 0
        self._ptp = 0.0
        self._pos = [0.0] * self.period
        self._neg = [0.0] * self.period
        self._idx = 0
        self._ps = self._ns = 0.0

    def _step(self, o, h, lo, c, v):
        tp = (h + lo + c) / 3
        count = self._count
        if count == 0:
            self._count = 1
            self._ptp = tp
            return self._nan
        d = tp - self._ptp
        self._ptp = tp
        flow = tp * v
        i = self._idx
        n = self.period
        if count > n:
            self._ps -= self._pos[i]
            self._ns -= self._neg[i]
        tol = 4.440892098500626e-16 * abs(tp)  # rounding noise counts as "unchanged"
        if d < -tol:
            self._neg[i] = flow
            self._ns += flow
            self._pos[i] = 0.0
        elif d > tol:
            self._pos[i] = flow
            self._ps += flow
            self._neg[i] = 0.0
        else:
            self._pos[i] = self._neg[i] = 0.0
        self._idx = 0 if i + 1 == n else i + 1
        if count <= n:
            self._count = count + 1
            if count < n:
                return self._nan
            self.initialized = True
        t = self._ps + self._ns
        return (0.0 if t < 1.0 else 100.0 * (self._ps / t),)


class VWAP(StreamingIndicator):
    """Volume-weighted average of typical price (h+lo+c)/3 over the last ``period`` bars, or
    cumulative since the first bar when ``period`` is 0. Zero volume -> typical price."""

    inputs = ("high", "low", "close", "volume")

    def _reset(self) -> None:
        if self.period > 0:
            self._pv = _WinSum(self.period)
            self._v = _WinSum(self.period)
        self._cpv = self._cv = 0.0

    def _step(self, o, h, lo, c, v):
        tp = (h + lo + c) / 3
        if self.period > 0:
            spv = self._pv.push(tp * v)
            sv = self._v.push(v)
            if spv != spv:
                return self._nan
        else:
            self._cpv = spv = self._cpv + tp * v
            self._cv = sv = self._cv + v
        self.initialized = True
        return (spv / sv if sv != 0.0 else tp,)


class CMF(StreamingIndicator):
    """Chaikin money flow: sum(money-flow volume) / sum(volume) over ``period`` (0 when the
    volume sum is 0; a flat bar's multiplier is 0)."""

    inputs = ("high", "low", "close", "volume")

    def _reset(self) -> None:
        self._mf = _WinSum(self.period)
        self._v = _WinSum(self.period)

    def _step(self, o, h, lo, c, v):
        r = h - lo
        mfv = (((c - lo) - (h - c)) / r) * v if r > 0.0 else 0.0
        smf = self._mf.push(mfv)
        sv = self._v.push(v)
        if smf != smf:
            return self._nan
        self.initialized = True
        return (smf / sv if sv != 0.0 else 0.0,)


class VolumeRatio(StreamingIndicator):
    """volume / SMA(volume, period) (SMA includes the current bar; 1.0 if it is 0)."""

    inputs = ("volume",)

    def _reset(self) -> None:
        self._sum = _WinSum(self.period)

    def _step(self, o, h, lo, c, v):
        t = self._sum.push(v)
        if t != t:
            return self._nan
        self.initialized = True
        m = t / self.period
        return (v / m if m != 0.0 else 1.0,)


class DistanceFromMA(StreamingIndicator):
    """Percent distance of close from its moving average: (close - ma) / ma * 100 (0 if ma
    is 0); ``ma_type`` "sma" or "ema" (TA-Lib conventions)."""

    def _reset(self) -> None:
        self._ma = _WinSum(self.period) if self.ma_type == "sma" else _Ema(self.period)

    def _step(self, o, h, lo, c, v):
        m = self._ma.push(c)
        if m != m:
            return self._nan
        if self.ma_type == "sma":
            m = m / self.period
        self.initialized = True
        return ((c - m) / m * 100.0 if m != 0.0 else 0.0,)


class SourceStream:
    """A single-series indicator reading another price than the close (``source``).

    Delegates to the wrapped indicator, passing the chosen series where it reads ``close``:
    ``open``, ``high``, ``low`` or the derived ``hl2``, ``hlc3``, ``ohlc4``.
    """

    __slots__ = ("_inner", "_pick", "source")

    _PICK: ClassVar[dict[str, Callable[[float, float, float, float], float]]] = {
        "open": lambda o, h, lo, c: o,
        "high": lambda o, h, lo, c: h,
        "low": lambda o, h, lo, c: lo,
        "hl2": lambda o, h, lo, c: (h + lo) / 2.0,
        "hlc3": lambda o, h, lo, c: (h + lo + c) / 3.0,
        "ohlc4": lambda o, h, lo, c: (o + h + lo + c) / 4.0,
    }

    def __init__(self, inner: StreamingIndicator, source: str) -> None:
        self._inner = inner
        self._pick = self._PICK[source]
        self.source = source

    def update(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        return self._inner.update(o, h, lo, self._pick(o, h, lo, c), v)

    def reset(self) -> None:
        self._inner.reset()

    @property
    def value(self) -> float:
        return self._inner.value

    @property
    def values(self) -> tuple[float, ...]:
        return self._inner.values

    @property
    def initialized(self) -> bool:
        return self._inner.initialized

    def __repr__(self) -> str:
        return f"{self._inner!r}[source={self.source}]"
