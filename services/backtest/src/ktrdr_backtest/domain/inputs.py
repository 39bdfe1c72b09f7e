"""The engine's inputs: bars, and the decisions a model (or a rule) took at their closes.

Bars are the core's :class:`ktrdr_core.bars.Bars` (NumPy columns, UTC open times in int64
microseconds); :func:`check_bars` adds what a simulation needs of them. A model's output is a
signal per bar (SELL -1, HOLD 0, BUY 1) and optionally its class probabilities in the model's
order BUY, HOLD, SELL.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.decisions import Signal
from ktrdr_core.bars import Bars
from ktrdr_core.errors import ValidationError

PROBABILITY_TOLERANCE = 1e-3  # rows of probabilities must sum to 1 within this

# Column order of a model's class probabilities (KTRDR's networks: BUY=0, HOLD=1, SELL=2).
CLASS_ORDER: tuple[Signal, Signal, Signal] = (Signal.BUY, Signal.HOLD, Signal.SELL)


def _bad_bars(message: str, field: str) -> ValidationError:
    return ValidationError(codes.BAD_BARS, message, field=field)


def check_bars(bars: Bars, *, after_us: int | None = None) -> None:
    """Check that bars can be simulated (the core's ``Bars`` checks only the lengths).

    Raises
    ------
    ValidationError
        ``BACKTEST-003`` for times not strictly increasing or not after ``after_us`` (the
        previous batch's last bar), prices not finite and positive, or a high below its low.
    """
    ts = bars.timestamps_us
    if not len(ts):
        return
    if after_us is not None and ts[0] <= after_us:
        raise _bad_bars("A batch must start after the previous batch's last bar.", "timestamps_us")
    if len(ts) > 1 and not (np.diff(ts) > 0).all():
        raise _bad_bars("Bar timestamps must be strictly increasing.", "timestamps_us")
    for name in ("open", "high", "low", "close"):
        column = getattr(bars, name)
        if not (np.isfinite(column).all() and (column > 0).all()):
            raise _bad_bars(f"Column '{name}' holds a price that is not finite and > 0.", name)
    below = bars.high < bars.low
    if below.any():
        raise _bad_bars(f"Bar {int(np.argmax(below))} has a high below its low.", "high")


@dataclasses.dataclass(frozen=True, slots=True)
class ModelOutput:
    """Decisions taken at each bar's close.

    Parameters
    ----------
    signals
        int8 per bar: SELL -1, HOLD 0, BUY 1.
    probabilities
        Optional ``(bars, 3)`` class probabilities in the order BUY, HOLD, SELL; the confidence
        of a signal is its class's probability. Without them every signal has confidence 1.

    Raises
    ------
    ValidationError
        ``BACKTEST-004`` for signal values other than -1, 0, 1, or probabilities of the wrong
        shape, outside [0, 1] or whose rows do not sum to 1.
    """

    signals: np.ndarray
    probabilities: np.ndarray | None = None

    def __post_init__(self) -> None:
        signals = np.asarray(self.signals)
        if signals.ndim != 1 or not np.isin(signals, (-1, 0, 1)).all():
            raise ValidationError(
                codes.BAD_MODEL_OUTPUT,
                "Signals must be a one-dimensional series of -1 (SELL), 0 (HOLD) and 1 (BUY).",
                field="signals",
            )
        object.__setattr__(self, "signals", signals.astype(np.int8, copy=False))
        if self.probabilities is not None:
            probs = np.ascontiguousarray(self.probabilities, dtype=np.float64)
            if probs.shape != (len(signals), 3):
                raise ValidationError(
                    codes.BAD_MODEL_OUTPUT,
                    f"Probabilities must have shape ({len(signals)}, 3) (BUY, HOLD, SELL), "
                    f"not {probs.shape}.",
                    field="probabilities",
                )
            if not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
                raise ValidationError(
                    codes.BAD_MODEL_OUTPUT,
                    "Probabilities must be finite and in [0, 1].",
                    field="probabilities",
                )
            if (np.abs(probs.sum(axis=1) - 1.0) > PROBABILITY_TOLERANCE).any():
                raise ValidationError(
                    codes.BAD_MODEL_OUTPUT,
                    "Each row of probabilities must sum to 1 (BUY + HOLD + SELL).",
                    field="probabilities",
                )
            object.__setattr__(self, "probabilities", probs)

    def __len__(self) -> int:
        return len(self.signals)

    @classmethod
    def from_probabilities(cls, probabilities: np.ndarray) -> ModelOutput:
        """The most probable class of each row (ties: BUY before HOLD before SELL)."""
        probs = np.asarray(probabilities, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[1] != 3:
            raise ValidationError(
                codes.BAD_MODEL_OUTPUT,
                f"Probabilities must have shape (bars, 3), not {probs.shape}.",
                field="probabilities",
            )
        lookup = np.array([int(s) for s in CLASS_ORDER], dtype=np.int8)
        return cls(lookup[np.argmax(probs, axis=1)], probs)

    def confidence(self) -> np.ndarray:
        """Probability of each bar's signal (1.0 without probabilities; HOLD's for HOLD)."""
        if self.probabilities is None:
            return np.ones(len(self.signals))
        column = 1 - self.signals.astype(np.int64)  # BUY -> 0, HOLD -> 1, SELL -> 2
        return self.probabilities[np.arange(len(self.signals)), column]

    def probabilities_at(self, i: int) -> tuple[float, float, float] | None:
        if self.probabilities is None:
            return None
        buy, hold, sell = self.probabilities[i].tolist()
        return (buy, hold, sell)

    def check_length(self, bars: int) -> None:
        """Raise ``BACKTEST-004`` unless there is one decision per bar."""
        if len(self.signals) != bars:
            raise ValidationError(
                codes.BAD_MODEL_OUTPUT,
                f"{len(self.signals)} decisions for {bars} bars; give one per bar.",
                field="signals",
            )

    def slice(self, start: int, stop: int) -> ModelOutput:
        probs = None if self.probabilities is None else self.probabilities[start:stop]
        return ModelOutput(self.signals[start:stop], probs)


def crossover_signals(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """BUY where ``fast`` crosses above ``slow``, SELL where it crosses below, else HOLD.

    Strict, as backtesting.py's ``crossover``: ``fast[t-1] < slow[t-1] and fast[t] > slow[t]``;
    comparisons with NaN (warm-up) are false.
    """
    f = np.asarray(fast, dtype=np.float64)
    s = np.asarray(slow, dtype=np.float64)
    out = np.zeros(len(f), dtype=np.int8)
    with np.errstate(invalid="ignore"):
        up = (f[:-1] < s[:-1]) & (f[1:] > s[1:])
        down = (f[:-1] > s[:-1]) & (f[1:] < s[1:])
    out[1:][up] = 1
    out[1:][down] = -1
    return out
