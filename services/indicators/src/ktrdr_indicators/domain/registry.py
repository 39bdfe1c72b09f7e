"""Indicator registration: each indicator is declared once, in its family module.

A registration carries the name, the typed and bounded parameters, the inputs, the outputs and
the warm-up, and how the indicator is computed:

* :func:`talib_indicator` for indicators TA-Lib defines: batch mode, streaming (TA-Lib's stream
  handles) and the warm-up (TA-Lib's lookback) are derived from the TA-Lib calls
  (:func:`talib_period_indicator` for the common one-function, one-period case);
* :func:`hand_written` (a class decorator) for the rest: a batch function and a
  :class:`~ktrdr_indicators.domain.streams.HandWritten` streaming class.

The family modules (``trend``, ``momentum``, ``volatility``, ``volume``) register their indicators
when imported; :func:`native_definitions` imports them and returns every registration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import numpy as np

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.metadata import (
    ENGINE_NATIVE,
    ENGINE_TALIB,
    INPUT_COLUMNS,
    MAX_PERIOD,
    SOURCE_PARAM,
    IndicatorInfo,
    Params,
    ParamSpec,
)
from ktrdr_indicators.domain.streams import HandWritten, StreamingIndicator
from ktrdr_indicators.domain.talib_engine import (
    Assemble,
    BatchAssemble,
    Steady,
    TalibCall,
    TalibDefinition,
)

BatchFn = Callable[..., list[np.ndarray]]
Check = Callable[[Params], None]
H = TypeVar("H", bound=type[HandWritten])

#: Input tuples used by many indicators.
CLOSE = ("close",)
HL = ("high", "low")
HLC = ("high", "low", "close")
HLCV = ("high", "low", "close", "volume")
VALUE = ("value",)


class Definition(Protocol):
    """What the catalogue needs from a registered indicator."""

    @property
    def info(self) -> IndicatorInfo: ...

    def batch(self, bars: Bars, params: Params) -> list[np.ndarray]:
        """Every output over whole columns (the inputs it reads are all finite)."""
        ...

    def make_stream(self, params: Params) -> StreamingIndicator:
        """A fresh streaming object for ``params``."""
        ...


@dataclasses.dataclass(frozen=True)
class HandDefinition:
    """A hand-written indicator: batch function plus streaming class."""

    info: IndicatorInfo
    batch_fn: BatchFn
    stream_cls: type[HandWritten]

    def batch(self, bars: Bars, params: Params) -> list[np.ndarray]:
        """Every output over whole columns (the inputs it reads are all finite)."""
        return self.batch_fn(bars, **{k: v for k, v in params.items() if k != "source"})

    def make_stream(self, params: Params) -> StreamingIndicator:
        """A fresh streaming object for ``params``."""
        return self.stream_cls(**params)


_NATIVE: dict[str, Definition] = {}


def register(definition: Definition) -> Definition:
    """Add ``definition`` to the native catalogue (names are unique)."""
    name = definition.info.name
    if name in _NATIVE:  # pragma: no cover - a programming error caught at import
        raise ValueError(f"indicator '{name}' is registered twice")
    _NATIVE[name] = definition
    return definition


def native_definitions() -> tuple[Definition, ...]:
    """Every native indicator (TA-Lib-defined and hand-written), in registration order."""
    from ktrdr_indicators.domain import momentum, trend, volatility, volume  # noqa: F401

    return tuple(_NATIVE.values())


# ------------------------------------------------------------------------------ parameters
def period(
    default: int, minimum: int = 1, description: str = "Look-back window in bars."
) -> ParamSpec:
    """The ``period`` parameter: an int in ``[minimum, MAX_PERIOD]``."""
    return ParamSpec("period", "int", default, minimum, MAX_PERIOD, description=description)


def integer(name: str, default: int, minimum: int = 1, description: str = "") -> ParamSpec:
    """A window-like int parameter in ``[minimum, MAX_PERIOD]``."""
    return ParamSpec(name, "int", default, minimum, MAX_PERIOD, description=description)


def number(name: str, default: float, lo: float, hi: float, description: str = "") -> ParamSpec:
    """A float parameter in ``[lo, hi]``."""
    return ParamSpec(name, "float", default, lo, hi, description=description)


def choice(name: str, default: str, choices: tuple[str, ...], description: str = "") -> ParamSpec:
    """A str parameter restricted to ``choices``."""
    return ParamSpec(name, "str", default, choices=choices, description=description)


def less(a: str, b: str) -> Check:
    """Cross-parameter check ``a < b`` (IND-006 on ``a``)."""

    def check(p: Params) -> None:
        if not p[a] < p[b]:
            raise E.ValidationError(
                E.PARAMETER_CONFLICT,
                f"Parameter '{a}' ({p[a]}) must be smaller than '{b}' ({p[b]}).",
                field=f"parameters.{a}",
            )

    return check


def not_more(a: str, b: str) -> Check:
    """Cross-parameter check ``a <= b`` (IND-006 on ``a``)."""

    def check(p: Params) -> None:
        if not p[a] <= p[b]:
            raise E.ValidationError(
                E.PARAMETER_CONFLICT,
                f"Parameter '{a}' ({p[a]}) must not exceed '{b}' ({p[b]}).",
                field=f"parameters.{a}",
            )

    return check


def call(function: str, inputs: tuple[str, ...], **arguments: str | Any) -> TalibCall:
    """A TA-Lib call; each keyword maps a TA-Lib argument to one of our parameter names (a
    ``str``) or to a constant (anything else): ``call("RSI", CLOSE, timeperiod="period")``."""
    names = {k: v for k, v in arguments.items() if isinstance(v, str)}
    constants = {k: v for k, v in arguments.items() if not isinstance(v, str)}

    def map_arguments(p: Params) -> dict[str, Any]:
        return {**constants, **{k: p[v] for k, v in names.items()}}

    return TalibCall(function, inputs, map_arguments)


# ---------------------------------------------------------------------------- registrations
def _info(
    name: str,
    *,
    display: str,
    category: str,
    description: str,
    params: tuple[ParamSpec, ...],
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    primary: str | None,
    engine: str,
    warmup: Callable[[Params], int],
    aliases: tuple[str, ...],
    check: Check | None,
) -> IndicatorInfo:
    if inputs == CLOSE:  # single-series indicators read any price (``source``)
        params = (*params, SOURCE_PARAM)
    return IndicatorInfo(
        name=name,
        display_name=display,
        category=category,
        description=description,
        params=params,
        outputs=outputs,
        primary_output=primary or outputs[0],
        inputs=inputs,
        aliases=aliases,
        engine=engine,
        warmup_fn=warmup,
        check_fn=check,
    )


def talib_indicator(
    name: str,
    *,
    display: str,
    category: str,
    description: str,
    params: tuple[ParamSpec, ...],
    calls: tuple[TalibCall, ...],
    outputs: tuple[str, ...] = VALUE,
    primary: str | None = None,
    assemble: Assemble | None = None,
    assemble_batch: BatchAssemble | None = None,
    steady: Steady | None = None,
    aliases: tuple[str, ...] = (),
    check: Check | None = None,
) -> TalibDefinition:
    """Register an indicator computed by TA-Lib (see
    :class:`~ktrdr_indicators.domain.talib_engine.TalibDefinition` for ``assemble`` and
    ``steady``). Its inputs
    are the columns the calls read; its warm-up is the largest TA-Lib lookback."""

    def warmup(p: Params) -> int:
        return max(c.lookback(p) for c in calls)

    info = _info(
        name,
        display=display,
        category=category,
        description=description,
        params=params,
        inputs=tuple(col for col in INPUT_COLUMNS if any(col in c.inputs for c in calls)),
        outputs=outputs,
        primary=primary,
        engine=ENGINE_TALIB,
        warmup=warmup,
        aliases=aliases,
        check=check,
    )
    definition = TalibDefinition(info, calls, assemble, assemble_batch, steady)
    register(definition)
    return definition


def talib_period_indicator(
    name: str,
    *,
    function: str,
    inputs: tuple[str, ...],
    display: str,
    category: str,
    description: str,
    default: int,
    minimum: int = 1,
    aliases: tuple[str, ...] = (),
) -> TalibDefinition:
    """Register the common case: one TA-Lib function with one ``timeperiod``, exposed as our
    ``period`` (an int in ``[minimum, MAX_PERIOD]``, ``default`` when omitted)."""
    return talib_indicator(
        name,
        display=display,
        category=category,
        description=description,
        params=(period(default, minimum),),
        calls=(call(function, inputs, timeperiod="period"),),
        aliases=aliases,
    )


def hand_written(
    name: str,
    *,
    display: str,
    category: str,
    description: str,
    params: tuple[ParamSpec, ...],
    inputs: tuple[str, ...],
    warmup: Callable[[Params], int],
    batch: BatchFn,
    outputs: tuple[str, ...] = VALUE,
    primary: str | None = None,
    aliases: tuple[str, ...] = (),
    check: Check | None = None,
) -> Callable[[H], H]:
    """Class decorator registering a hand-written indicator: its streaming class (the decorated
    :class:`~ktrdr_indicators.domain.streams.HandWritten` subclass) and its ``batch``
    function, which takes the bars and the parameters as keywords."""

    def decorate(cls: H) -> H:
        info = _info(
            name,
            display=display,
            category=category,
            description=description,
            params=params,
            inputs=inputs,
            outputs=outputs,
            primary=primary,
            engine=ENGINE_NATIVE,
            warmup=warmup,
            aliases=aliases,
            check=check,
        )
        cls.registration = info
        register(HandDefinition(info, batch, cls))
        return cls

    return decorate
