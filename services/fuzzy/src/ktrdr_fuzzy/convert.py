"""The only module of the fuzzy service that knows both protobuf and domain types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from google.protobuf import struct_pb2

from ktrdr.fuzzy.v1 import fuzzy_pb2
from ktrdr_core.dates import parse_date, to_us
from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.fuzzy_sets import FuzzySetDefinition, parse_fuzzy_set

# Bounds of ad-hoc requests (the work and memory one call may ask for).
MAX_MEMBERSHIPS = 32  # membership functions of one ad-hoc fuzzy set
MAX_VALUES = 50_000  # values one EvaluateMembership call evaluates
MAX_SETS = 64  # ad-hoc fuzzy sets of one StreamFuzzy config


def check_count(count: int, limit: int, what: str, field: str) -> None:
    """INVALID_ARGUMENT ``FUZZY-028`` naming ``field`` when ``count`` exceeds ``limit``."""
    if count > limit:
        raise ValidationError(
            "FUZZY-028",
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


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(dict(values))
    return out


def check_range(start: str, end: str) -> None:
    """The one rule of every service: ``start_date`` after ``end_date`` is INVALID_ARGUMENT.

    Raises
    ------
    ValidationError
        ``FUZZY-027`` naming ``start_date`` (``COMMON-003`` for an unparsable date).
    """
    lo = parse_date(start or None, "start_date")
    hi = parse_date(end or None, "end_date")
    if lo is not None and hi is not None and lo > hi:
        raise ValidationError(
            "FUZZY-027",
            f"'start_date' {lo.isoformat()} is after 'end_date' {hi.isoformat()}.",
            field="start_date",
        )


def range_mask(stamps_us: np.ndarray, start: str, end: str) -> np.ndarray:
    """Bars with ``start <= t < end`` (either bound optional)."""
    keep = np.ones(len(stamps_us), dtype=bool)
    lo = parse_date(start or None, "start_date")
    hi = parse_date(end or None, "end_date")
    if lo is not None:
        keep &= stamps_us >= to_us(lo)
    if hi is not None:
        keep &= stamps_us < to_us(hi)
    return keep


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
