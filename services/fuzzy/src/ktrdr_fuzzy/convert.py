"""The only module of the fuzzy service that knows both protobuf and domain types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ktrdr.fuzzy.v1 import fuzzy_pb2
from ktrdr_core.dates import parse_date
from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.features import FeatureSpec
from ktrdr_core.strategy.fuzzy_sets import FuzzySetDefinition, parse_fuzzy_set
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_core.values import ValueFrame
from ktrdr_fuzzy.domain import errors as codes
from ktrdr_fuzzy.domain.features import FeatureRequest, Features
from ktrdr_fuzzy.domain.operations import StreamSpec
from ktrdr_runtime.bars import frame_to_value_columns, timestamps, value_columns_to_frame

# Bounds of ad-hoc requests (the work and memory one call may ask for).
MAX_MEMBERSHIPS = 32  # membership functions of one ad-hoc fuzzy set
MAX_VALUES = 50_000  # values one EvaluateMembership call evaluates
MAX_SETS = 64  # ad-hoc fuzzy sets of one StreamFuzzy config, set ids of one CalculateFuzzy


def check_count(count: int, limit: int, what: str, field: str) -> None:
    """INVALID_ARGUMENT ``FUZZY-028`` naming ``field`` when ``count`` exceeds ``limit``."""
    if count > limit:
        raise ValidationError(
            codes.TOO_MANY,
            f"'{field}' has {count:,} {what}; at most {limit:,} are allowed in one request.",
            field=field,
        )


_METHODS = {
    fuzzy_pb2.INFERENCE_METHOD_MAMDANI: "mamdani",
    fuzzy_pb2.INFERENCE_METHOD_SUGENO: "sugeno",
}
_AND = {fuzzy_pb2.AND_METHOD_MIN: "min", fuzzy_pb2.AND_METHOD_PRODUCT: "product"}
_OR = {fuzzy_pb2.OR_METHOD_MAX: "max", fuzzy_pb2.OR_METHOD_PROBABILISTIC_SUM: "probor"}
_DEFUZZ = {
    fuzzy_pb2.DEFUZZIFICATION_CENTROID: "centroid",
    fuzzy_pb2.DEFUZZIFICATION_BISECTOR: "bisector",
    fuzzy_pb2.DEFUZZIFICATION_MEAN_OF_MAXIMUM: "mom",
    fuzzy_pb2.DEFUZZIFICATION_SMALLEST_OF_MAXIMUM: "som",
    fuzzy_pb2.DEFUZZIFICATION_LARGEST_OF_MAXIMUM: "lom",
}


def membership(m: Any) -> fuzzy_pb2.MembershipFunction:
    """A domain membership definition as its message."""
    spec = m.to_dict()
    return fuzzy_pb2.MembershipFunction(
        name=m.name,
        type=spec["type"],
        parameters=list(spec["parameters"]),
        shoulder=spec.get("shoulder", ""),
    )


def fuzzy_set(fs: FuzzySetDefinition, strategy: str = "") -> fuzzy_pb2.FuzzySet:
    return fuzzy_pb2.FuzzySet(
        id=fs.id,
        indicator=fs.indicator,
        strategy=strategy,
        memberships=[membership(m) for m in fs.memberships],
    )


def _membership_dict(m: fuzzy_pb2.MembershipFunction) -> dict[str, Any]:
    out: dict[str, Any] = {"type": m.type or "triangular", "parameters": list(m.parameters)}
    if m.shoulder:
        out["shoulder"] = m.shoulder
    return out


def adhoc_set(
    field: str,
    set_id: str,
    memberships: Sequence[fuzzy_pb2.MembershipFunction],
    *,
    indicator: str = "",
) -> FuzzySetDefinition:
    """A fuzzy set from request messages, validated like a strategy file's."""
    check_count(len(memberships), MAX_MEMBERSHIPS, "membership functions", field)
    raw: dict[str, Any] = {"indicator": indicator or set_id}
    for i, m in enumerate(memberships):
        if not m.name:
            raise ValidationError(
                "FUZZY-007", f"'{field}[{i}].name' is required.", field=f"{field}[{i}].name"
            )
        if m.name in raw:
            raise ValidationError(
                "FUZZY-007",
                f"'{field}' repeats the membership '{m.name}'.",
                field=f"{field}[{i}].name",
            )
        raw[m.name] = _membership_dict(m)
    return parse_fuzzy_set(set_id, raw, field=field)


_KINDS = {"fuzzy": fuzzy_pb2.FEATURE_KIND_MEMBERSHIP, "raw": fuzzy_pb2.FEATURE_KIND_RAW}
_NORMALIZATIONS = {
    "none": fuzzy_pb2.NORMALIZATION_NONE,
    "zscore": fuzzy_pb2.NORMALIZATION_ZSCORE,
    "minmax": fuzzy_pb2.NORMALIZATION_MINMAX,
}


def feature_request(message: fuzzy_pb2.CalculateFuzzyRequest) -> FeatureRequest:
    """The request's feature selection; a start after the end is ``FUZZY-027`` (the one rule
    of every service: reversed dates are INVALID_ARGUMENT naming ``start_date``), more than
    ``MAX_SETS`` set ids ``FUZZY-028``."""
    start = parse_date(message.start_date or None, "start_date")
    end = parse_date(message.end_date or None, "end_date")
    if start is not None and end is not None and start > end:
        raise ValidationError(
            codes.REVERSED_DATES,
            f"'start_date' {start.isoformat()} is after 'end_date' {end.isoformat()}.",
            field="start_date",
        )
    check_count(len(message.fuzzy_sets), MAX_SETS, "fuzzy sets", "fuzzy_sets")
    return FeatureRequest(
        symbol=message.symbol,
        timeframe=parse_timeframe(message.timeframe) if message.timeframe else None,
        start=start,
        end=end,
        fuzzy_sets=tuple(message.fuzzy_sets),
    )


def feature(spec: FeatureSpec) -> fuzzy_pb2.Feature:
    return fuzzy_pb2.Feature(
        name=spec.name,
        timeframe=spec.timeframe,
        kind=_KINDS[spec.kind],
        indicator=spec.indicator,
        fuzzy_set=spec.fuzzy_set,
        membership=spec.membership,
        normalization=_NORMALIZATIONS[spec.normalization],
    )


def features(result: Features) -> fuzzy_pb2.CalculateFuzzyResponse:
    return fuzzy_pb2.CalculateFuzzyResponse(
        timestamps=timestamps(result.values.timestamps_us),
        columns=frame_to_value_columns(result.values),
        features=[feature(f) for f in result.features],
    )


def stream_spec(config: fuzzy_pb2.StreamFuzzyConfig) -> StreamSpec:
    check_count(len(config.fuzzy_sets), MAX_SETS, "fuzzy sets", "config.fuzzy_sets")
    return StreamSpec(
        fuzzy_sets=tuple(
            adhoc_set(
                f"config.fuzzy_sets[{i}]",
                fs.id or fs.indicator,
                fs.memberships,
                indicator=fs.indicator,
            )
            for i, fs in enumerate(config.fuzzy_sets)
        ),
        strategy=config.strategy,
        timeframe=(
            parse_timeframe(config.timeframe, field="config.timeframe")
            if config.timeframe
            else None
        ),
        features=config.features,
    )


def stream_values(message: fuzzy_pb2.IndicatorValues) -> ValueFrame:
    """A stream batch's indicator columns; ragged columns are FUZZY-025 naming ``values``."""
    try:
        return value_columns_to_frame(message.timestamps_us, message.columns)
    except ValueError as exc:
        raise ValidationError(
            codes.BAD_STREAM_VALUES, f"'values': {exc}.", field="values"
        ) from None


def stream_response(values: ValueFrame) -> fuzzy_pb2.StreamFuzzyResponse:
    return fuzzy_pb2.StreamFuzzyResponse(
        timestamps_us=values.timestamps_us.tolist(), columns=frame_to_value_columns(values)
    )


def _variable(v: fuzzy_pb2.LinguisticVariable, field: str, *, output: bool) -> dict[str, Any]:
    if v.minimum >= v.maximum and (output or v.minimum or v.maximum):
        raise ValidationError(
            "FUZZY-018",
            f"'{field}' universe [{v.minimum}, {v.maximum}] must have minimum < maximum.",
            field=f"{field}.minimum",
        )
    out: dict[str, Any] = {"terms": {t.name: _membership_dict(t) for t in v.terms}}
    if v.minimum < v.maximum:
        out["universe"] = [v.minimum, v.maximum]
    if output and v.resolution:
        out["resolution"] = v.resolution
    return out


def _sugeno_terms(v: fuzzy_pb2.LinguisticVariable, inputs: Sequence[str]) -> dict[str, Any]:
    terms: dict[str, Any] = {}
    for t in v.terms:
        if t.type == "constant" and len(t.parameters) == 1:
            terms[t.name] = float(t.parameters[0])
        elif t.type == "linear" and len(t.parameters) == len(inputs) + 1:
            terms[t.name] = {
                "constant": float(t.parameters[0]),
                "coefficients": dict(zip(inputs, map(float, t.parameters[1:]), strict=True)),
            }
        else:
            raise ValidationError(
                "FUZZY-018",
                f"Sugeno output term '{t.name}' must be 'constant' [c] or 'linear' "
                f"[c, one coefficient per input: {', '.join(inputs)}].",
                field=f"system.output.terms.{t.name}",
            )
    return terms


def rule_system(system: fuzzy_pb2.RuleSystem) -> dict[str, Any]:
    """The domain's dict form of a rule system message."""
    method = _METHODS.get(system.method, "mamdani")
    names = [v.name for v in system.inputs]
    out: dict[str, Any] = {
        "type": method,
        "and": _AND.get(system.and_method, "min"),
        "or": _OR.get(system.or_method, "max"),
        "inputs": {
            v.name: _variable(v, f"system.inputs.{v.name}", output=False) for v in system.inputs
        },
        "rules": list(system.rules),
    }
    if method == "mamdani":
        out["defuzzification"] = _DEFUZZ.get(system.defuzzification, "centroid")
        out["outputs"] = {
            system.output.name: _variable(system.output, "system.output", output=True)
        }
    else:
        out["outputs"] = {system.output.name: {"terms": _sugeno_terms(system.output, names)}}
    return out
