"""Decisions: a model's output (or a plain signal series) becomes orders.

A strategy's ``decisions:`` mapping configures the filters, applied in this order at each bar's
close:

1. ``confidence_threshold``: a BUY or SELL whose class probability is below it is a HOLD
   (a plain signal series has confidence 1);
2. position awareness: a signal that would not change the position (BUY while long, SELL while
   short, SELL from flat when shorting is not allowed) is ignored and does not count as a signal;
3. ``min_bars_between_signals``: a signal acted on at bar ``t`` blocks signals until bar
   ``t + N`` (0 and 1 both allow consecutive bars);
4. ``short_selling``: what a SELL (and a BUY while short) does — see :class:`ShortSelling`;
5. optional ``stop_loss`` and ``take_profit``, in ATR multiples or in percent of the entry
   price, fixed when the position opens.

.. code-block:: yaml

    decisions:
      output_format: classification     # the only format the engine takes today
      confidence_threshold: 0.6
      min_bars_between_signals: 4       # or filters: {min_signal_separation: 4}  (hours, v3)
      position_awareness: true
      short_selling: from_flat          # never | from_flat | reverse
      stop_loss: {atr: 2.0, atr_period: 14}
      take_profit: {percent: 3.0}

The original KTRDR keys ``allow_short_from_flat: true`` (= ``short_selling: from_flat``) and
``filters.min_signal_separation`` (hours, converted to bars with the strategy's base timeframe)
are accepted.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.checks import Problems
from ktrdr_backtest.domain.errors import ConfigProblems
from ktrdr_core.errors import suggest

# Bounds (documented, checked): a separation longer than this many bars is a typo.
MAX_MIN_BARS_BETWEEN_SIGNALS = 1_000_000
MAX_ATR_PERIOD = 1_000
MAX_ATR_MULTIPLE = 100.0

DECISION_KEYS = (
    "output_format",
    "confidence_threshold",
    "min_bars_between_signals",
    "position_awareness",
    "short_selling",
    "allow_short_from_flat",
    "stop_loss",
    "take_profit",
    "filters",
)
FILTER_KEYS = ("min_signal_separation",)
EXIT_RULE_KEYS = ("atr", "percent", "atr_period")
OUTPUT_FORMATS = ("classification",)


class Signal(enum.IntEnum):
    """A decision at one bar; the class order of a model's output is BUY, HOLD, SELL."""

    SELL = -1
    HOLD = 0
    BUY = 1


class ShortSelling(enum.StrEnum):
    """What SELL does (BUY mirrors it while short).

    ``never``: SELL closes a long; from flat it is ignored (long only).
    ``from_flat``: SELL closes a long; from flat it opens a short; BUY covers a short.
    ``reverse``: SELL closes a long and opens a short at the same fill (stop and reverse);
    from flat it opens a short; BUY while short covers and opens a long.
    """

    NEVER = "never"
    FROM_FLAT = "from_flat"
    REVERSE = "reverse"


class ExitUnit(enum.StrEnum):
    ATR = "atr"
    PERCENT = "percent"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ExitRule:
    """A stop-loss or take-profit distance from the entry price.

    Parameters
    ----------
    unit
        ``atr``: ``value`` times Wilder's ATR(``atr_period``) at the signal bar;
        ``percent``: ``value`` percent of the quoted entry price.
    value
        ATR multiple in (0, 100], or percent in (0, 100).
    atr_period
        ATR period in [1, 1000] (used with ``unit=atr``).
    """

    unit: ExitUnit
    value: float
    atr_period: int = 14

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_DECISIONS)
        if self.unit is ExitUnit.ATR:
            problems.check_number("atr", self.value, low=0, high=MAX_ATR_MULTIPLE, low_open=True)
        else:
            problems.check_number("percent", self.value, low=0, high=100, low_open=True,
                                  high_open=True)  # fmt: skip
        if isinstance(self.atr_period, bool) or not isinstance(self.atr_period, int):
            problems.add("atr_period", f"must be an integer, not {self.atr_period!r}.")
        elif not 1 <= self.atr_period <= MAX_ATR_PERIOD:
            problems.add("atr_period", f"{self.atr_period} is out of range [1, {MAX_ATR_PERIOD}].")
        problems.raise_if_any("exit rule")

    def distance(self, quote: float, atr: float) -> float:
        """The price distance for an entry quoted at ``quote`` (NaN while ATR warms up)."""
        if self.unit is ExitUnit.ATR:
            return self.value * atr
        return quote * self.value / 100.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DecisionConfig:
    """How signals become orders (see the module docstring for the order of the filters).

    Parameters
    ----------
    confidence_threshold
        In [0, 1]; a BUY/SELL whose probability is below it is a HOLD.
    min_bars_between_signals
        In [0, 1,000,000]; bars after an acted signal before the next may act.
    position_awareness
        When false, a signal that cannot change the position still counts as a signal for
        ``min_bars_between_signals`` (the position never grows: one position at a time).
    short_selling
        See :class:`ShortSelling`.
    stop_loss, take_profit
        Optional exit rules, fixed at entry.
    """

    confidence_threshold: float = 0.5
    min_bars_between_signals: int = 0
    position_awareness: bool = True
    short_selling: ShortSelling = ShortSelling.NEVER
    stop_loss: ExitRule | None = None
    take_profit: ExitRule | None = None

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_DECISIONS)
        problems.check_number("confidence_threshold", self.confidence_threshold, low=0, high=1)
        bars = self.min_bars_between_signals
        if isinstance(bars, bool) or not isinstance(bars, int):
            problems.add("min_bars_between_signals", f"must be an integer, not {bars!r}.")
        elif not 0 <= bars <= MAX_MIN_BARS_BETWEEN_SIGNALS:
            problems.add(
                "min_bars_between_signals",
                f"{bars} is out of range [0, {MAX_MIN_BARS_BETWEEN_SIGNALS}].",
            )
        if not isinstance(self.position_awareness, bool):
            problems.add("position_awareness", "must be true or false.")
        if not isinstance(self.short_selling, ShortSelling):
            problems.add("short_selling", f"must be one of {', '.join(ShortSelling)}.")
        problems.raise_if_any("decisions")

    @property
    def atr_periods(self) -> tuple[int, ...]:
        """The ATR periods the exit rules need (empty when none uses ATR)."""
        rules = (self.stop_loss, self.take_profit)
        return tuple(sorted({r.atr_period for r in rules if r and r.unit is ExitUnit.ATR}))


@dataclasses.dataclass(frozen=True, slots=True)
class Transition:
    """What one signal does to the position: close it, open a side, or nothing (``noop``)."""

    close: bool
    open_side: int  # +1 long, -1 short, 0 none
    noop: str = ""  # why nothing happens: "redundant" or "short_blocked"


_NOOP_REDUNDANT = Transition(False, 0, "redundant")
_NOOP_BLOCKED = Transition(False, 0, "short_blocked")


def transition(signal: int, side: int, policy: ShortSelling) -> Transition:
    """The position change a BUY (+1) or SELL (-1) makes from ``side`` (+1, 0, -1)."""
    if signal == side:
        return _NOOP_REDUNDANT
    if side == 0:
        if signal < 0 and policy is ShortSelling.NEVER:
            return _NOOP_BLOCKED
        return Transition(False, signal)
    # Opposite signal: close, and open the other side only when reversing.
    return Transition(True, signal if policy is ShortSelling.REVERSE else 0)


def candidate_mask(signals: np.ndarray, confidence: np.ndarray, threshold: float) -> np.ndarray:
    """Bars whose signal is BUY or SELL with a confidence at or above the threshold."""
    return (signals != 0) & (confidence >= threshold)


def parse_decisions(raw: Mapping[str, Any] | None, *, bar_seconds: int) -> DecisionConfig:
    """Build a :class:`DecisionConfig` from a strategy's ``decisions:`` mapping.

    Parameters
    ----------
    raw
        The mapping (``None`` or empty gives the defaults).
    bar_seconds
        Length of the strategy's base bar, to convert ``filters.min_signal_separation`` hours.

    Raises
    ------
    ConfigProblems
        ``BACKTEST-001`` listing every problem, each with its field and suggestions.
    """
    problems = Problems(codes.BAD_DECISIONS, "decisions")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problems.add("", f"must be a mapping, not {type(raw).__name__}.")
        problems.raise_if_any("decisions")
    problems.unknown_keys(raw, DECISION_KEYS, "")
    kwargs: dict[str, Any] = {}
    _parse_output_format(raw, problems)
    if "confidence_threshold" in raw:
        kwargs["confidence_threshold"] = raw["confidence_threshold"]
    if "position_awareness" in raw:
        kwargs["position_awareness"] = raw["position_awareness"]
    separation = _parse_separation(raw, problems, bar_seconds=bar_seconds)
    if separation is not None:
        kwargs["min_bars_between_signals"] = separation
    short = _parse_short_selling(raw, problems)
    if short is not None:
        kwargs["short_selling"] = short
    for key in ("stop_loss", "take_profit"):
        if raw.get(key) is not None:
            rule = _parse_exit_rule(raw[key], problems, key)
            if rule is not None:
                kwargs[key] = rule
    config: DecisionConfig | None = None
    try:
        config = DecisionConfig(**kwargs)
    except ConfigProblems as exc:
        problems.adopt(exc)
    problems.raise_if_any("decisions")
    assert config is not None
    return config


def _parse_output_format(raw: Mapping[str, Any], problems: Problems) -> None:
    value = raw.get("output_format", "classification")
    if value not in OUTPUT_FORMATS:
        problems.add(
            "output_format",
            f"'{value}' is not supported by the decision engine; use classification "
            "(BUY/HOLD/SELL probabilities).",
            suggestions=[f for f in OUTPUT_FORMATS if str(value).lower() == f[:4]],
        )


def _parse_separation(
    raw: Mapping[str, Any], problems: Problems, *, bar_seconds: int
) -> int | None:
    bars = raw.get("min_bars_between_signals")
    filters = raw.get("filters")
    if filters is None:
        return bars if bars is not None else None
    if not isinstance(filters, Mapping):
        problems.add("filters", "must be a mapping such as {min_signal_separation: 4}.")
        return bars
    problems.unknown_keys(filters, FILTER_KEYS, "filters")
    hours = filters.get("min_signal_separation")
    if hours is None:
        return bars
    if bars is not None:
        problems.add(
            "filters.min_signal_separation",
            "set either min_bars_between_signals (bars) or filters.min_signal_separation "
            "(hours), not both.",
        )
        return bars
    if not problems.check_number("filters.min_signal_separation", hours, low=0):
        return None
    if bar_seconds <= 0:
        raise ValueError("bar_seconds must be > 0")
    return math.ceil(float(hours) * 3600 / bar_seconds)


def _parse_short_selling(raw: Mapping[str, Any], problems: Problems) -> ShortSelling | None:
    value = raw.get("short_selling")
    legacy = raw.get("allow_short_from_flat")
    if legacy is not None and not isinstance(legacy, bool):
        problems.add("allow_short_from_flat", "must be true or false.")
        legacy = None
    if value is None:
        if legacy is None:
            return None
        return ShortSelling.FROM_FLAT if legacy else ShortSelling.NEVER
    try:
        policy = ShortSelling(value)
    except ValueError:
        problems.add(
            "short_selling",
            f"unknown policy '{value}'; use one of {', '.join(ShortSelling)}.",
            suggestions=suggest(str(value), [p.value for p in ShortSelling]),
        )
        return None
    if legacy is not None and legacy != (policy is not ShortSelling.NEVER):
        problems.add(
            "allow_short_from_flat",
            f"contradicts short_selling: {policy.value}; keep only short_selling.",
        )
    return policy


def _parse_exit_rule(raw: object, problems: Problems, key: str) -> ExitRule | None:
    if not isinstance(raw, Mapping):
        problems.add(key, "must be a mapping such as {atr: 2.0} or {percent: 1.5}.")
        return None
    problems.unknown_keys(raw, EXIT_RULE_KEYS, key)
    units = [u for u in ExitUnit if u.value in raw]
    if len(units) != 1:
        problems.add(key, "set exactly one of 'atr' (ATR multiple) or 'percent'.")
        return None
    unit = units[0]
    if "atr_period" in raw and unit is not ExitUnit.ATR:
        problems.add(f"{key}.atr_period", "is only used with 'atr'.")
    kwargs: dict[str, Any] = {"unit": unit, "value": raw[unit.value]}
    if "atr_period" in raw:
        kwargs["atr_period"] = raw["atr_period"]
    try:
        return ExitRule(**kwargs)
    except ConfigProblems as exc:
        problems.adopt(exc, key)
        return None
