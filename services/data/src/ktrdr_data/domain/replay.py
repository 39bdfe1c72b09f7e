"""Replay of stored bars "as if live": when each batch of a paced stream is due."""

from __future__ import annotations

import numpy as np


def replay_due_seconds(close_us: np.ndarray, batch_size: int, speed: float) -> np.ndarray:
    """Seconds after the stream starts at which each batch may be sent.

    A batch is due once its last bar would have closed, with history compressed by ``speed``
    (1.0 = real time, 60 = a minute of history per second). The first bar's close is time 0.

    Parameters
    ----------
    close_us
        Close times of the bars (open time + bar length), microseconds, ascending.
    batch_size
        Bars per message (>= 1).
    speed
        Replay factor (> 0).
    """
    n = len(close_us)
    if n == 0:
        return np.empty(0)
    last = np.minimum(np.arange(batch_size, n + batch_size, batch_size), n) - 1
    return (close_us[last] - close_us[0]) / 1e6 / speed
