"""Indicator metadata: frozen dataclasses describing parameters, outputs and engines.

Bounds
------
Every parameter that sizes work or memory is bounded: look-back windows and periods are at most
:data:`MAX_PERIOD` bars (10,000), checked when an indicator is configured (``IND-004`` naming the
parameter and the allowed range).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ktrdr_indicators.domain import errors as E

#: Largest look-back window / period of any indicator parameter, in bars.
MAX_PERIOD = 10_000
#: Resolved parameters of one indicator (name -> canonical value).
Params = Mapping[str, Any]

#: Categories an indicator can belong to.
CATEGORIES = ("trend", "momentum", "volatility", "volume")
#: Input columns an indicator may read.
INPUT_COLUMNS = ("open", "high", "low", "close", "volume")

ENGINE_TALIB = "ta-lib"
ENGINE_NATIVE = "native"
ENGINE_PTA = "pandas-ta-classic"
STREAM_INCREMENTAL = "incremental"
STREAM_WINDOW = "window-recompute"


@dataclass(frozen=True)
class ParamSpec:
    """One indicator parameter.

    Attributes
    ----------
    name
        Parameter key, e.g. ``"period"``.
    type
        One of ``"int"``, ``"float"``, ``"str"``, ``"bool"``.
    default
        Value used when the parameter is omitted.
    minimum, maximum
        Inclusive bounds for numeric parameters (``None`` = unbounded).
    choices
        Allowed values for ``str`` parameters (empty = free text).
    description
        One line for humans.
    in_name
        False: the value appears in the instance name only when it differs from the default
        (``source``: ``rsi_14`` reads close, ``rsi_14_hl2`` reads (high + low) / 2).
    """

    name: str
    type: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""
    in_name: bool = True

    def bounds_text(self) -> str:
        """Human readable bounds, e.g. ``[1, 1000]``."""
        lo = "-inf" if self.minimum is None else _fmt(self.minimum)
        hi = "inf" if self.maximum is None else _fmt(self.maximum)
        return f"[{lo}, {hi}]"

    def coerce(self, value: Any) -> Any:
        """Validate ``value`` and return it in canonical type; raise ValidationError."""
        fld = f"parameters.{self.name}"
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._type_error(value, fld)
            if isinstance(value, float):
                if not math.isfinite(value) or not value.is_integer():
                    raise self._type_error(value, fld)
                value = int(value)
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._type_error(value, fld)
            value = float(value)
            if not math.isfinite(value):
                raise self._type_error(value, fld)
        elif self.type == "bool":
            if not isinstance(value, bool):
                raise self._type_error(value, fld)
            return value
        else:
            if not isinstance(value, str):
                raise self._type_error(value, fld)
            if self.choices and value not in self.choices:
                raise E.ValidationError(
                    E.PARAMETER_CHOICE,
                    f"Parameter '{self.name}' must be one of {list(self.choices)}, got {value!r}.",
                    field=fld,
                    suggestions=E.suggest(value, self.choices),
                    details={"choices": ",".join(self.choices)},
                )
            return value
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise E.ValidationError(
                E.PARAMETER_BOUNDS,
                f"Parameter '{self.name}' must be within {self.bounds_text()}, got {value!r}.",
                field=fld,
                details={"minimum": self.minimum, "maximum": self.maximum},
            )
        return value

    def _type_error(self, value: Any, fld: str) -> E.ValidationError:
        extra = f" within {self.bounds_text()}" if self.type in ("int", "float") else ""
        return E.ValidationError(
            E.PARAMETER_TYPE,
            f"Parameter '{self.name}' must be {self.type}{extra}, got {value!r}.",
            field=fld,
            details={"type": self.type, "bounds": self.bounds_text()},
        )


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def format_param(value: Any) -> str:
    """Canonical text of a parameter value inside an instance name.

    Names never contain a dot, which separates an instance from its output
    (``bollinger_bands_20_2.upper``): integral floats print as integers (2.0 -> ``2``) and
    other decimal points as ``p`` (0.02 -> ``0p02``).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value).replace(".", "p")
    return str(value).replace(".", "p")


@dataclass(frozen=True)
class IndicatorInfo:
    """Everything a client needs to know about one indicator type.

    Attributes
    ----------
    name
        Lowercase catalogue key, e.g. ``"rsi"``.
    display_name
        e.g. ``"Relative Strength Index"``.
    category
        One of :data:`CATEGORIES`.
    description
        What it measures plus any convention notes (seeding, look-ahead, lag).
    params
        Parameters in declared order (this order builds instance names).
    outputs
        Output names in column order; single-output indicators have one.
    primary_output
        The output a strategy uses by default (``value`` of a streaming object).
    inputs
        Bar columns read (subset of :data:`INPUT_COLUMNS`); a bar with a non-finite value in
        any of them is skipped (output NaN for that bar, state unchanged).
    aliases
        Other accepted names, e.g. ``("bbands",)``.
    engine
        What computes it: ``"ta-lib"`` (TA-Lib's functions in batch mode, its stream handles
        when streaming), ``"native"`` (numpy / pure Python) or
        ``"pandas-ta-classic"``.
    streaming
        ``"incremental"`` (O(1) per bar: a TA-Lib stream handle or hand-written state) or
        ``"window-recompute"``.
    warmup_fn
        ``warmup_fn(params) -> int``: leading bars whose output is NaN (not ready). For
        data-dependent indicators (ZigZag) it is the minimum.
    lookback_fn
        ``lookback_fn(params) -> int``: bars kept by window-recompute streaming (0 otherwise).
    check_fn
        Cross-parameter validation hook raising ValidationError (IND-006).
    """

    name: str
    display_name: str
    category: str
    description: str
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]
    primary_output: str
    inputs: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    engine: str = ENGINE_NATIVE
    streaming: str = STREAM_INCREMENTAL
    warmup_fn: Callable[[Params], int] = field(default=lambda p: 0, compare=False, repr=False)
    lookback_fn: Callable[[Params], int] = field(default=lambda p: 0, compare=False, repr=False)
    check_fn: Callable[[Params], None] | None = field(default=None, compare=False, repr=False)

    @property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names in declared order."""
        return tuple(p.name for p in self.params)

    @property
    def defaults(self) -> dict[str, Any]:
        """Parameter name -> default value."""
        return {p.name: p.default for p in self.params}

    def warmup(self, params: Mapping[str, Any] | None = None) -> int:
        """Warm-up (leading not-ready bars) for ``params`` (defaults filled in)."""
        return int(self.warmup_fn({**self.defaults, **(params or {})}))

    def lookback(self, params: Mapping[str, Any] | None = None) -> int:
        """Bars kept by window-recompute streaming (0 for incremental indicators)."""
        return int(self.lookback_fn({**self.defaults, **(params or {})}))

    def resolve(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate ``params`` and return them complete, canonical and in declared order.

        Raises
        ------
        ValidationError
            IND-002 unknown parameter, IND-003 wrong type, IND-004 out of bounds,
            IND-005 not a choice, IND-006 inconsistent combination.
        """
        params = dict(params or {})
        specs = {p.name: p for p in self.params}
        for key in params:
            if key not in specs:
                close = E.suggest(str(key), specs)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise E.ValidationError(
                    E.UNKNOWN_PARAMETER,
                    f"Indicator '{self.name}' has no parameter '{key}' "
                    f"(parameters: {', '.join(specs) or 'none'}).{hint}",
                    field=f"parameters.{key}",
                    suggestions=close,
                )
        out = {
            p.name: p.coerce(params[p.name]) if p.name in params else p.default for p in self.params
        }
        if self.check_fn is not None:
            self.check_fn(out)
        return out

    def instance_name(self, params: Mapping[str, Any]) -> str:
        """Stable instance name ``{name}_{param values in declared order}``."""
        parts = [self.name] + [
            format_param(params[p.name])
            for p in self.params
            if p.in_name or params[p.name] != p.default
        ]
        return "_".join(parts)

    def columns(self, instance: str) -> tuple[str, ...]:
        """Output column names for an instance (``rsi_14`` or ``macd_12_26_9.signal``)."""
        if len(self.outputs) == 1:
            return (instance,)
        return tuple(f"{instance}.{o}" for o in self.outputs)


#: Price series a single-series indicator can read (``source``), as in the original KTRDR: the
#: bar columns each reads and its function of ``(o, h, lo, c, v)``, applied to floats when
#: streaming and to NumPy arrays in batch mode (the same IEEE operations, so both modes agree
#: exactly).
SOURCE_SERIES: dict[str, tuple[tuple[str, ...], Callable[..., Any]]] = {
    "close": (("close",), lambda o, h, lo, c, v: c),
    "open": (("open",), lambda o, h, lo, c, v: o),
    "high": (("high",), lambda o, h, lo, c, v: h),
    "low": (("low",), lambda o, h, lo, c, v: lo),
    "hl2": (("high", "low"), lambda o, h, lo, c, v: (h + lo) / 2.0),
    "hlc3": (("high", "low", "close"), lambda o, h, lo, c, v: (h + lo + c) / 3.0),
    "ohlc4": (("open", "high", "low", "close"), lambda o, h, lo, c, v: (o + h + lo + c) / 4.0),
}
SOURCES: tuple[str, ...] = tuple(SOURCE_SERIES)
SOURCE_PARAM = ParamSpec(
    "source",
    "str",
    "close",
    choices=SOURCES,
    description="price series to read: close, open, high, low, hl2, hlc3 or ohlc4",
    in_name=False,
)
