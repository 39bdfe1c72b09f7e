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
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
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
    UpdateFn,
    bar_rows,
    columns_of,
    finite_condition,
    finite_list,
    read_columns,
    source_series,
    step_update,
)

Arguments = Callable[[Params], dict[str, Any]]
#: Batch assembly: (TA-Lib results, bars, parameters) -> the outputs as arrays.
BatchAssemble = Callable[[Sequence[Any], Bars, Params], Sequence[np.ndarray]]


@lru_cache(maxsize=4096)  # bounded: parameters come from requests
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
        The same on whole arrays (``None``: ``assemble`` evaluated on arrays), as a function
        when in-place NumPy operations save passes or a conditional becomes ``np.where``; it must
        perform the same IEEE operations, so that batch and streaming agree exactly (tested).
    """

    info: IndicatorInfo
    calls: tuple[TalibCall, ...]
    assemble: str | None = None
    assemble_batch: BatchAssemble | None = None

    def warmup(self, params: Params) -> int:
        """Leading bars without output: the largest TA-Lib lookback among the calls."""
        return max(call.lookback(params) for call in self.calls)

    def batch(self, bars: Bars, params: Params) -> list[np.ndarray]:
        """All outputs over whole columns (finite values only; see ``batch.run_batch``)."""
        arrays = self.outputs([call.batch(bars, params) for call in self.calls], bars, params)
        warm = min(self.warmup(params), len(bars))
        for a in arrays:
            a[:warm] = np.nan
        return arrays

    def outputs(self, results: Sequence[Any], bars: Bars, params: Params) -> list[np.ndarray]:
        """The outputs from the TA-Lib results over whole columns (an array, or a tuple of
        arrays, per call) and the bars they were computed on."""
        if self.assemble_batch is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                out: Sequence[Any] = self.assemble_batch(results, bars, params)
        elif self.assemble is not None:
            out = _evaluate_batch(self.assemble, results, bars, params)
        else:
            out = results[0] if isinstance(results[0], tuple) else (results[0],)
        return _distinct([np.asarray(a, dtype=np.float64) for a in out])

    def make_stream(self, params: Params) -> StreamingIndicator:
        """A fresh streaming object (validates ``params``)."""
        return TalibStream(self, params)


def _evaluate_batch(expression: str, results: Sequence[Any], bars: Bars, params: Params) -> Any:
    names: dict[str, Any] = {f"r{i}": r for i, r in enumerate(results)}
    names.update({LETTER[c]: bars.column(c) for c in LETTER})
    names.update(params)
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

    While warming up, ``update`` buffers the valid bars; the bar that completes TA-Lib's
    lookback opens the handles and replaces ``update`` by a generated closure that calls the
    handles' ``update`` directly (no per-bar state checks). A reference to ``update`` taken
    before that keeps working (it forwards to the new one); look it up again for speed.

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

    def _configure(self, params: Params) -> None:
        # columns kept while warming up (``close`` holds the source series)
        calls = self.definition.calls
        self._columns = tuple(dict.fromkeys(c for call in calls for c in call.inputs))
        self._reads, _ = read_columns(self.info.inputs, self.source)
        self._need = self.definition.warmup(params) + 1
        values = tuple(params[p.name] for p in self.info.params)
        self._make, self._first = _generated(self.definition, self.source, values)
        self._warm_update = MethodType(step_update(self.info.inputs, self.source), self)

    def _reset(self) -> None:
        self._history: dict[str, list[float]] | None = {c: [] for c in self._columns}
        self._handles: tuple[Any, ...] = ()
        self.update = self._warm_update

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        """A valid bar while warming up: buffer it; open the handles once there is enough."""
        history = self._history
        if history is None:  # ``update`` looked up before the handles opened: still correct
            steady: tuple[float, ...] = self.update(o, h, lo, c, v)
            return steady
        bar = {"open": o, "high": h, "low": lo, "close": c, "volume": v}
        for column, values in history.items():
            values.append(bar[column])
        if len(history[self._columns[0]]) < self._need:
            return self._nan
        try:
            handles = tuple(call.open(history, self.params) for call in self.definition.calls)
        except talib.InsufficientHistory:  # a seeding needs more than lookback + 1 bars
            return self._nan
        self._handles = handles
        # outputs per call: 0 for a bare float, else the length of the tuple it answers
        self._widths = tuple(
            len(handle.value) if isinstance(handle.value, tuple) else 0 for handle in handles
        )
        self._history = None
        self.initialized = True
        self.update = self._make(self, self._nan, *(handle.update for handle in handles))
        opened = [handle.value for handle in handles]
        first: tuple[float, ...] = self._first(self, o, h, lo, c, v, *opened)
        return first

    @property
    def values(self) -> tuple[float, ...]:
        """All outputs of the last valid bar (read back from the TA-Lib handle when the
        indicator is that handle's outputs as they are)."""
        if self.initialized and self.definition.assemble is None:
            value = self._handles[0].value
            return value if isinstance(value, tuple) else (value,)
        return self._values

    @property
    def inlinable(self) -> bool:
        """True when this stream is one TA-Lib handle's outputs as they are, reading ``close``
        itself: a set may then call the handle directly (see ``sets.SetStream``)."""
        reads_source = self.source != "close" and "close" in self.info.inputs
        return (
            self.definition.assemble is None
            and len(self.definition.calls) == 1
            and not (reads_source)
        )

    @property
    def inline_args(self) -> str:
        """The handle's arguments as generated code (``"h, lo, c"``)."""
        return ", ".join(LETTER[c] for c in self.definition.calls[0].inputs)

    @property
    def handle_update(self) -> Callable[..., Any]:
        """The (open) handle's ``update``."""
        return self._handles[0].update  # type: ignore[no-any-return]

    def update_many(self, bars: Bars) -> list[np.ndarray]:
        """Feed a batch of bars in order; one array per output, row ``i`` equal to ``update``
        of bar ``i``. Once the handles are open and every value read is finite, the batch goes
        through each handle's ``update`` in one ``map`` (no Python frame per bar) and the
        outputs are assembled vectorised."""
        done = 0
        head: list[tuple[float, ...]] = []
        if not self.initialized:
            for row in bar_rows(bars):
                head.append(self.update(*row))
                done += 1
                if self.initialized:
                    break
        rest = bars.take(slice(done, len(bars))) if done else bars
        if not len(rest):
            return columns_of(head, len(self.info.outputs))
        tail = self._steady_many(rest)
        if tail is None:  # an invalid value: bar by bar, skipping it
            tail = super().update_many(rest)
        return _join(head, tail) if head else tail

    def _steady_many(self, bars: Bars) -> list[np.ndarray] | None:
        """``update_many`` once the handles are open; ``None`` when a value read is not finite."""
        if self.source != "close" and "close" in self.info.inputs:
            bars = dataclasses.replace(bars, close=source_series(bars, self.source))
        lists = {c: bars.column(c).tolist() for c in self._columns}
        if not all(finite_list(values) for values in lists.values()):
            return None
        results: list[Any] = []
        for call, handle, width in zip(
            self.definition.calls, self._handles, self._widths, strict=True
        ):
            values = list(map(handle.update, *(lists[c] for c in call.inputs)))
            results.append(np.array(values) if width == 0 else tuple(columns_of(values, width)))
        if self.definition.assemble is None:  # the handle's outputs; values read back from it
            first = results[0]
            return list(first) if isinstance(first, tuple) else [first]
        outs = self.definition.outputs(results, bars, self.params)
        self._values = tuple(float(a[-1]) for a in outs)
        return outs


def _join(head: list[tuple[float, ...]], tail: list[np.ndarray]) -> list[np.ndarray]:
    first = columns_of(head, len(tail))
    return [np.concatenate([a, b]) for a, b in zip(first, tail, strict=True)]


@lru_cache(maxsize=1024)  # bounded: parameters come from requests
def _generated(
    definition: TalibDefinition, source: str, values: tuple[Any, ...]
) -> tuple[Callable[..., UpdateFn], Callable[..., tuple[float, ...]]]:
    """Generated code of one configured TA-Lib indicator (parameters as constants):
    ``make(self, nan, u0, u1, ...)`` returns the steady-state ``update`` closure over the
    handles' ``update`` methods, ``first(self, o, h, lo, c, v, r0, r1, ...)`` assembles the
    outputs of the bar that opened the handles."""
    reads, rebind = read_columns(definition.info.inputs, source)
    handles = [f"u{i}" for i in range(len(definition.calls))]
    results = [f"r{i}" for i in range(len(definition.calls))]
    calls = "".join(
        f"            r{i} = u{i}({', '.join(LETTER[c] for c in call.inputs)})\n"
        for i, call in enumerate(definition.calls)
    )
    if definition.assemble is None:  # values read back from the handle: nothing to keep
        expression = "(r0,)" if len(definition.info.outputs) == 1 else "r0"
        keep = f"            return {expression}\n"
    else:
        expression = definition.assemble
        keep = f"            vals = self._values = {expression}\n            return vals\n"
    src = (
        f"def make(self, nan, {', '.join(handles)}):\n"
        "    def update(o, h, lo, c, v):\n"
        f"        if {finite_condition(reads)}:\n"
        f"            {rebind or 'pass'}\n"
        f"{calls}"
        f"{keep}"
        "        return nan\n"
        "    return update\n"
        f"def first(self, o, h, lo, c, v, {', '.join(results)}):\n"
        f"    vals = self._values = {expression}\n"
        "    return vals\n"
    )
    constants = dict(zip((p.name for p in definition.info.params), values, strict=True))
    namespace: dict[str, Any] = dict(constants)
    exec(compile(src, f"<generated {definition.info.name}>", "exec"), namespace)
    return namespace["make"], namespace["first"]
