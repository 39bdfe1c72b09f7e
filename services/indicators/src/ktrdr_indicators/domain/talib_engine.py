"""Indicators TA-Lib defines: batch mode, streaming and warm-up all derived from TA-Lib.

A :class:`TalibDefinition` names one or more TA-Lib functions (:class:`TalibCall`) and how their
outputs become the indicator's outputs. From that alone:

* batch mode calls the TA-Lib functions (``talib.RSI(close, timeperiod=14)``);
* the warm-up is TA-Lib's lookback (the largest among the calls);
* streaming opens TA-Lib's own O(1) stream handles (``talib.stream.RSI``), which TA-Lib
  guarantees to be bit-identical to its batch functions. A handle needs ``lookback + 1`` bars of
  history to open: the stream buffers the (valid) bars until then, opens every handle on them and
  from then on feeds one bar per ``update`` to each handle.

The per-bar path is one closure per stream, built when the handles open: it checks the inputs it
reads for NaN/inf, calls the handles' ``update`` and assembles the outputs with the definition's
``assemble`` function. An indicator that is one handle's outputs as they are, reading a common
input set, gets a hand-written closure (one Python frame per bar); nothing is generated or
compiled at run time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from types import MethodType
from typing import Any

import numpy as np
import talib
from talib import abstract
from talib import stream as talib_stream

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain.metadata import IndicatorInfo, Params
from ktrdr_indicators.domain.streams import (
    POSITION,
    BarFn,
    StreamingIndicator,
    UpdateFn,
    bar_rows,
    columns_of,
    finite_check,
    finite_list,
    read_columns,
    source_series,
    source_value,
    step_update,
)

Arguments = Callable[[Params], dict[str, Any]]
#: Batch assembly: (TA-Lib results, bars, parameters) -> the outputs as arrays.
BatchAssemble = Callable[[Sequence[Any], Bars, Params], Sequence[np.ndarray]]
#: Assembly: ``(results, o, h, lo, c, v, params) -> outputs``, on floats when streaming and on
#: arrays in batch mode (unless the definition has an ``assemble_batch``).
Assemble = Callable[..., tuple[Any, ...]]
#: Hand-written steady-state ``update`` of an assembled indicator: ``steady(stream, updates)``
#: over the open handles' ``update`` methods (in call order); it reads the columns itself, checks
#: them for NaN/inf, answers ``stream._nan`` for an invalid bar and stores valid outputs in
#: ``stream._values``, with the same operations as ``assemble`` (tested against batch mode).
Steady = Callable[["TalibStream", Sequence[Callable[..., Any]]], UpdateFn]


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
        The TA-Lib functions; their results are ``r[0]``, ``r[1]``, ... in ``assemble``.
    assemble
        ``assemble(r, o, h, lo, c, v, p)``: the tuple of outputs from the calls' results ``r``,
        the bar values and the parameters ``p`` (``None``: the outputs of ``r[0]`` as TA-Lib
        returns them). Applied to floats when streaming.
    assemble_batch
        The same on whole arrays (``None``: ``assemble`` applied to arrays), for when in-place
        NumPy operations save passes or a conditional becomes ``np.where``; it must perform the
        same IEEE operations, so that batch and streaming agree exactly (tested).
    steady
        A hand-written steady-state ``update`` (see :data:`Steady`) used when the indicator reads
        its columns as they are (``None``: a general closure calling ``assemble``).
    """

    info: IndicatorInfo
    calls: tuple[TalibCall, ...]
    assemble: Assemble | None = None
    assemble_batch: BatchAssemble | None = None
    steady: Steady | None = None

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
            with np.errstate(divide="ignore", invalid="ignore"):
                out = self.assemble(results, *_columns(bars), params)
        else:
            out = results[0] if isinstance(results[0], tuple) else (results[0],)
        return _distinct([np.asarray(a, dtype=np.float64) for a in out])

    def make_stream(self, params: Params) -> StreamingIndicator:
        """A fresh streaming object (validates ``params``)."""
        return TalibStream(self, params)


def _columns(bars: Bars) -> tuple[np.ndarray, ...]:
    return (bars.open, bars.high, bars.low, bars.close, bars.volume)


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
    lookback opens the handles and replaces ``update`` by a closure that calls the handles'
    ``update`` directly (no per-bar state checks). A reference to ``update`` taken
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
        self._reads = read_columns(self.info.inputs, self.source)
        self._need = self.definition.warmup(params) + 1
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
        self.update = _steady(self, [handle.update for handle in handles])
        opened = [handle.value for handle in handles]
        assemble = self.definition.assemble
        if assemble is not None:
            self._values = assemble(opened, o, h, lo, c, v, self.params)
        else:
            self._values = (opened[0],) if len(self.info.outputs) == 1 else opened[0]
        return self._values

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
    def handle_arguments(self) -> Callable[[tuple[float, ...]], tuple[float, ...]]:
        """The handle's arguments from a bar's ``(o, h, lo, c, v)``."""
        return _arguments(self.definition.calls[0].inputs)

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


def _arguments(inputs: tuple[str, ...]) -> Callable[[tuple[float, ...]], tuple[float, ...]]:
    """``pick(bar)``: the values of ``inputs`` from a bar's ``(o, h, lo, c, v)``, as a tuple (a
    slice when the columns are adjacent and in order, as in every TA-Lib signature we use)."""
    positions = [POSITION[c] for c in inputs]
    first = positions[0]
    if positions == list(range(first, first + len(positions))):
        return itemgetter(slice(first, first + len(positions)))
    return itemgetter(*positions)  # two or more columns: itemgetter answers a tuple


# Steady-state closures of one handle's outputs as they are, for the common input sets: one
# Python frame per bar (check, handle call, and a 1-tuple for a single output).
Make = Callable[[Callable[..., Any], tuple[float, ...]], UpdateFn]


def _one_c(u: Callable[..., Any], nan: tuple[float, ...]) -> UpdateFn:
    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if c - c == 0.0:
            return (u(c),)
        return nan

    return update


def _one_hl(u: Callable[..., Any], nan: tuple[float, ...]) -> UpdateFn:
    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0:
            return (u(h, lo),)
        return nan

    return update


def _one_hlc(u: Callable[..., Any], nan: tuple[float, ...]) -> UpdateFn:
    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0:
            return (u(h, lo, c),)
        return nan

    return update


def _one_hlcv(u: Callable[..., Any], nan: tuple[float, ...]) -> UpdateFn:
    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0 and v - v == 0.0:
            return (u(h, lo, c, v),)
        return nan

    return update


def _one_cv(u: Callable[..., Any], nan: tuple[float, ...]) -> UpdateFn:
    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if c - c == 0.0 and v - v == 0.0:
            return (u(c, v),)
        return nan

    return update


def _many_c(u: Callable[..., Any], nan: tuple[float, ...]) -> UpdateFn:
    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if c - c == 0.0:
            return u(c)  # type: ignore[no-any-return]
        return nan

    return update


def _many_hlc(u: Callable[..., Any], nan: tuple[float, ...]) -> UpdateFn:
    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if h - h == 0.0 and lo - lo == 0.0 and c - c == 0.0:
            return u(h, lo, c)  # type: ignore[no-any-return]
        return nan

    return update


#: (handle inputs, several outputs?) -> the closure maker.
_PLAIN: dict[tuple[tuple[str, ...], bool], Make] = {
    (("close",), False): _one_c,
    (("high", "low"), False): _one_hl,
    (("high", "low", "close"), False): _one_hlc,
    (("high", "low", "close", "volume"), False): _one_hlcv,
    (("close", "volume"), False): _one_cv,
    (("close",), True): _many_c,
    (("high", "low", "close"), True): _many_hlc,
}


def _steady(stream: TalibStream, updates: list[Callable[..., Any]]) -> UpdateFn:
    """The steady-state ``update`` of ``stream`` over its open handles' ``update`` methods."""
    definition = stream.definition
    rebind = source_value(stream.info.inputs, stream.source)
    if definition.steady is not None and rebind is None:
        return definition.steady(stream, updates)
    if definition.assemble is None and rebind is None:
        make = _PLAIN.get((definition.calls[0].inputs, len(stream.info.outputs) > 1))
        if make is not None:
            return make(updates[0], stream._nan)
    calls = [
        (u, _arguments(call.inputs)) for u, call in zip(updates, definition.calls, strict=True)
    ]
    return _general(stream, calls, rebind)


def _general(
    stream: TalibStream,
    calls: list[tuple[Callable[..., Any], Callable[[tuple[float, ...]], tuple[float, ...]]]],
    rebind: BarFn | None,
) -> UpdateFn:
    """Steady-state ``update`` of any definition: check, source, handle calls, assembly."""
    check = finite_check(stream._reads)
    nan, params, assemble = stream._nan, stream.params, stream.definition.assemble
    single = len(stream.info.outputs) == 1
    (u0, p0), *rest = calls
    u1, p1 = rest[0] if rest else (u0, p0)
    n = len(calls)

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if check(o, h, lo, c, v):
            if rebind is not None:
                c = rebind(o, h, lo, c, v)
            bar = (o, h, lo, c, v)
            if assemble is None:  # the handle's outputs; values read back from it
                r0 = u0(*p0(bar))
                return (r0,) if single else r0  # type: ignore[no-any-return]
            if n == 1:
                r: Sequence[Any] = (u0(*p0(bar)),)
            elif n == 2:
                r = (u0(*p0(bar)), u1(*p1(bar)))
            else:
                r = [u(*pick(bar)) for u, pick in calls]
            vals = stream._values = assemble(r, o, h, lo, c, v, params)
            return vals
        return nan

    return update
