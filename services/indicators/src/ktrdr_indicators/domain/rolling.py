"""Rolling building blocks of the hand-written indicators (streaming state and batch kernels).

The standard deviation is computed stably, not as "mean of squares minus squared mean": on FX
prices (stddev / price about 3e-4) that difference loses about 8 significant digits.

* Batch (:func:`rolling_mean_std`): every window of ``n`` values spans at most two blocks of a
  fixed ``n``-grid and contains the last value ``a`` of the first block. Per-block suffix / prefix
  sums of ``x - a`` and ``(x - a)^2`` give ``sum((x - m)^2) = sum((x - a)^2) - n (m - a)^2`` with
  every term of the size of the window's own range (``a`` is one of its values), so the result is
  as accurate as a two-pass computation (a few ulps of ``range^2``), in O(1) per bar and
  vectorised.
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


def ratio_or(num: np.ndarray, den: np.ndarray, default: float) -> np.ndarray:
    """``num / den`` where ``den != 0`` (NaN stays NaN), ``default`` where it is 0: the
    vectorised ``num / den if den != 0.0 else default``."""
    out = np.full(len(num), default)
    np.divide(num, den, out=out, where=den != 0.0)
    return out


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


#: Values per vectorised batch step (the temporaries stay in cache), at least 64 blocks.
_CHUNK_VALUES = 32_768
_MIN_CHUNK_BLOCKS = 64
#: Longest block summed row by row (longer blocks use ``np.cumsum`` down the columns).
_ROW_LOOP_MAX = 64


def rolling_mean_std(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and population standard deviation over windows of ``n`` values (NaN for the
    first ``n - 1``), stable and vectorised (see the module docstring).

    The values are cut into ``n``-blocks; a chunk of blocks at a time is transposed (in cache) so
    that NumPy's inner loops run across blocks (rows are offsets within a block); the window
    starting at offset ``r`` of block ``k`` takes the suffix of block ``k`` from ``r`` and the
    first ``r`` values of block ``k + 1``.
    """
    size = len(x)
    if size < n:
        return np.full(size, np.nan), np.full(size, np.nan)
    blocks = -(-(size - n + 1) // n)  # blocks holding window starts
    flat = np.empty((blocks + 1) * n)
    flat[:size] = x
    flat[size:] = x[-1]  # padding: finite, never part of a reported window
    mean = np.empty(blocks * n + n - 1)
    sd = np.empty(blocks * n + n - 1)
    mean[: n - 1] = sd[: n - 1] = np.nan
    step = max(_MIN_CHUNK_BLOCKS, _CHUNK_VALUES // n)
    for k0 in range(0, blocks, step):
        k1 = min(k0 + step, blocks)
        grid = np.ascontiguousarray(flat[k0 * n : (k1 + 1) * n].reshape(k1 - k0 + 1, n).T)
        m, s = _window_moments(grid[:, :-1], grid[:, 1:])
        out = slice(k0 * n + n - 1, k1 * n + n - 1)  # windows starting at k0 * n ...
        mean[out].reshape(k1 - k0, n).T[...] = m
        sd[out].reshape(k1 - k0, n).T[...] = s
    return mean[:size], sd[:size]


def _window_moments(head: np.ndarray, tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and stddev of the windows starting in the blocks (columns) of ``head``, each made of
    a suffix of its block and a prefix of the next block (the same column of ``tail``).

    Deviations are taken from ``a``, the last value of the block: it belongs to every window
    starting in the block, so ``|x - a|`` never exceeds the window's range and
    ``sum((x - m)^2) = sum((x - a)^2) - n (m - a)^2`` cancels no more than the window's own
    ``range^2 / variance`` (at most about ``4 n``) allows.
    """
    n = head.shape[0]
    a = head[-1]
    dev = head - a
    s1 = _running(dev, reverse=True)  # suffix sums of the block, inclusive
    dev *= dev
    s2 = _running(dev, reverse=True)
    dev = tail - a
    p1 = _running(dev, reverse=False)  # prefix sums of the next block, exclusive
    dev *= dev
    p2 = _running(dev, reverse=False)
    u = s1 + p1  # n (m - a)
    u /= n  # m - a
    m2 = s2 + p2  # sum((x - a)^2)
    t = u * u
    t *= n
    m2 -= t
    np.maximum(m2, 0.0, out=m2)
    m2 /= n
    u += a
    return u, np.sqrt(m2, out=m2)


def _running(rows: np.ndarray, *, reverse: bool) -> np.ndarray:
    """Running sums down the rows: inclusive from the last row up (``reverse``) or exclusive
    from the first row down. For short blocks one vectorised add per row (NumPy's ``cumsum``
    along axis 0 runs a short inner loop per column, several times slower); for long blocks
    ``cumsum`` (its inner loops are then long and the per-row Python calls would dominate)."""
    out = np.empty_like(rows)
    n = len(rows)
    if reverse:
        if n > _ROW_LOOP_MAX:
            np.cumsum(rows[::-1], axis=0, out=out[::-1])
            return out
        out[-1] = rows[-1]
        for r in range(n - 2, -1, -1):
            np.add(out[r + 1], rows[r], out=out[r])
        return out
    out[0] = 0.0
    if n > _ROW_LOOP_MAX:
        np.cumsum(rows[:-1], axis=0, out=out[1:])
        return out
    for r in range(1, n):
        np.add(out[r - 1], rows[r - 1], out=out[r])
    return out
