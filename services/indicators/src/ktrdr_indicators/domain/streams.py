"""The streaming contract every indicator follows, and the per-bar functions behind ``update``.

Contract (nautilus_trader style)
--------------------------------
A streaming object is constructed with its parameters as keyword arguments, validated on
construction exactly like :func:`~ktrdr_indicators.domain.catalogue.create` (a misspelt
parameter is ``IND-002`` with "did you mean", ``period=0`` is ``IND-004`` naming the allowed
range), and offers

* ``update(open, high, low, close, volume) -> tuple[float, ...]`` - feed one bar, get one value
  per output (declared order). All five prices are always passed; only the indicator's inputs
  are read.
* ``value`` (primary output), ``values`` (all outputs), ``initialized``, ``reset()``,
  ``repr()`` -> ``name(param=value, ...)``.

Warm-up: until ``initialized`` is True every output is NaN - never a partial value.

Invalid bars: if any input the indicator reads is NaN or +-inf, ``update`` returns NaNs for that
bar and leaves the state untouched (``values`` still shows the last valid bar); the next valid bar
continues exactly as if the invalid bar had never been seen. Batch mode does the same (it
computes on the valid rows only and scatters NaN into the invalid ones).

``update`` is chosen per input set and ``source``: the finiteness check reads exactly the columns
the indicator reads (``x - x == 0.0`` is False for NaN and +-inf). The common input sets with
``close`` as the source have hand-written functions (one Python call plus the indicator's own
step); any other combination, and a derived ``source`` (``hl2`` ...), goes through a closure over
a check and the source's function. No source code is generated or compiled at run time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from itertools import chain
from types import MethodType
from typing import Any, ClassVar

import numpy as np

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain.metadata import SOURCE_SERIES, IndicatorInfo, Params

NAN = math.nan
#: Position of each bar column in the ``(o, h, lo, c, v)`` arguments of ``update``.
POSITION = {"open": 0, "high": 1, "low": 2, "close": 3, "volume": 4}
UpdateFn = Callable[[float, float, float, float, float], tuple[float, ...]]
#: A function of one bar's ``(o, h, lo, c, v)`` (floats, or arrays in batch mode).
BarFn = Callable[[Any, Any, Any, Any, Any], Any]


def read_columns(inputs: Sequence[str], source: str) -> tuple[str, ...]:
    """The bar columns an indicator with ``inputs`` reads when ``close`` means ``source``."""
    if source == "close" or "close" not in inputs:
        return tuple(inputs)
    columns, _ = SOURCE_SERIES[source]
    return tuple(dict.fromkeys([*(f for f in inputs if f != "close"), *columns]))


def source_value(inputs: Sequence[str], source: str) -> BarFn | None:
    """The function of ``(o, h, lo, c, v)`` giving what ``close`` stands for, ``None`` when that
    is the close itself (or the indicator does not read ``close``)."""
    if source == "close" or "close" not in inputs:
        return None
    return SOURCE_SERIES[source][1]


def _finite_c(o: float, h: float, lo: float, c: float, v: float) -> bool:
    return c - c == 0.0


def _finite_hl(o: float, h: float, lo: float, c: float, v: float) -> bool:
    return h - h == 0.0 and lo - lo == 0.0


def _finite_hlc(o: float, h: float, lo: float, c: float, v: float) -> bool:
    return h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0


def _finite_hlcv(o: float, h: float, lo: float, c: float, v: float) -> bool:
    return h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0 and v - v == 0.0


def _finite_ohlcv(o: float, h: float, lo: float, c: float, v: float) -> bool:
    return o - o == 0.0 and h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0 and v - v == 0.0


_FINITE: dict[frozenset[str], BarFn] = {
    frozenset({"close"}): _finite_c,
    frozenset({"high", "low"}): _finite_hl,
    frozenset({"high", "low", "close"}): _finite_hlc,
    frozenset({"high", "low", "close", "volume"}): _finite_hlcv,
    frozenset(POSITION): _finite_ohlcv,
}


def finite_check(columns: Sequence[str]) -> BarFn:
    """``check(o, h, lo, c, v)``: ``True`` exactly when every one of ``columns`` is finite."""
    known = _FINITE.get(frozenset(columns))
    if known is not None:
        return known
    positions = tuple(POSITION[f] for f in columns)

    def check(o: float, h: float, lo: float, c: float, v: float) -> bool:
        bar = (o, h, lo, c, v)
        for i in positions:
            x = bar[i]
            if x - x != 0.0:
                return False
        return True

    return check


def source_series(bars: Bars, source: str) -> np.ndarray:
    """The price series ``source`` of ``bars`` (``hl2`` ...), with the same IEEE operations as
    the per-bar path."""
    if source == "close":
        return bars.close
    value = SOURCE_SERIES[source][1]
    series = value(bars.open, bars.high, bars.low, bars.close, bars.volume)
    return np.asarray(series, dtype=np.float64)


def all_finite(values: np.ndarray) -> bool:
    """True when every value is finite; one pass in the common case (a NaN or +-inf makes the
    sum non-finite; a sum that merely overflowed is checked value by value)."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, an overflowing sum
        total = np.add.reduce(values)
    return bool(np.isfinite(total)) or bool(np.isfinite(values).all())


def finite_list(values: list[float]) -> bool:
    """True when every value is finite (``sum`` in C first; exact check if that overflowed)."""
    total = sum(values)
    return total - total == 0.0 or all(x - x == 0.0 for x in values)


def bar_rows(bars: Bars) -> list[tuple[float, float, float, float, float]]:
    """The bars as ``(open, high, low, close, volume)`` tuples of Python floats."""
    cols = (bars.open, bars.high, bars.low, bars.close, bars.volume)
    return list(zip(*(c.tolist() for c in cols), strict=True))


def columns_of(rows: Sequence[tuple[float, ...]], width: int) -> list[np.ndarray]:
    """Per-bar output tuples as one float64 array per output (``fromiter`` over the flattened
    tuples: about twice as fast as ``np.array`` of a list of tuples)."""
    flat = np.fromiter(chain.from_iterable(rows), np.float64, len(rows) * width)
    return list(flat.reshape(len(rows), width).T.copy())  # one transpose: contiguous columns


class StreamingIndicator:
    """Base class of every streaming indicator (see the module docstring for the contract).

    Parameters
    ----------
    info
        The indicator's registration (parameters, inputs, outputs).
    params
        Parameter values; validated and completed with defaults by ``info.resolve``.

    Raises
    ------
    ValidationError
        IND-002..IND-006 for bad parameters.
    """

    #: Feed one bar; one float per output (NaN while not ready / bar invalid). Bound per object.
    update: UpdateFn

    def __init__(self, info: IndicatorInfo, params: Mapping[str, Any]) -> None:
        self.info = info
        self.params: dict[str, Any] = info.resolve(params)
        self.source: str = str(self.params.get("source", "close"))
        self._nan: tuple[float, ...] = (NAN,) * len(info.outputs)
        self._values = self._nan
        self._primary = info.outputs.index(info.primary_output)
        self.initialized = False
        self._configure(self.params)
        self.reset()

    def _configure(self, params: Params) -> None:
        """Take the validated parameters (subclasses keep typed copies)."""

    def reset(self) -> None:
        """Return to the freshly constructed state."""
        self._values = self._nan
        self.initialized = False
        self._reset()

    def _reset(self) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def update_many(self, bars: Bars) -> list[np.ndarray]:
        """Feed a batch of bars in order; one float64 array per output, row ``i`` equal to
        ``update`` of bar ``i``."""
        rows = [self.update(*row) for row in bar_rows(bars)]
        return columns_of(rows, len(self.info.outputs))

    @property
    def value(self) -> float:
        """Primary output of the last valid bar (NaN while not initialized)."""
        return self.values[self._primary]

    @property
    def values(self) -> tuple[float, ...]:
        """All outputs of the last valid bar."""
        return self._values

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.info.name}({args})"


def _update_c(self: Any, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
    if c - c == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals  # type: ignore[no-any-return]
    return self._nan  # type: ignore[no-any-return]


def _update_hl(self: Any, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
    if h - h == 0.0 and lo - lo == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals  # type: ignore[no-any-return]
    return self._nan  # type: ignore[no-any-return]


def _update_hlc(self: Any, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
    if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals  # type: ignore[no-any-return]
    return self._nan  # type: ignore[no-any-return]


def _update_hlcv(self: Any, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
    if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0 and v - v == 0.0:
        vals = self._values = self._step(o, h, lo, c, v)
        return vals  # type: ignore[no-any-return]
    return self._nan  # type: ignore[no-any-return]


_UPDATES: dict[tuple[str, ...], Callable[..., tuple[float, ...]]] = {
    ("close",): _update_c,
    ("high", "low"): _update_hl,
    ("high", "low", "close"): _update_hlc,
    ("high", "low", "close", "volume"): _update_hlcv,
}


@cache
def step_update(inputs: tuple[str, ...], source: str) -> Callable[..., tuple[float, ...]]:
    """``update(self, o, h, lo, c, v)`` checking the columns read (``inputs`` with ``close``
    meaning ``source``) and passing valid bars to ``self._step`` (``c`` = the source value):
    hand-written for the common input sets read as they are, a closure otherwise."""
    rebind = source_value(inputs, source)
    if rebind is None and inputs in _UPDATES:
        return _UPDATES[inputs]
    check = finite_check(read_columns(inputs, source))

    def update(self: Any, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        """Feed one bar; return one float per output (NaN while not ready / bar invalid)."""
        if check(o, h, lo, c, v):
            if rebind is not None:
                c = rebind(o, h, lo, c, v)
            vals = self._values = self._step(o, h, lo, c, v)
            return vals  # type: ignore[no-any-return]
        return self._nan  # type: ignore[no-any-return]

    return update


class HandWritten(StreamingIndicator):
    """A streaming indicator written in Python, for indicators TA-Lib does not define.

    Subclasses are registered with :func:`~ktrdr_indicators.domain.registry.hand_written`, which
    sets :attr:`registration`; they implement ``_configure`` (typed copies of the parameters),
    ``_reset`` and ``_step`` (which only ever sees finite inputs, ``close`` already replaced by
    the chosen ``source``).
    """

    registration: ClassVar[IndicatorInfo]

    def __init__(self, **params: Any) -> None:
        super().__init__(self.registration, params)
        self.update = MethodType(step_update(self.info.inputs, self.source), self)

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        raise NotImplementedError  # pragma: no cover - abstract
