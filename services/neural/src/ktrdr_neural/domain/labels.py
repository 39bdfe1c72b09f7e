"""BUY/HOLD/SELL labels that say exactly which future bars they read.

Every labeller returns, per bar ``t``, the class (``BUY=0``, ``HOLD=1``, ``SELL=2``, ``-1`` when
the data ends before the label is decided) and ``end[t]``: the index of the last bar the label
depends on. ``end`` is what the purged split uses, so no training sample's label window reaches
into a later split.

- **ZigZag** (``zigzag_threshold``, ``label_lookahead``): the direction of the next
  threshold-sized move of the close, seen from bar ``t``: BUY when the close first rises by the
  threshold (relative to ``close[t]``) within ``label_lookahead`` bars, SELL when it first falls
  by it, HOLD when neither happens. Unlike the earlier KTRDR's segment labels (every bar between
  two hindsight pivots), the window is bounded and known, so it can be purged.
- **Triple barrier** (López de Prado): take-profit at ``close[t] + take_profit_atr * ATR[t]``,
  stop-loss at ``close[t] - stop_loss_atr * ATR[t]`` (Wilder's ATR as TA-Lib computes it, known
  at ``t``), checked against each later bar's high and low for ``max_holding_bars`` bars. The
  first barrier touched gives BUY or SELL; both in the same bar counts as the stop (the
  conservative reading); none gives HOLD at the vertical barrier.
- **Forward return** (``horizon_bars``, ``threshold``): ``r = close[t+h] / close[t] - 1``; BUY
  above ``threshold``, SELL below ``-threshold``, HOLD otherwise.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ktrdr_core.strategy.training import LabelConfig
from ktrdr_neural.domain.features import PriceBars

BUY, HOLD, SELL = 0, 1, 2
CLASS_NAMES: tuple[str, str, str] = ("BUY", "HOLD", "SELL")
UNKNOWN = -1
# Bound on the (rows x horizon) block examined at once, so memory stays small for long horizons.
_BLOCK_ELEMENTS = 2_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class Labels:
    """``classes[t]`` in {-1, 0, 1, 2} and ``end[t]``, the last bar index it depends on."""

    classes: np.ndarray
    end: np.ndarray

    @property
    def known(self) -> np.ndarray:
        return self.classes >= 0


def wilder_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Average true range as TA-Lib's ATR: NaN for the first ``period`` bars, then Wilder's
    smoothing seeded with the mean of the first ``period`` true ranges."""
    n = len(close)
    out = np.full(n, np.nan)
    if n <= period:
        return out
    prev = close[:-1]
    tr = np.maximum.reduce([high[1:] - low[1:], np.abs(high[1:] - prev), np.abs(low[1:] - prev)])
    value = float(tr[:period].mean())
    out[period] = value
    alpha = 1.0 / period
    for i in range(period, len(tr)):
        value += (tr[i] - value) * alpha
        out[i + 1] = value
    return out


def _first_touch(
    up_src: np.ndarray, down_src: np.ndarray, upper: np.ndarray, lower: np.ndarray, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per bar t: the first k in 1..horizon with ``up_src[t+k] >= upper[t]`` (and
    ``down_src[t+k] <= lower[t]``); ``horizon + 1`` when there is none (NaN never touches)."""
    n = len(upper)
    pad = np.full(horizon, np.nan)
    ups = np.concatenate([up_src, pad])
    downs = np.concatenate([down_src, pad])
    first_up = np.full(n, horizon + 1, dtype=np.int64)
    first_down = np.full(n, horizon + 1, dtype=np.int64)
    block = max(1, _BLOCK_ELEMENTS // horizon)
    with np.errstate(invalid="ignore"):
        for s in range(0, n, block):
            e = min(n, s + block)
            hit_up = sliding_window_view(ups[s + 1 : e + horizon], horizon) >= upper[s:e, None]
            hit_dn = sliding_window_view(downs[s + 1 : e + horizon], horizon) <= lower[s:e, None]
            first_up[s:e] = np.where(hit_up.any(axis=1), hit_up.argmax(axis=1) + 1, horizon + 1)
            first_down[s:e] = np.where(hit_dn.any(axis=1), hit_dn.argmax(axis=1) + 1, horizon + 1)
    return first_up, first_down


def _barrier_labels(
    first_up: np.ndarray, first_down: np.ndarray, horizon: int, valid: np.ndarray
) -> Labels:
    n = len(first_up)
    t = np.arange(n)
    classes = np.full(n, UNKNOWN, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    up_first = first_up < first_down
    down_first = (first_down <= first_up) & (first_down <= horizon)  # a tie is the stop
    complete = t + horizon <= n - 1
    neither = (first_up > horizon) & (first_down > horizon) & complete
    classes[up_first] = BUY
    end[up_first] = (t + first_up)[up_first]
    classes[down_first] = SELL
    end[down_first] = (t + first_down)[down_first]
    classes[neither] = HOLD
    end[neither] = (t + horizon)[neither]
    classes[~valid] = UNKNOWN
    end[~valid] = -1
    return Labels(classes, end)


def zigzag_labels(close: np.ndarray, *, threshold: float, lookahead: int) -> Labels:
    """See the module docstring; ``threshold`` is a fraction (0.01 = 1 %)."""
    c = np.asarray(close, dtype=np.float64)
    up, down = _first_touch(c, c, c * (1 + threshold), c * (1 - threshold), lookahead)
    return _barrier_labels(up, down, lookahead, np.isfinite(c))


def triple_barrier_labels(
    bars: PriceBars,
    *,
    take_profit_atr: float,
    stop_loss_atr: float,
    max_holding_bars: int,
    atr_period: int,
) -> Labels:
    """See the module docstring; barriers are ATR multiples, bars without ATR are unknown."""
    atr = wilder_atr(bars.high, bars.low, bars.close, atr_period)
    upper = bars.close + take_profit_atr * atr
    lower = bars.close - stop_loss_atr * atr
    up, down = _first_touch(bars.high, bars.low, upper, lower, max_holding_bars)
    return _barrier_labels(up, down, max_holding_bars, np.isfinite(atr))


def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    """``close[t+h] / close[t] - 1``; NaN where ``t + h`` is past the data."""
    c = np.asarray(close, dtype=np.float64)
    out = np.full(len(c), np.nan)
    if len(c) > horizon:
        out[:-horizon] = c[horizon:] / c[:-horizon] - 1.0
    return out


def forward_return_labels(close: np.ndarray, *, horizon: int, threshold: float) -> Labels:
    """See the module docstring."""
    r = forward_returns(close, horizon)
    known = np.isfinite(r)
    classes = np.where(r > threshold, BUY, np.where(r < -threshold, SELL, HOLD)).astype(np.int64)
    classes[~known] = UNKNOWN
    end = np.where(known, np.arange(len(r)) + horizon, -1).astype(np.int64)
    return Labels(classes, end)


def make_labels(bars: PriceBars, config: LabelConfig) -> Labels:
    """Labels of ``bars`` as ``config`` asks."""
    if config.source == "zigzag":
        return zigzag_labels(
            bars.close, threshold=config.zigzag_threshold, lookahead=config.label_lookahead
        )
    if config.source == "triple_barrier":
        return triple_barrier_labels(
            bars,
            take_profit_atr=config.take_profit_atr,
            stop_loss_atr=config.stop_loss_atr,
            max_holding_bars=config.max_holding_bars,
            atr_period=config.atr_period,
        )
    return forward_return_labels(
        bars.close, horizon=config.horizon_bars, threshold=config.threshold
    )
