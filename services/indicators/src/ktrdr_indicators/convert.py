"""The only module of the indicator service that knows both protobuf and domain types."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from ktrdr.common.v1 import common_pb2
from ktrdr.indicators.v1 import indicators_pb2
from ktrdr_core.bars import Bars
from ktrdr_core.dates import parse_date
from ktrdr_core.errors import ValidationError
from ktrdr_core.timeframes import Timeframe, parse_timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_indicators.domain.calculation import CalculateRequest, Calculation, StreamConfig
from ktrdr_indicators.domain.catalogue import Indicator
from ktrdr_indicators.domain.errors import BAD_BARS
from ktrdr_indicators.domain.metadata import IndicatorInfo
from ktrdr_indicators.domain.sources import StoredSelection
from ktrdr_runtime.bars import (
    bars_from_columns,
    bars_from_rows,
    frame_to_value_columns,
    parameters_struct,
    timestamps,
)

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


def _timeframe(code: str, field: str) -> Timeframe | None:
    return parse_timeframe(code, field=field) if code else None


def selection(message: indicators_pb2.DataSelection) -> StoredSelection:
    return StoredSelection(
        symbol=message.symbol,
        timeframe=parse_timeframe(message.timeframe, field="source.timeframe"),
        start=parse_date(message.start_date or None, "source.start_date"),
        end=parse_date(message.end_date or None, "source.end_date"),
    )


def calculate_request(message: indicators_pb2.CalculateIndicatorRequest) -> CalculateRequest:
    return CalculateRequest(
        indicator=message.indicator,
        parameters=parameters(message.parameters),
        bars=bars_from_rows(message.data) if message.data else None,
        source=selection(message.source) if message.HasField("source") else None,
        bars_timeframe=_timeframe(message.data_timeframe, "data_timeframe"),
        compute_timeframe=_timeframe(message.compute_timeframe, "compute_timeframe"),
    )


def calculation(result: Calculation) -> indicators_pb2.CalculateIndicatorResponse:
    return indicators_pb2.CalculateIndicatorResponse(
        indicator_id=result.indicator.name,
        timestamps=timestamps(result.values.timestamps_us),
        outputs=frame_to_value_columns(result.values),
        warmup_bars=result.indicator.warmup,
    )


def validation(indicator: Indicator) -> indicators_pb2.ValidateIndicatorResponse:
    return indicators_pb2.ValidateIndicatorResponse(
        indicator_id=indicator.name,
        outputs=list(indicator.info.outputs),
        columns=list(indicator.columns),
        warmup_bars=indicator.warmup,
        parameters=parameters_struct(indicator.params),
    )


def stream_config(message: indicators_pb2.StreamIndicatorsConfig) -> StreamConfig:
    return StreamConfig(
        indicators=[spec(s) for s in message.indicators],
        base_timeframe=_timeframe(message.base_timeframe, "config.base_timeframe"),
        timeframes=tuple(
            parse_timeframe(code, field=f"config.timeframes[{i}]")
            for i, code in enumerate(message.timeframes)
        ),
        symbol=message.symbol,
        calendar=message.calendar,
    )


def stream_bars(message: common_pb2.BarColumns) -> Bars:
    """A stream's batch of bars; ragged columns are IND-007 naming ``bars``."""
    try:
        return bars_from_columns(message)
    except ValidationError as exc:
        raise ValidationError(BAD_BARS, f"'bars': {exc.message}", field="bars") from None


def stream_response(values: ValueFrame) -> indicators_pb2.StreamIndicatorsResponse:
    return indicators_pb2.StreamIndicatorsResponse(
        timestamps_us=values.timestamps_us.tolist(), columns=frame_to_value_columns(values)
    )
