"""Rolling building blocks of the hand-written indicators (streaming state and batch kernels).

The standard deviation is computed stably, not as "mean of squares minus squared mean": on FX
prices (stddev / price about 3e-4) that difference loses about 8 significant digits.

* Batch (:func:`rolling_mean_std`): every window of ``n`` values spans at most two blocks of a
  fixed ``n``-grid. Each part is summed as deviations from one of its own values (the last value of
  the first block, the first value of the second), with per-block prefix / suffix sums, and the
  parts are combined exactly: ``sum((x - m)^2) = sum((x - r)^2) - 2 (m - r) sum(x - r) +
  k (m - r)^2``. Every term is of the size of the window's own range, so the result is as accurate
  as a two-pass computation (a few ulps of ``range^2``), in O(1) per bar and vectorised.
* Streaming (:class:`RollingMoments`): a Welford-style rolling update of the mean (kept as an
  offset from a recent value, so it does not drift at the scale of the price) and of the sum of
  squared deviations, re-synchronised exactly (two-pass over the window) at least every
  ``max(n, 64)`` bars and whenever the accumulated magnitude of the updates exceeds 64 times the
  current sum of squares (a window turning flat, a jump leaving it): a flat window gives exactly 0.
"""

from __future__ import annotations

import math

import numpy as np

NAN = math.nan
_SQRT = math.sqrt
_FSUM = math.fsum
#: Re-synchronise when the accumulated update magnitude exceeds this multiple of the sum of
#: squared deviations (bounds the relative error of the variance to about 1e-13).
_RESYNC_RATIO = 64.0
_RESYNC_MIN_STEPS = 64


class WinSum:
    """Sum of the last ``n`` values in TA-Lib's INT_SUM order (total of ``n - 1`` values, plus
    the new one, minus the oldest); NaN until ``n`` values were pushed."""

    __slots__ = ("buf", "count", "n", "pos", "total")

    def __init__(self, n: int) -> None:
        self.n = n
        self.buf = [0.0] * n
        self.pos = 0
        self.count = 0
        self.total = 0.0

    def push(self, x: float) -> float:
        """Add ``x``; the window sum, or NaN while fewer than ``n`` values were seen."""
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


def true_range(h: float, lo: float, pc: float) -> float:
    """Wilder's true range against the previous close ``pc`` (TA-Lib operation order)."""
    g = h - lo
    a = abs(pc - h)
    if a > g:
        g = a
    a = abs(pc - lo)
    if a > g:
        g = a
    return g


class Atr:
    """TA-Lib ATR: SMA of the first ``n`` true ranges (bars 1..n), then Wilder smoothing."""

    __slots__ = ("atr", "count", "n", "pc")

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.atr = 0.0
        self.pc = NAN

    def push(self, h: float, lo: float, c: float) -> float:
        """Add one bar; the ATR, or NaN during the first ``n`` bars."""
        n = self.n
        count = self.count
        if count == 0:
            self.count = 1
            self.pc = c
            return NAN
        tr = true_range(h, lo, self.pc)
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


class RollingMoments:
    """Mean and population standard deviation of the last ``n`` values, O(1) amortised per value
    and numerically stable (see the module docstring). ``push`` returns ``(mean, stddev)``, NaNs
    until ``n`` values were pushed."""

    __slots__ = ("acc", "buf", "count", "every", "m2", "n", "pos", "shift", "steps", "u")

    def __init__(self, n: int) -> None:
        self.n = n
        self.every = max(n, _RESYNC_MIN_STEPS)  # periodic exact resync
        self.buf = [0.0] * n
        self.pos = 0
        self.count = 0
        self.shift = 0.0  # the mean is shift + u; u stays small
        self.u = 0.0
        self.m2 = 0.0  # sum of squared deviations from the mean
        self.acc = 0.0  # accumulated magnitude of the updates since the last resync
        self.steps = 0

    def push(self, x: float) -> tuple[float, float]:
        """Add ``x``; ``(mean, stddev)`` of the window, or NaNs while it is not full."""
        buf = self.buf
        pos = self.pos
        old = buf[pos]
        buf[pos] = x
        pos += 1
        n = self.n
        self.pos = 0 if pos == n else pos
        if self.count < n:
            self.count += 1
            if self.count < n:
                return NAN, NAN
            self._resync(x)
        else:
            d = x - old
            if d != 0.0:
                shift = self.shift
                u = self.u
                nu = u + d / n
                a = (x - shift) - nu
                b = (old - shift) - u
                self.m2 += d * (a + b)
                self.acc += abs(d) * (abs(a) + abs(b) + abs(nu))
                self.u = nu
            self.steps += 1
            if self.steps >= self.every or self.acc > _RESYNC_RATIO * self.m2:
                self._resync(x)
        m2 = self.m2
        return self.shift + self.u, (_SQRT(m2 / n) if m2 > 0.0 else 0.0)

    def _resync(self, ref: float) -> None:
        """Exact two-pass recomputation over the window, deviations taken from ``ref``."""
        dev = [t - ref for t in self.buf]
        u = _FSUM(dev) / self.n
        self.shift = ref
        self.u = u
        self.m2 = _FSUM([(t - u) * (t - u) for t in dev])
        self.acc = 0.0
        self.steps = 0


#: Blocks per vectorised batch step (about 32k values: the temporaries stay in cache).
_CHUNK_VALUES = 32_768


def rolling_mean_std(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and population standard deviation over windows of ``n`` values (NaN for the
    first ``n - 1``), stable and vectorised (see the module docstring).

    The values are laid out as a grid of ``n``-blocks, transposed so that NumPy's inner loops run
    across blocks (rows of the grid are offsets within a block); the window starting at offset
    ``r`` of block ``k`` takes the suffix of block ``k`` from ``r`` and the first ``r`` values of
    block ``k + 1``.
    """
    size = len(x)
    mean = np.full(size, np.nan)
    sd = np.full(size, np.nan)
    if size < n:
        return mean, sd
    blocks = -(-size // n) + 1
    flat = np.empty(blocks * n)
    flat[:size] = x
    flat[size:] = x[-1]  # padding: finite, never part of a window
    grid = np.ascontiguousarray(flat.reshape(blocks, n).T)  # grid[r, k] = x[k * n + r]
    means = np.empty((n, blocks - 1))
    sds = np.empty((n, blocks - 1))
    step = max(1, _CHUNK_VALUES // n)
    for k0 in range(0, blocks - 1, step):
        k1 = min(k0 + step, blocks - 1)
        means[:, k0:k1], sds[:, k0:k1] = _window_moments(grid[:, k0:k1], grid[:, k0 + 1 : k1 + 1])
    count = size - n + 1
    mean[n - 1 :] = means.T.ravel()[:count]
    sd[n - 1 :] = sds.T.ravel()[:count]
    return mean, sd


def _window_moments(head: np.ndarray, tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and stddev of the windows starting in the blocks (columns) of ``head``, each made of
    a suffix of its block and a prefix of the next block (the same column of ``tail``)."""
    n = head.shape[0]
    cut = np.arange(n, dtype=np.float64)[:, None]  # values taken from the next block
    a = head[-1]  # reference of the suffix part: the last value of the block
    b = tail[0]  # reference of the prefix part: the first value of the next block
    dev = head - a
    s1 = np.cumsum(dev[::-1], axis=0)[::-1]  # suffix sums, inclusive
    dev *= dev
    s2 = np.cumsum(dev[::-1], axis=0)[::-1]
    dev = tail - b
    p1 = np.empty_like(dev)  # prefix sums, exclusive
    p2 = np.empty_like(dev)
    p1[0] = p2[0] = 0.0
    np.cumsum(dev[:-1], axis=0, out=p1[1:])
    dev *= dev
    np.cumsum(dev[:-1], axis=0, out=p2[1:])
    gap = b - a
    u = cut * gap  # mean - a
    u += s1
    u += p1
    u /= n
    w = u - gap  # mean - b
    m2 = u * s1  # sum((x - a - u)^2) = s2 - 2 u s1 + (n - cut) u^2 over the suffix part ...
    m2 *= -2.0
    m2 += s2
    t = u * u
    t *= n - cut
    m2 += t
    t = w * p1  # ... plus p2 - 2 w p1 + cut w^2 over the prefix part
    t *= -2.0
    t += p2
    m2 += t
    t = w * w
    t *= cut
    m2 += t
    np.maximum(m2, 0.0, out=m2)
    m2 /= n
    u += a
    return u, np.sqrt(m2, out=m2)
