"""Rule-based fuzzy inference (Mamdani and Sugeno), scalar and vectorized.

Rules
-----
Text form (keywords case-insensitive, ``NOT`` > ``AND`` > ``OR``, parentheses allowed)::

    IF rsi IS oversold AND (trend IS up OR trend IS NOT down) THEN signal IS buy WITH 0.8

``WITH w`` is the rule weight in ``[0, 1]`` (default 1): the rule's firing strength is
multiplied by it, as skfuzzy's ``term % w``. Structured form (YAML/dict)::

    {if: {and: [{rsi: oversold}, {not: {trend: down}}]}, then: {signal: buy}, weight: 0.8}

where a condition is ``{var: term}``, ``{and: [...]}``, ``{or: [...]}``, ``{not: cond}`` or a
text condition (``"rsi IS oversold AND trend IS up"``); ``then`` is ``{var: term}`` or
``"var IS term"``.

System definition (dict/YAML)
-----------------------------
.. code-block:: yaml

    type: mamdani                 # or sugeno
    and: min                      # min | product
    or: max                       # max | probor (probabilistic sum a + b - ab)
    implication: min              # min (clip) | product (scale)    [mamdani]
    aggregation: max              # max                             [mamdani]
    defuzzification: centroid     # centroid | bisector | mom | som | lom  [mamdani]
    inputs:
      rsi: {universe: [0, 100], terms: {low: [0, 0, 50], high: [50, 100, 100]}}
      trend: {fuzzy_set: adx_14}   # reuse a strategy fuzzy set's memberships
    outputs:
      signal: {universe: [-1, 1], resolution: 1001, terms: {sell: [-1, -1, 0], buy: [0, 1, 1]}}
      # sugeno: terms: {buy: 1.0, sell: {constant: -1.0, coefficients: {rsi: 0.01}}}
    rules: [...]

Semantics
---------
* Mamdani: firing = antecedent (AND/OR/NOT = min/max/1-x or product/probor/1-x) x weight;
  each output term is clipped (``min``) or scaled (``product``) by the max firing of the rules
  concluding it; terms are aggregated by ``max`` on the output universe sampled at
  ``resolution`` points; defuzzification integrates the piecewise-linear result exactly
  (centroid, bisector), or picks the maxima (mom/som/lom) of the samples. Matches skfuzzy's
  ``ControlSystemSimulation`` within the sampling error of its kinks.
* Sugeno: weighted average of rule outputs ``z = constant + sum(coef[v] * x[v])`` (zero order
  when there are no coefficients), weights = firing strengths.
* Input memberships are the exact functions (no universe sampling or clipping, unlike skfuzzy).
* No rule fires (total weight 0) -> ``NaN``. Any ``NaN`` input -> ``NaN`` outputs ("not
  ready").

Bounds
------
Everything that sizes work or memory is checked when a system is built (FUZZY-018 naming the
field and the allowed range): at most ``MAX_INPUTS`` (16) input variables, ``MAX_OUTPUTS`` (4)
outputs, ``MAX_TERMS`` (32) terms per variable, ``MAX_RULES`` (512) rules of at most
``MAX_RULE_CHARS`` (2,000) characters nested at most ``MAX_NESTING`` (16) deep, and an output
``resolution`` of ``MIN_RESOLUTION`` (3) to ``MAX_RESOLUTION`` (10,001) points. The largest
system samples 32 x 10,001 points per output (2.6 MB); :meth:`FuzzyInference.infer_many`
sizes its chunks so one chunk's aggregation stays within ``CHUNK_BUDGET_BYTES`` (32 MiB).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ktrdr_core.errors import ValidationError, suggest
from ktrdr_core.strategy.fuzzy_sets import FuzzySetDefinition, parse_membership
from ktrdr_core.strategy.membership import MembershipFunction
from ktrdr_fuzzy.domain import errors as codes

METHODS = ("mamdani", "sugeno")
AND_METHODS = ("min", "product")
OR_METHODS = ("max", "probor")
IMPLICATIONS = ("min", "product")
AGGREGATIONS = ("max",)
DEFUZZ_METHODS = ("centroid", "bisector", "mom", "som", "lom")
SYSTEM_KEYS = (
    "type",
    "and",
    "or",
    "implication",
    "aggregation",
    "defuzzification",
    "inputs",
    "outputs",
    "rules",
)
_KEYWORDS = {"if", "then", "and", "or", "not", "is", "with"}

MAX_INPUTS = 16
MAX_OUTPUTS = 4
MAX_TERMS = 32
MAX_RULES = 512
MAX_RULE_CHARS = 2000
MAX_NESTING = 16
MIN_RESOLUTION = 3
MAX_RESOLUTION = 10_001
CHUNK_BUDGET_BYTES = 32 * 2**20

# ---------------------------------------------------------------------------- rule syntax tree


@dataclasses.dataclass(frozen=True, slots=True)
class Is:
    """``variable IS term``."""

    variable: str
    term: str


@dataclasses.dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclasses.dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


Expr = Is | Not | And | Or


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """``IF antecedent THEN output IS term`` with a weight."""

    antecedent: Expr
    output: str
    term: str
    weight: float = 1.0
    text: str = ""


_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_.\-]*))"
)


def _syntax(text: str, msg: str, field: str) -> ValidationError:
    return ValidationError(codes.RULE_SYNTAX, f"Rule {text!r}: {msg}", field=field)


class _Parser:
    def __init__(self, text: str, field: str) -> None:
        if len(text) > MAX_RULE_CHARS:
            raise ValidationError(
                codes.BAD_INFERENCE_SYSTEM,
                f"Rule '{text[:40]}...' has {len(text)} characters; at most {MAX_RULE_CHARS}.",
                field=field,
            )
        self.text, self.field = text, field
        self.depth = 0
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        stripped = text.rstrip()
        while pos < len(stripped):
            m = _TOKEN.match(stripped, pos)
            if not m or m.end() == pos:
                raise _syntax(text, f"unexpected character at position {pos}.", field)
            kind = m.lastgroup or ""
            value = m.group(kind)
            if kind == "id" and value.lower() in _KEYWORDS:
                kind, value = "kw", value.lower()
            self.tokens.append((kind, value))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "")

    def take(self, kind: str, value: str | None = None, what: str = "") -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            got = v or "end of rule"
            raise _syntax(self.text, f"expected {what or value or kind}, got '{got}'.", self.field)
        self.i += 1
        return v

    def accept(self, value: str) -> bool:
        if self.peek() == ("kw", value):
            self.i += 1
            return True
        return False

    def or_expr(self) -> Expr:
        ops = [self.and_expr()]
        while self.accept("or"):
            ops.append(self.and_expr())
        return ops[0] if len(ops) == 1 else Or(tuple(ops))

    def and_expr(self) -> Expr:
        ops = [self.unary()]
        while self.accept("and"):
            ops.append(self.unary())
        return ops[0] if len(ops) == 1 else And(tuple(ops))

    def unary(self) -> Expr:
        self.depth += 1
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Expr:
        if self.depth > MAX_NESTING:
            raise _syntax(
                self.text, f"NOT and parentheses nest at most {MAX_NESTING} deep.", self.field
            )
        if self.accept("not"):
            return Not(self.unary())
        if self.peek()[0] == "lp":
            self.i += 1
            e = self.or_expr()
            self.take("rp", what="')'")
            return e
        var = self.take("id", what="a variable name")
        self.take("kw", "is", what="IS")
        negate = self.accept("not")
        term = self.take("id", what="a term name")
        return Not(Is(var, term)) if negate else Is(var, term)

    def condition(self) -> Expr:
        e = self.or_expr()
        if self.peek()[0] != "eof":
            raise _syntax(self.text, f"unexpected '{self.peek()[1]}'.", self.field)
        return e

    def rule(self) -> Rule:
        self.take("kw", "if", what="IF")
        antecedent = self.or_expr()
        self.take("kw", "then", what="THEN (or AND/OR)")
        output = self.take("id", what="an output variable")
        self.take("kw", "is", what="IS")
        term = self.take("id", what="an output term")
        weight = 1.0
        if self.accept("with"):
            weight = float(self.take("num", what="a weight"))
        if self.peek()[0] != "eof":
            raise _syntax(
                self.text, f"unexpected '{self.peek()[1]}' after the consequent.", self.field
            )
        return Rule(antecedent, output, term, _check_weight(weight, self.field), self.text)


def _check_weight(w: Any, field: str) -> float:
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0.0 <= w <= 1.0:
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM,
            f"Rule weight must be a number in [0, 1], got {w!r}.",
            field=f"{field}.weight",
        )
    return float(w)


def parse_condition(text: str, *, field: str = "rule") -> Expr:
    """Parse a bare condition such as ``"rsi IS low AND NOT (trend IS down)"``."""
    return _Parser(text, field).condition()


def _structured_condition(raw: Any, field: str, depth: int = 0) -> Expr:
    if depth > MAX_NESTING:
        raise _syntax(str(raw)[:80], f"conditions nest at most {MAX_NESTING} deep.", field)
    if isinstance(raw, str):
        return parse_condition(raw, field=field)
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((key, value),) = raw.items()
        k = str(key).lower()
        if k in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise _syntax(str(raw), f"'{key}' needs a non-empty list.", field)
            ops = tuple(
                _structured_condition(v, f"{field}.{k}[{i}]", depth + 1)
                for i, v in enumerate(value)
            )
            return ops[0] if len(ops) == 1 else (And(ops) if k == "and" else Or(ops))
        if k == "not":
            return Not(_structured_condition(value, f"{field}.not", depth + 1))
        if isinstance(value, str):
            return Is(str(key), value)
    raise _syntax(
        str(raw),
        "a condition is {var: term}, {and: [...]}, {or: [...]}, {not: ...} or text.",
        field,
    )


def parse_rule(raw: str | Mapping[str, Any], *, field: str = "rules[0]") -> Rule:
    """Parse a rule from text or the structured mapping form.

    Raises
    ------
    ValidationError
        FUZZY-016 syntax; FUZZY-018 bad weight.
    """
    if isinstance(raw, str):
        return _Parser(raw, field).rule()
    if not isinstance(raw, Mapping):
        raise _syntax(repr(raw), "a rule is a string or a mapping {if, then, weight}.", field)
    for key in raw:
        if key not in ("if", "then", "weight"):
            raise ValidationError(
                codes.UNKNOWN_KEY,
                f"'{field}' has unknown key '{key}'.",
                field=f"{field}.{key}",
                suggestions=suggest(str(key), ("if", "then", "weight")),
            )
    if "if" not in raw or "then" not in raw:
        raise _syntax(repr(dict(raw)), "a structured rule needs 'if' and 'then'.", field)
    antecedent = _structured_condition(raw["if"], f"{field}.if")
    then = raw["then"]
    if isinstance(then, str):
        p = _Parser(then, f"{field}.then")
        output = p.take("id", what="an output variable")
        p.take("kw", "is", what="IS")
        term = p.take("id", what="an output term")
    elif isinstance(then, Mapping) and len(then) == 1:
        ((output, term),) = then.items()
        output, term = str(output), str(term)
    else:
        raise _syntax(repr(then), "'then' is {output: term} or 'output IS term'.", field)
    weight = _check_weight(raw.get("weight", 1.0), field)
    return Rule(antecedent, output, term, weight, str(dict(raw)))


# ----------------------------------------------------------------------------------- variables


@dataclasses.dataclass(frozen=True, slots=True)
class InputVariable:
    """A linguistic input: named terms (membership functions); universe is informative."""

    name: str
    terms: dict[str, MembershipFunction]
    universe: tuple[float, float] | None = None

    @classmethod
    def from_fuzzy_set(cls, fs: FuzzySetDefinition, name: str | None = None) -> InputVariable:
        return cls(name or fs.id, {m.name: m.function for m in fs.memberships})


@dataclasses.dataclass(frozen=True, slots=True)
class OutputVariable:
    """A Mamdani output: universe ``[lo, hi]`` sampled at ``resolution`` points, and terms."""

    name: str
    universe: tuple[float, float]
    terms: dict[str, MembershipFunction]
    resolution: int = 1001

    @property
    def grid(self) -> np.ndarray:
        return np.linspace(self.universe[0], self.universe[1], self.resolution)


@dataclasses.dataclass(frozen=True, slots=True)
class SugenoTerm:
    """A Sugeno consequent ``constant + sum(coefficients[v] * x[v])``."""

    constant: float
    coefficients: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class SugenoOutput:
    name: str
    terms: dict[str, SugenoTerm]


@dataclasses.dataclass(frozen=True, slots=True)
class InferenceSystem:
    """A validated rule base; construct with :func:`build_inference_system` or directly."""

    inputs: dict[str, InputVariable]
    outputs: dict[str, OutputVariable] | dict[str, SugenoOutput]
    rules: tuple[Rule, ...]
    method: str = "mamdani"
    and_method: str = "min"
    or_method: str = "max"
    implication: str = "min"
    aggregation: str = "max"
    defuzzification: str = "centroid"

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("type", self.method, METHODS),
            ("and", self.and_method, AND_METHODS),
            ("or", self.or_method, OR_METHODS),
            ("implication", self.implication, IMPLICATIONS),
            ("aggregation", self.aggregation, AGGREGATIONS),
            ("defuzzification", self.defuzzification, DEFUZZ_METHODS),
        ):
            if value not in allowed:
                raise ValidationError(
                    codes.BAD_INFERENCE_SYSTEM,
                    f"'{name}' must be one of {', '.join(allowed)}, got {value!r}.",
                    field=name,
                    suggestions=suggest(str(value), allowed, cutoff=0.4),
                )
        if not self.rules:
            raise ValidationError(
                codes.BAD_INFERENCE_SYSTEM, "The rule base is empty.", field="rules"
            )
        for o in self.outputs.values():
            wrong = SugenoOutput if self.method == "mamdani" else OutputVariable
            if isinstance(o, wrong):
                raise ValidationError(
                    codes.BAD_INFERENCE_SYSTEM,
                    f"Output '{o.name}' does not fit a {self.method} system.",
                    field=f"outputs.{o.name}",
                )
            if isinstance(o, SugenoOutput):
                for t, st in o.terms.items():
                    for v in st.coefficients:
                        if v not in self.inputs:
                            raise ValidationError(
                                codes.RULE_UNKNOWN_NAME,
                                f"Sugeno term '{o.name}.{t}' has a coefficient for unknown "
                                f"input '{v}'.",
                                field=f"outputs.{o.name}.terms.{t}.coefficients.{v}",
                                suggestions=suggest(v, self.inputs),
                            )
        for i, r in enumerate(self.rules):
            self._check_rule(r, f"rules[{i}]")

    def _check_rule(self, rule: Rule, field: str) -> None:
        def unknown(kind: str, name: str, choices: Sequence[str], where: str) -> None:
            raise ValidationError(
                codes.RULE_UNKNOWN_NAME,
                f"Rule {rule.text!r} references unknown {kind} '{name}'; known: "
                f"{', '.join(choices)}.",
                field=f"{field}.{where}",
                suggestions=suggest(name, choices),
            )

        for node in _walk(rule.antecedent):
            var = self.inputs.get(node.variable)
            if var is None:
                unknown("input variable", node.variable, list(self.inputs), node.variable)
            elif node.term not in var.terms:
                unknown(
                    f"term of '{node.variable}'",
                    node.term,
                    list(var.terms),
                    f"{node.variable}.{node.term}",
                )
        out = self.outputs.get(rule.output)
        if out is None:
            unknown("output variable", rule.output, list(self.outputs), rule.output)
        elif rule.term not in out.terms:
            unknown(
                f"term of '{rule.output}'", rule.term, list(out.terms), f"{rule.output}.{rule.term}"
            )


def _walk(e: Expr) -> list[Is]:
    if isinstance(e, Is):
        return [e]
    if isinstance(e, Not):
        return _walk(e.operand)
    return [leaf for op in e.operands for leaf in _walk(op)]


def _at_most(count: int, limit: int, what: str, field: str) -> None:
    if count > limit:
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM,
            f"'{field}' has {count} {what}; at most {limit} are allowed.",
            field=field,
        )


def _resolution(raw: Any, field: str) -> int:
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int)
        or not MIN_RESOLUTION <= raw <= MAX_RESOLUTION
    ):
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM,
            f"'{field}' must be an integer from {MIN_RESOLUTION} to {MAX_RESOLUTION:,} "
            f"(points sampled over the output universe), got {str(raw)[:40]}.",
            field=field,
        )
    return raw


def _universe(raw: Any, field: str) -> tuple[float, float]:
    if (
        not isinstance(raw, (list, tuple))
        or len(raw) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
        or not raw[0] < raw[1]
    ):
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM,
            f"'{field}' must be [low, high] with low < high.",
            field=field,
        )
    return float(raw[0]), float(raw[1])


def _terms(raw: Any, field: str) -> dict[str, MembershipFunction]:
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError(codes.BAD_INFERENCE_SYSTEM, f"'{field}' needs terms.", field=field)
    _at_most(len(raw), MAX_TERMS, "terms", field)
    return {
        str(k): parse_membership(str(k), v, field=f"{field}.{k}").function for k, v in raw.items()
    }


def _check(raw: Mapping[str, Any], allowed: tuple[str, ...], field: str) -> None:
    for key in raw:
        if key not in allowed:
            raise ValidationError(
                codes.UNKNOWN_KEY,
                f"'{field or 'inference'}' has unknown key '{key}'.",
                field=f"{field}.{key}" if field else str(key),
                suggestions=suggest(str(key), allowed),
            )


def build_inference_system(
    config: Mapping[str, Any], *, fuzzy_sets: Mapping[str, FuzzySetDefinition] | None = None
) -> InferenceSystem:
    """Build a system from its dict/YAML form (module docstring).

    Parameters
    ----------
    config
        The mapping.
    fuzzy_sets
        Strategy fuzzy sets that inputs may reference with ``{fuzzy_set: id}``.

    Raises
    ------
    ValidationError
        FUZZY-016/017/018, FUZZY-006 unknown keys, membership codes FUZZY-001..005.
    """
    _check(config, SYSTEM_KEYS, "")
    method = config.get("type", "mamdani")
    inputs: dict[str, InputVariable] = {}
    raw_inputs = config.get("inputs")
    if not isinstance(raw_inputs, Mapping) or not raw_inputs:
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM, "'inputs' must be a non-empty mapping.", field="inputs"
        )
    _at_most(len(raw_inputs), MAX_INPUTS, "input variables", "inputs")
    for name, spec in raw_inputs.items():
        f = f"inputs.{name}"
        if not isinstance(spec, Mapping):
            raise ValidationError(codes.BAD_INFERENCE_SYSTEM, f"'{f}' must be a mapping.", field=f)
        _check(spec, ("universe", "terms", "fuzzy_set"), f)
        if "fuzzy_set" in spec:
            sets = fuzzy_sets or {}
            if spec["fuzzy_set"] not in sets:
                raise ValidationError(
                    codes.RULE_UNKNOWN_NAME,
                    f"'{f}.fuzzy_set' {spec['fuzzy_set']!r} is unknown.",
                    field=f"{f}.fuzzy_set",
                    suggestions=suggest(str(spec["fuzzy_set"]), sets),
                )
            inputs[str(name)] = InputVariable.from_fuzzy_set(sets[spec["fuzzy_set"]], str(name))
        else:
            uni = _universe(spec["universe"], f"{f}.universe") if "universe" in spec else None
            inputs[str(name)] = InputVariable(
                str(name), _terms(spec.get("terms"), f"{f}.terms"), uni
            )
    raw_outputs = config.get("outputs")
    if not isinstance(raw_outputs, Mapping) or not raw_outputs:
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM, "'outputs' must be a non-empty mapping.", field="outputs"
        )
    _at_most(len(raw_outputs), MAX_OUTPUTS, "outputs", "outputs")
    outputs: dict[str, Any] = {}
    for name, spec in raw_outputs.items():
        f = f"outputs.{name}"
        if not isinstance(spec, Mapping):
            raise ValidationError(codes.BAD_INFERENCE_SYSTEM, f"'{f}' must be a mapping.", field=f)
        if method == "sugeno":
            _check(spec, ("terms",), f)
            outputs[str(name)] = SugenoOutput(str(name), _sugeno_terms(spec.get("terms"), f))
        else:
            _check(spec, ("universe", "terms", "resolution"), f)
            res = _resolution(spec.get("resolution", 1001), f"{f}.resolution")
            outputs[str(name)] = OutputVariable(
                str(name),
                _universe(spec.get("universe"), f"{f}.universe"),
                _terms(spec.get("terms"), f"{f}.terms"),
                res,
            )
    raw_rules = config.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM, "'rules' must be a non-empty list.", field="rules"
        )
    _at_most(len(raw_rules), MAX_RULES, "rules", "rules")
    rules = tuple(parse_rule(r, field=f"rules[{i}]") for i, r in enumerate(raw_rules))
    return InferenceSystem(
        inputs,
        outputs,
        rules,
        method,
        and_method=config.get("and", "min"),
        or_method=config.get("or", "max"),
        implication=config.get("implication", "min"),
        aggregation=config.get("aggregation", "max"),
        defuzzification=config.get("defuzzification", "centroid"),
    )


def _sugeno_terms(raw: Any, field: str) -> dict[str, SugenoTerm]:
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError(
            codes.BAD_INFERENCE_SYSTEM, f"'{field}.terms' needs terms.", field=f"{field}.terms"
        )
    _at_most(len(raw), MAX_TERMS, "terms", f"{field}.terms")
    out = {}
    for k, v in raw.items():
        f = f"{field}.terms.{k}"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[str(k)] = SugenoTerm(float(v))
            continue
        if not isinstance(v, Mapping):
            raise ValidationError(
                codes.BAD_INFERENCE_SYSTEM,
                f"'{f}' is a number or {{constant, coefficients}}.",
                field=f,
            )
        _check(v, ("constant", "coefficients"), f)
        coefs = v.get("coefficients", {}) or {}
        nums = [v.get("constant", 0.0), *coefs.values()]
        if not isinstance(coefs, Mapping) or not all(
            isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n)
            for n in nums
        ):
            raise ValidationError(
                codes.BAD_INFERENCE_SYSTEM,
                f"'{f}' constant and coefficients must be finite numbers.",
                field=f,
            )
        out[str(k)] = SugenoTerm(
            float(v.get("constant", 0.0)), {str(a): float(b) for a, b in coefs.items()}
        )
    return out


# ----------------------------------------------------------------------------------- evaluator


def _probor_s(a: float, b: float) -> float:
    return a + b - a * b


def _compile(
    expr: Expr, index: dict[tuple[str, str], int], and_m: str, or_m: str, vector: bool
) -> Callable[[Any], Any]:
    """Compile an antecedent to ``f(mu) -> firing``; ``mu`` is a list or a (K, n) array."""
    if isinstance(expr, Is):
        k = index[(expr.variable, expr.term)]
        return lambda mu: mu[k]
    if isinstance(expr, Not):
        inner = _compile(expr.operand, index, and_m, or_m, vector)
        return lambda mu: 1.0 - inner(mu)
    fs = [_compile(op, index, and_m, or_m, vector) for op in expr.operands]
    method = and_m if isinstance(expr, And) else or_m
    ops: dict[str, Callable[[Any, Any], Any]]
    if vector:
        ops = {
            "min": np.minimum,
            "max": np.maximum,
            "product": np.multiply,
            "probor": lambda a, b: a + b - a * b,
        }
    else:
        ops = {"min": min, "max": max, "product": lambda a, b: a * b, "probor": _probor_s}
    binop = ops[method]

    def run(mu: Any) -> Any:
        acc = fs[0](mu)
        for f in fs[1:]:
            acc = binop(acc, f(mu))
        return acc

    return run


class _MamdaniOutput:
    def __init__(self, out: OutputVariable, system: InferenceSystem) -> None:
        self.name = out.name
        x = out.grid
        self.x = x
        self.term_names = list(out.terms)
        self.M = np.vstack([mf(x) for mf in out.terms.values()])  # (T, U)
        self.rules = [
            (i, self.term_names.index(r.term), r.weight)
            for i, r in enumerate(system.rules)
            if r.output == out.name
        ]
        self.product = system.implication == "product"
        self.method = system.defuzzification
        h = np.diff(x)
        cw = np.zeros_like(x)
        aw = np.zeros_like(x)
        cw[:-1] += h * (2 * x[:-1] + x[1:])
        cw[1:] += h * (x[:-1] + 2 * x[1:])
        aw[:-1] += h
        aw[1:] += h
        self.cw, self.aw = cw / 6.0, aw / 2.0

    def activations(self, firing: np.ndarray) -> np.ndarray:
        """(n, R) firing -> (n, T) term activations (max over rules, weighted)."""
        act = np.zeros((firing.shape[0], len(self.term_names)))
        for i, t, w in self.rules:
            np.maximum(act[:, t], firing[:, i] * w, out=act[:, t])
        return act

    def aggregate(self, act: np.ndarray) -> np.ndarray:
        """(n, T) -> (n, U)."""
        if self.product:
            return (act[:, :, None] * self.M[None]).max(axis=1)
        return np.minimum(act[:, :, None], self.M[None]).max(axis=1)

    def defuzz(self, agg: np.ndarray) -> np.ndarray:
        x = self.x
        peak = agg.max(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.method == "centroid":
                res = (agg @ self.cw) / (agg @ self.aw)
            elif self.method == "bisector":
                res = self._bisector(agg)
            else:
                mask = agg == peak[:, None]
                if self.method == "mom":
                    res = (mask @ x) / mask.sum(axis=1)
                elif self.method == "som":
                    res = x[np.argmax(mask, axis=1)]
                else:
                    res = x[len(x) - 1 - np.argmax(mask[:, ::-1], axis=1)]
        return np.where(peak > 0, res, np.nan)

    def infer_one(self, firing: Sequence[float]) -> float:
        """Scalar fast path: firing strengths of one row -> crisp value."""
        act = [0.0] * len(self.term_names)
        for i, t, w in self.rules:
            v = firing[i] * w
            if v > act[t]:
                act[t] = v
        if max(act) <= 0.0:
            return math.nan
        a = np.array(act)[:, None]
        agg = (a * self.M if self.product else np.minimum(a, self.M)).max(axis=0)
        method = self.method
        if method == "centroid":
            return float(agg @ self.cw) / float(agg @ self.aw)
        if method == "bisector":
            return float(self._bisector(agg[None, :])[0])
        hits = np.flatnonzero(agg == agg.max())
        if method == "mom":
            return float(self.x[hits].mean())
        return float(self.x[hits[0]] if method == "som" else self.x[hits[-1]])

    def _bisector(self, agg: np.ndarray) -> np.ndarray:
        x = self.x
        h = np.diff(x)
        y1, y2 = agg[:, :-1], agg[:, 1:]
        seg = 0.5 * h * (y1 + y2)
        cum = np.cumsum(seg, axis=1)
        half = cum[:, -1] / 2.0
        idx = np.argmax(cum >= half[:, None], axis=1)
        rows = np.arange(agg.shape[0])
        before = np.where(idx > 0, cum[rows, np.maximum(idx - 1, 0)], 0.0)
        sub = half - before
        a, b, w = y1[rows, idx], y2[rows, idx], h[idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            m = (b - a) / w
            flat = b == a
            root = np.sqrt(np.maximum(a * a + 2.0 * m * sub, 0.0))
            t = np.where(flat, sub / a, (root - a) / m)
        return x[idx] + t


class FuzzyInference:
    """Compiled evaluator of an :class:`InferenceSystem`.

    ``infer`` evaluates one input row (a mapping of input name -> float); ``infer_many``
    evaluates arrays (same results, vectorized, processed in chunks of ``chunk`` rows).
    """

    def __init__(self, system: InferenceSystem, *, chunk: int = 1024) -> None:
        self.system = system
        self.chunk = chunk
        pairs = list(
            dict.fromkeys(
                (leaf.variable, leaf.term) for r in system.rules for leaf in _walk(r.antecedent)
            )
        )
        self._index = {p: k for k, p in enumerate(pairs)}
        self._mfs = [(v, system.inputs[v].terms[t]) for v, t in pairs]
        self._scalar_mfs = [(v, mf.scalar) for v, mf in self._mfs]
        self._scalar = [
            _compile(r.antecedent, self._index, system.and_method, system.or_method, False)
            for r in system.rules
        ]
        self._vector = [
            _compile(r.antecedent, self._index, system.and_method, system.or_method, True)
            for r in system.rules
        ]
        self.input_names = tuple(system.inputs)
        self.output_names = tuple(system.outputs)
        if system.method == "mamdani":
            self._mamdani = [_MamdaniOutput(o, system) for o in system.outputs.values()]  # type: ignore[arg-type]
        else:
            self._sugeno = []
            for o in system.outputs.values():
                rules = []
                for i, r in enumerate(system.rules):
                    if r.output == o.name:
                        st = o.terms[r.term]
                        assert isinstance(st, SugenoTerm)  # the method is sugeno
                        rules.append((i, r.weight, st.constant, tuple(st.coefficients.items())))
                self._sugeno.append((o.name, rules))

    def _inputs(self, inputs: Mapping[str, Any]) -> None:
        """Every input variable has a value and no value names an unknown variable."""
        unknown = [str(k) for k in inputs if k not in self.system.inputs]
        if unknown:
            raise ValidationError(
                codes.BAD_ENGINE_INPUT,
                f"'inputs' names {unknown[0][:64]!r}, which is no input variable of the system "
                f"(inputs: {', '.join(self.input_names)}).",
                field=f"inputs.{unknown[0]}",
                suggestions=suggest(unknown[0], self.input_names),
            )
        missing = [n for n in self.input_names if n not in inputs]
        if missing:
            raise ValidationError(
                codes.BAD_ENGINE_INPUT,
                f"Missing input value(s) {', '.join(missing)}.",
                field=f"inputs.{missing[0]}",
                suggestions=suggest(missing[0], [str(k) for k in inputs]),
            )

    def firing_strengths(self, inputs: Mapping[str, float]) -> list[float]:
        """Antecedent degree of every rule (before weights), for one row."""
        self._inputs(inputs)
        mu = [f(float(inputs[v])) for v, f in self._scalar_mfs]
        return [f(mu) for f in self._scalar]

    def infer(self, inputs: Mapping[str, float]) -> dict[str, float]:
        """Crisp outputs for one row of inputs (``NaN`` when not ready / no rule fires)."""
        self._inputs(inputs)
        vals = {n: float(inputs[n]) for n in self.input_names}
        if any(v != v for v in vals.values()):
            return {n: math.nan for n in self.output_names}
        mu = [f(vals[v]) for v, f in self._scalar_mfs]
        firing = [f(mu) for f in self._scalar]
        out: dict[str, float] = {}
        if self.system.method == "mamdani":
            for o in self._mamdani:
                out[o.name] = o.infer_one(firing)
            return out
        for name, rules in self._sugeno:
            num = den = 0.0
            for i, w, c, coefs in rules:
                fw = firing[i] * w
                z = c
                for v, a in coefs:
                    z += a * vals[v]
                num += fw * z
                den += fw
            out[name] = num / den if den > 0 else math.nan
        return out

    def infer_many(self, inputs: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
        """Vectorized :meth:`infer` over equal-length input arrays."""
        self._inputs(inputs)
        cols = {n: np.asarray(inputs[n], dtype=np.float64).reshape(-1) for n in self.input_names}
        n = len(next(iter(cols.values())))
        if any(len(c) != n for c in cols.values()):
            raise ValidationError(
                codes.BAD_ENGINE_INPUT, "Input arrays differ in length.", field="inputs"
            )
        results = {name: np.empty(n) for name in self.output_names}
        step = self._rows_per_chunk()
        for start in range(0, n, step):
            sl = slice(start, min(start + step, n))
            part = {k: v[sl] for k, v in cols.items()}
            for name, arr in self._infer_chunk(part).items():
                results[name][sl] = arr
        return results

    def _rows_per_chunk(self) -> int:
        """``chunk``, fewer when one row's aggregation (terms x resolution) is large."""
        if self.system.method != "mamdani":
            return self.chunk
        per_row = max(o.M.nbytes for o in self._mamdani)
        return max(1, min(self.chunk, CHUNK_BUDGET_BYTES // max(per_row, 1)))

    def _infer_chunk(self, cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        mu = np.array([mf(cols[v]) for v, mf in self._mfs])  # (K, n)
        firing = np.column_stack([np.broadcast_to(f(mu), mu.shape[1:]) for f in self._vector])
        bad = np.zeros(mu.shape[1], dtype=bool)
        for c in cols.values():
            bad |= np.isnan(c)
        firing = np.where(bad[:, None], 0.0, firing)
        out: dict[str, np.ndarray] = {}
        if self.system.method == "mamdani":
            for o in self._mamdani:
                res = o.defuzz(o.aggregate(o.activations(firing)))
                out[o.name] = np.where(bad, np.nan, res)
            return out
        for name, rules in self._sugeno:
            num = np.zeros(mu.shape[1])
            den = np.zeros(mu.shape[1])
            for i, w, const, coefs in rules:
                fw = firing[:, i] * w
                z = np.full(mu.shape[1], const)
                for v, a in coefs:
                    z = z + a * cols[v]
                num += fw * z
                den += fw
            with np.errstate(invalid="ignore", divide="ignore"):
                out[name] = np.where((den > 0) & ~bad, num / den, np.nan)
        return out


__all__ = [
    "And",
    "FuzzyInference",
    "InferenceSystem",
    "InputVariable",
    "Is",
    "Not",
    "Or",
    "OutputVariable",
    "Rule",
    "SugenoOutput",
    "SugenoTerm",
    "build_inference_system",
    "parse_condition",
    "parse_rule",
]
