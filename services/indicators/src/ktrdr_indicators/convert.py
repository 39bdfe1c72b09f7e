"""The only module of the indicator service that knows both protobuf and domain types."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from ktrdr.indicators.v1 import indicators_pb2
from ktrdr_core.errors import ValidationError
from ktrdr_indicators.domain.metadata import IndicatorInfo

_CATEGORIES = {
    "trend": indicators_pb2.INDICATOR_CATEGORY_TREND,
    "momentum": indicators_pb2.INDICATOR_CATEGORY_MOMENTUM,
    "volatility": indicators_pb2.INDICATOR_CATEGORY_VOLATILITY,
    "volume": indicators_pb2.INDICATOR_CATEGORY_VOLUME,
}
_TYPES = {
    "int": indicators_pb2.PARAMETER_TYPE_INT,
    "float": indicators_pb2.PARAMETER_TYPE_FLOAT,
    "str": indicators_pb2.PARAMETER_TYPE_STRING,
    "bool": indicators_pb2.PARAMETER_TYPE_BOOL,
}
_STREAMING = {
    "incremental": indicators_pb2.STREAMING_MODE_INCREMENTAL,
    "window-recompute": indicators_pb2.STREAMING_MODE_WINDOW_RECOMPUTE,
}


def _type_name(typ: Any) -> str:
    return typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))


def _value(value: Any) -> struct_pb2.Value:
    out = struct_pb2.Value()
    if value is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int | float):
        out.number_value = float(value)
    else:
        out.string_value = str(value)
    return out


def indicator_info(info: IndicatorInfo) -> indicators_pb2.IndicatorInfo:
    params = []
    for p in info.params:
        msg = indicators_pb2.ParameterInfo(
            name=p.name,
            type=_TYPES.get(_type_name(p.type), indicators_pb2.PARAMETER_TYPE_UNSPECIFIED),
            default_value=_value(p.default),
            choices=[str(c) for c in (p.choices or ())],
            description=p.description or "",
        )
        if p.minimum is not None:
            msg.minimum = float(p.minimum)
        if p.maximum is not None:
            msg.maximum = float(p.maximum)
        params.append(msg)
    return indicators_pb2.IndicatorInfo(
        name=info.name,
        display_name=info.display_name,
        category=_CATEGORIES.get(info.category, indicators_pb2.INDICATOR_CATEGORY_OTHER),
        description=info.description,
        parameters=params,
        outputs=list(info.outputs),
        primary_output=info.primary_output,
        warmup_bars=int(info.warmup(None)),
        engine=info.engine,
        streaming_mode=_STREAMING.get(info.streaming, indicators_pb2.STREAMING_MODE_UNSPECIFIED),
        aliases=list(info.aliases),
    )


def parameters(struct: struct_pb2.Struct, field: str = "parameters") -> dict[str, Any]:
    """A request's parameter Struct as a plain dict (numbers arrive as floats)."""
    values = json_format.MessageToDict(struct)
    for key, value in values.items():
        if isinstance(value, dict | list):
            raise ValidationError(
                "IND-003",
                f"'{field}.{key}' must be a number, string or boolean.",
                field=f"{field}.{key}",
            )
    return values


def spec(message: indicators_pb2.IndicatorSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "indicator": message.indicator,
        "parameters": parameters(message.parameters),
    }
    if message.id:
        out["id"] = message.id
    return out
