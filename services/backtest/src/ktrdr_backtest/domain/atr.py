"""Wilder's average true range, fed batch by batch (for ATR-based stops and targets).

Same convention as TA-Lib's ``ATR``: the first bar has no true range (no previous close), the
first value is the mean of the true ranges of bars ``1..period`` (at index ``period``), then
``atr = (atr * (period - 1) + tr) / period``. Values before that are NaN.
"""

from __future__ import annotations

import math

import numpy as np


class WilderAtr:
    """Streaming ATR whose values do not depend on how the bars are split into batches.

    Parameters
    ----------
    period
        Smoothing period, >= 1.
    """

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"ATR period must be >= 1, got {period}")
        self.period = period
        self.reset()

    def reset(self) -> None:
        self._prev_close = math.nan
        self._seen = 0  # true ranges accumulated for the seed
        self._sum = 0.0
        self._value = math.nan

    @property
    def value(self) -> float:
        return self._value

    @property
    def initialized(self) -> bool:
        return not math.isnan(self._value)

    def update(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
        """ATR after each bar of the batch (NaN during warm-up)."""
        n = len(close)
        prev = np.empty(n)
        prev[0] = self._prev_close
        prev[1:] = close[:-1]
        tr = np.maximum(high - low, np.maximum(np.abs(high - prev), np.abs(low - prev)))
        out = np.full(n, np.nan)
        period = self.period
        value, seen, total = self._value, self._seen, self._sum
        for i, t in enumerate(tr.tolist()):
            if math.isnan(t):  # the very first bar: no previous close
                continue
            if seen < period:
                seen += 1
                total += t
                if seen == period:
                    value = total / period
            else:
                value = (value * (period - 1) + t) / period
            out[i] = value
        self._value, self._seen, self._sum = value, seen, total
        if n:
            self._prev_close = float(close[-1])
        return out

    def __repr__(self) -> str:
        return f"WilderAtr({self.period})"
