"""Indicators TA-Lib defines: batch mode, streaming and warm-up all derived from TA-Lib.

A :class:`TalibDefinition` names one or more TA-Lib functions (:class:`TalibCall`) and how their
outputs become the indicator's outputs. From that alone:

* batch mode calls the TA-Lib functions (``talib.RSI(close, timeperiod=14)``);
* the warm-up is TA-Lib's lookback (the largest among the calls);
* streaming opens TA-Lib's own O(1) stream handles (``talib.stream.RSI``), which TA-Lib
  guarantees to be bit-identical to its batch functions. A handle needs ``lookback + 1`` bars of
  history to open: the stream buffers the (valid) bars until then, opens every handle on them and
  from then on feeds one bar per ``update`` to each handle.

The per-bar path is generated per indicator (see :mod:`ktrdr_indicators.domain.streams`): it
checks the inputs it reads for NaN/inf, calls the handles' ``update`` and assembles the outputs
with the definition's expression, in one Python function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import cache
from types import MethodType
from typing import Any

import numpy as np
import talib
from talib import abstract
from talib import stream as talib_stream

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain.metadata import IndicatorInfo, Params
from ktrdr_indicators.domain.streams import (
    LETTER,
    StreamingIndicator,
    compile_function,
    finite_condition,
    read_columns,
)

Arguments = Callable[[Params], dict[str, Any]]


@cache
def _lookback(function: str, arguments: tuple[tuple[str, Any], ...]) -> int:
    fn = abstract.Function(function)  # type: ignore[attr-defined]  # missing from talib's stub
    fn.set_parameters(dict(arguments))
    return int(fn.lookback)


@dataclasses.dataclass(frozen=True)
class TalibCall:
    """One TA-Lib function applied to bar columns.

    Attributes
    ----------
    function
        TA-Lib name, e.g. ``"RSI"``.
    inputs
        Bar columns passed positionally, in TA-Lib's order (``"close"`` is replaced by the
        indicator's ``source``).
    arguments
        Our resolved parameters -> TA-Lib keyword arguments.
    """

    function: str
    inputs: tuple[str, ...]
    arguments: Arguments

    def kwargs(self, params: Params) -> dict[str, Any]:
        """TA-Lib keyword arguments for ``params``."""
        return self.arguments(params)

    def lookback(self, params: Params) -> int:
        """TA-Lib's lookback (leading bars without output) for ``params``."""
        return _lookback(self.function, tuple(sorted(self.kwargs(params).items())))

    def batch(self, bars: Bars, params: Params) -> Any:
        """The TA-Lib function over whole columns (an array, or a tuple of arrays)."""
        fn = getattr(talib, self.function)
        return fn(*(bars.column(c) for c in self.inputs), **self.kwargs(params))

    def open(self, history: Mapping[str, list[float]], params: Params) -> Any:
        """A TA-Lib stream handle opened on ``history`` (column -> values)."""
        handle_cls = getattr(talib_stream, self.function)
        columns = [np.array(history[c], dtype=np.float64) for c in self.inputs]
        return handle_cls(*columns, **self.kwargs(params))


@dataclasses.dataclass(frozen=True)
class TalibDefinition:
    """An indicator computed by TA-Lib functions (see the module docstring).

    Attributes
    ----------
    info
        Name, parameters, inputs, outputs and warm-up.
    calls
        The TA-Lib functions; their results are ``r0``, ``r1``, ... in ``assemble``.
    assemble
        Python expression giving the tuple of outputs from ``r0``, ``r1``, ..., the bar values
        ``o, h, lo, c, v`` and the parameters by name (``None``: the outputs of ``r0`` as
        TA-Lib returns them). Evaluated on floats when streaming.
    assemble_batch
        The same on whole arrays, when the scalar expression does not apply to arrays (a
        conditional becomes ``where(...)``); ``None``: ``assemble``.
    """

    info: IndicatorInfo
    calls: tuple[TalibCall, ...]
    assemble: str | None = None
    assemble_batch: str | None = None

    def warmup(self, params: Params) -> int:
        """Leading bars without output: the largest TA-Lib lookback among the calls."""
        return max(call.lookback(params) for call in self.calls)

    def batch(self, bars: Bars, params: Params) -> list[np.ndarray]:
        """All outputs over whole columns (finite values only; see ``batch.run_batch``)."""
        results = [call.batch(bars, params) for call in self.calls]
        if self.assemble is None:
            out = results[0] if isinstance(results[0], tuple) else (results[0],)
        else:
            out = _evaluate_batch(self.assemble_batch or self.assemble, results, bars, params)
        arrays = _distinct([np.asarray(a, dtype=np.float64) for a in out])
        warm = min(self.warmup(params), len(bars))
        for a in arrays:
            a[:warm] = np.nan
        return arrays

    def make_stream(self, params: Params) -> StreamingIndicator:
        """A fresh streaming object (validates ``params``)."""
        return TalibStream(self, params)


def _where(condition: np.ndarray, yes: Any, no: Any) -> np.ndarray:
    return np.where(condition, yes, no)


def _evaluate_batch(expression: str, results: list[Any], bars: Bars, params: Params) -> Any:
    names: dict[str, Any] = {f"r{i}": r for i, r in enumerate(results)}
    names.update({LETTER[c]: bars.column(c) for c in LETTER})
    names.update(params)
    names["where"] = _where
    with np.errstate(divide="ignore", invalid="ignore"):
        return eval(_compiled(expression), {"__builtins__": {}}, names)


@cache
def _compiled(expression: str) -> Any:
    return compile(expression, "<assemble>", "eval")


def _distinct(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The arrays, copying any that appear twice (outputs never alias each other)."""
    seen: set[int] = set()
    out = []
    for a in arrays:
        out.append(a.copy() if id(a) in seen else a)
        seen.add(id(a))
    return out


class TalibStream(StreamingIndicator):
    """Streaming through TA-Lib's stream handles (see the module docstring).

    Parameters
    ----------
    definition
        The indicator.
    params
        Its parameters (validated here).
    """

    def __init__(self, definition: TalibDefinition, params: Mapping[str, Any]) -> None:
        self.definition = definition
        super().__init__(definition.info, params)
        values = tuple(self.params[p.name] for p in self.info.params)
        self.update = MethodType(_talib_update(definition, self.source, values), self)

    def _configure(self, params: Params) -> None:
        # columns kept while warming up (``close`` holds the source series)
        calls = self.definition.calls
        self._columns = tuple(dict.fromkeys(c for call in calls for c in call.inputs))
        self._need = self.definition.warmup(params) + 1

    def _reset(self) -> None:
        self._history: dict[str, list[float]] | None = {c: [] for c in self._columns}
        self._handles: tuple[Any, ...] = ()
        self._opened: tuple[Any, ...] = ()

    def _warm(self, o: float, h: float, lo: float, c: float, v: float) -> bool:
        """Buffer one valid bar; once there is enough history, open every handle (True)."""
        history = self._history
        if history is None:  # pragma: no cover - only called before the handles are open
            return False
        bar = {"open": o, "high": h, "low": lo, "close": c, "volume": v}
        for column, values in history.items():
            values.append(bar[column])
        if len(history[self._columns[0]]) < self._need:
            return False
        try:
            handles = tuple(call.open(history, self.params) for call in self.definition.calls)
        except talib.InsufficientHistory:  # a seeding needs more than lookback + 1 bars
            return False
        self._handles = handles
        self._opened = tuple(handle.value for handle in handles)
        for i, handle in enumerate(handles):
            setattr(self, f"_u{i}", handle.update)
        self._history = None
        self.initialized = True
        return True


@cache
def _talib_update(
    definition: TalibDefinition, source: str, values: tuple[Any, ...]
) -> Callable[..., tuple[float, ...]]:
    """The generated ``update`` of one configured TA-Lib indicator (parameters as constants)."""
    reads, rebind = read_columns(definition.info.inputs, source)
    parts = len(definition.calls)
    calls = "\n".join(
        f"            r{i} = self._u{i}({', '.join(LETTER[c] for c in call.inputs)})"
        for i, call in enumerate(definition.calls)
    )
    targets = ", ".join(f"r{i}" for i in range(parts)) + ("," if parts == 1 else "")
    if definition.assemble is None:
        single = len(definition.info.outputs) == 1
        expression = "(r0,)" if single else "r0"
    else:
        expression = definition.assemble
    constants = dict(zip((p.name for p in definition.info.params), values, strict=True))
    src = (
        "def update(self, o, h, lo, c, v):\n"
        f"    if {finite_condition(reads)}:\n"
        f"        {rebind or 'pass'}\n"
        "        if self.initialized:\n"
        f"{calls}\n"
        "        elif self._warm(o, h, lo, c, v):\n"
        f"            {targets} = self._opened\n"
        "        else:\n"
        "            return self._nan\n"
        f"        vals = self._values = {expression}\n"
        "        return vals\n"
        "    return self._nan\n"
    )
    fn = compile_function(src, "update", constants)
    fn.__doc__ = "Feed one bar; return one float per output (NaN while not ready / bar invalid)."
    return fn  # type: ignore[no-any-return]
