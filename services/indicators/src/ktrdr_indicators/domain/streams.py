"""The streaming contract every indicator follows, and the code generation behind ``update``.

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

``update`` is generated per input set and ``source`` (like dataclasses generate ``__init__``):
the finiteness check reads exactly the columns the indicator reads (``x - x == 0.0`` is False for
NaN and +-inf) and a derived ``source`` (``hl2`` ...) is computed inline, so the per-bar path is
one Python call plus the indicator's own step.
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
#: The argument name each bar column has in generated code.
LETTER = {"open": "o", "high": "h", "low": "lo", "close": "c", "volume": "v"}
UpdateFn = Callable[[float, float, float, float, float], tuple[float, ...]]


def read_columns(inputs: Sequence[str], source: str) -> tuple[tuple[str, ...], str]:
    """The bar columns an indicator with ``inputs`` reads when ``close`` means ``source``, and
    the statement rebinding ``c`` to that series (empty for ``close``)."""
    if source == "close" or "close" not in inputs:
        return tuple(inputs), ""
    columns, formula = SOURCE_SERIES[source]
    reads = tuple(dict.fromkeys([*(f for f in inputs if f != "close"), *columns]))
    return reads, f"c = {formula}"


def finite_condition(columns: Sequence[str]) -> str:
    """``True`` exactly when every one of ``columns`` is finite (generated code)."""
    return " and ".join(f"{LETTER[f]} - {LETTER[f]} == 0.0" for f in columns) or "True"


def source_series(bars: Bars, source: str) -> np.ndarray:
    """The price series ``source`` of ``bars`` (``hl2`` ...), with the same IEEE operations as
    the generated per-bar code."""
    if source == "close":
        return bars.close
    names = {LETTER[c]: bars.column(c) for c in LETTER}
    formula = SOURCE_SERIES[source][1]
    return np.asarray(eval(formula, {"__builtins__": {}}, names), dtype=np.float64)


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


def compile_function(source: str, name: str, namespace: Mapping[str, Any] | None = None) -> Any:
    """Compile generated ``source`` and return the function ``name`` defined in it."""
    ns: dict[str, Any] = dict(namespace or {})
    exec(compile(source, f"<generated {name}>", "exec"), ns)
    return ns[name]


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


@cache
def step_update(inputs: tuple[str, ...], source: str) -> Callable[..., tuple[float, ...]]:
    """``update(self, o, h, lo, c, v)`` checking the columns read (``inputs`` with ``close``
    meaning ``source``) and passing valid bars to ``self._step`` (``c`` = the source value)."""
    reads, rebind = read_columns(inputs, source)
    src = (
        "def update(self, o, h, lo, c, v):\n"
        f"    if {finite_condition(reads)}:\n"
        f"        {rebind or 'pass'}\n"
        "        vals = self._values = self._step(o, h, lo, c, v)\n"
        "        return vals\n"
        "    return self._nan\n"
    )
    fn = compile_function(src, "update")
    fn.__doc__ = "Feed one bar; return one float per output (NaN while not ready / bar invalid)."
    return fn  # type: ignore[no-any-return]


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
