"""Fuzzy set definitions as written in KTRDR strategy files, with strict validation.

Grammar
-------
.. code-block:: yaml

    fuzzy_sets:
      rsi_14:                          # fuzzy set id (also the default indicator reference)
        indicator: rsi_14              # indicator id, or id.output for multi-output indicators
        oversold:   {type: triangular, parameters: [0, 30, 40], shoulder: left}
        neutral:    [35, 50, 65]       # a bare list is a triangular membership
        overbought: {type: gaussian, parameters: [70, 15]}

Inside a set, ``indicator`` is the only reserved key; every other key is a membership name and
the order written is kept (it defines feature order). A membership is a bare list (triangular)
or a mapping with keys ``type`` (default ``triangular``), ``parameters`` and optional
``shoulder`` (``left``/``right``, see :mod:`ktrdr_core.strategy.membership`). ``indicator`` may be
omitted, in which case the set id is the indicator reference.

Indicator references are checked when ``indicator_outputs`` is given: a mapping of indicator id
to its output names (``()`` when unknown). A single-output indicator is referenced by its id; a
multi-output one must name its output (``macd_12_26_9.histogram``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ktrdr_core.errors import NotFoundError, ValidationError, suggest
from ktrdr_core.problems import Problems
from ktrdr_core.strategy import errors as codes
from ktrdr_core.strategy.membership import MF_TYPES, MembershipFunction, make_membership

MEMBERSHIP_KEYS = ("type", "parameters", "shoulder")
RESERVED_SET_KEYS = ("indicator",)


@dataclasses.dataclass(frozen=True, slots=True)
class MembershipDefinition:
    """One named membership of a fuzzy set (``oversold``) and its function."""

    name: str
    function: MembershipFunction

    @property
    def type(self) -> str:
        return self.function.kind

    @property
    def parameters(self) -> tuple[float, ...]:
        return self.function.parameters

    @property
    def shoulder(self) -> str | None:
        return self.function.shoulder

    def to_dict(self) -> dict[str, Any]:
        return self.function.to_dict()


@dataclasses.dataclass(frozen=True, slots=True)
class FuzzySetDefinition:
    """A fuzzy set: the indicator column it reads and its ordered memberships."""

    id: str
    indicator: str
    memberships: tuple[MembershipDefinition, ...]

    @property
    def indicator_id(self) -> str:
        """The indicator id part of the reference (before any ``.``)."""
        return self.indicator.split(".", 1)[0]

    @property
    def output(self) -> str | None:
        """The output name of a multi-output reference (``histogram``), else ``None``."""
        parts = self.indicator.split(".", 1)
        return parts[1] if len(parts) == 2 else None

    @property
    def membership_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.memberships)

    def membership(self, name: str) -> MembershipDefinition:
        """Return the membership ``name``.

        Raises
        ------
        NotFoundError
            FUZZY-015 with close matches.
        """
        for m in self.memberships:
            if m.name == name:
                return m
        raise NotFoundError(
            codes.FUZZY_SET_NOT_FOUND,
            f"Fuzzy set '{self.id}' has no membership '{name}'; it has "
            f"{', '.join(self.membership_names)}.",
            field=f"fuzzy_sets.{self.id}.{name}",
            suggestions=suggest(name, self.membership_names),
        )

    def to_dict(self) -> dict[str, Any]:
        """The strategy-file form (indicator first, then memberships in order)."""
        out: dict[str, Any] = {"indicator": self.indicator}
        for m in self.memberships:
            out[m.name] = m.to_dict()
        return out


def parse_membership(name: str, raw: Any, *, field: str) -> MembershipDefinition:
    """Parse one membership (bare list or mapping) at config path ``field``."""
    if isinstance(raw, list):
        return MembershipDefinition(name, make_membership("triangular", raw, field=field))
    if not isinstance(raw, Mapping):
        raise ValidationError(
            codes.BAD_FUZZY_SET,
            f"'{field}' must be a list of triangular parameters or a mapping with 'type' and "
            f"'parameters', got {type(raw).__name__} {raw!r}.",
            field=field,
            suggestions=suggest(name, RESERVED_SET_KEYS),
        )
    problems = Problems()
    unknown = problems.unknown_keys(raw, MEMBERSHIP_KEYS, field, code=codes.UNKNOWN_KEY)
    misspelt = any(suggest(k, ("parameters",)) for k in unknown)  # reported once, as unknown
    function = None
    if "parameters" not in raw and not misspelt:
        problems.add(
            f"{field}.parameters", f"'{field}' is missing 'parameters'.", code=codes.PARAM_COUNT
        )
    elif "parameters" in raw:
        with problems.capture(ValidationError):
            kind = raw.get("type", "triangular")
            function = make_membership(kind, raw["parameters"], raw.get("shoulder"), field=field)
    problems.raise_if_any(f"'{field}'")
    assert function is not None  # every other path recorded a problem
    return MembershipDefinition(name, function)


def check_reference(
    reference: str,
    indicator_outputs: Mapping[str, tuple[str, ...]],
    field: str,
    *,
    code: str = codes.UNKNOWN_INDICATOR,
) -> None:
    """Check that ``reference`` (``id`` or ``id.output``) names an indicator of the strategy and,
    when its outputs are known, one of its outputs (a multi-output indicator needs ``.output``).

    Raises
    ------
    ValidationError
        ``code`` (default FUZZY-008) naming ``field``, with close matches.
    """
    ind_id, _, output = reference.partition(".")
    if ind_id not in indicator_outputs:
        raise ValidationError(
            code,
            f"'{field}' references unknown indicator '{ind_id}'; the strategy defines "
            f"{', '.join(indicator_outputs) or 'no indicators'}.",
            field=field,
            suggestions=suggest(ind_id, indicator_outputs),
        )
    outputs = tuple(indicator_outputs[ind_id] or ())
    if not outputs:
        return  # outputs unknown (no catalogue): accept any reference to an existing id
    if not output:
        if len(outputs) > 1:
            choices = [f"{ind_id}.{o}" for o in outputs]
            raise ValidationError(
                code,
                f"'{field}': indicator '{ind_id}' has several outputs; name one of "
                f"{', '.join(choices)}.",
                field=field,
                suggestions=choices,
            )
        return
    if output not in outputs:
        raise ValidationError(
            code,
            f"'{field}': indicator '{ind_id}' has no output '{output}'; its outputs are "
            f"{', '.join(outputs)}.",
            field=field,
            suggestions=[f"{ind_id}.{o}" for o in suggest(output, outputs)],
        )


def parse_fuzzy_set(
    set_id: str,
    raw: Any,
    *,
    indicator_outputs: Mapping[str, tuple[str, ...]] | None = None,
    field: str | None = None,
) -> FuzzySetDefinition:
    """Parse one fuzzy set definition.

    Parameters
    ----------
    set_id
        The fuzzy set id.
    raw
        The mapping under ``fuzzy_sets.<set_id>``.
    indicator_outputs
        Indicator id -> output names; ``None`` skips reference checks (e.g. an ad-hoc
        definition in an "evaluate membership" request).
    field
        Config path of the set; defaults to ``fuzzy_sets.<set_id>``.

    Raises
    ------
    ValidationError
        FUZZY-001..008 (see :mod:`ktrdr_core.strategy.errors`); every membership's problems are
        listed at once (:class:`~ktrdr_core.problems.ProblemsError`).
    """
    field = field or f"fuzzy_sets.{set_id}"
    if not isinstance(set_id, str) or not set_id:
        raise ValidationError(
            codes.BAD_FUZZY_SET,
            f"Fuzzy set ids must be non-empty strings, got {set_id!r}.",
            field=field,
        )
    if not isinstance(raw, Mapping):
        raise ValidationError(
            codes.BAD_FUZZY_SET,
            f"'{field}' must be a mapping of 'indicator' and named memberships, got "
            f"{type(raw).__name__}.",
            field=field,
        )
    indicator = raw.get("indicator", set_id)
    if not isinstance(indicator, str) or not indicator:
        raise ValidationError(
            codes.UNKNOWN_INDICATOR,
            f"'{field}.indicator' must be an indicator id such as 'rsi_14' or "
            f"'macd_12_26_9.histogram', got {indicator!r}.",
            field=f"{field}.indicator",
        )
    problems = Problems()
    memberships = []
    names = [name for name in raw if name not in RESERVED_SET_KEYS]
    for name in names:
        with problems.capture(ValidationError):
            if not isinstance(name, str) or not name:
                raise ValidationError(
                    codes.BAD_FUZZY_SET,
                    f"'{field}': membership names must be non-empty strings, got {name!r}.",
                    field=field,
                )
            memberships.append(parse_membership(name, raw[name], field=f"{field}.{name}"))
    if not names:
        problems.add(
            field,
            f"Fuzzy set '{set_id}' has no memberships; add at least one, e.g. 'low: [0, 25, 50]'.",
            code=codes.BAD_FUZZY_SET,
        )
    # A misspelt 'indicator' key is reported as a bad membership; its default is not checked.
    misspelt = "indicator" not in raw and any(suggest(str(n), RESERVED_SET_KEYS) for n in names)
    if indicator_outputs is not None and not misspelt:
        with problems.capture(ValidationError):
            check_reference(indicator, indicator_outputs, f"{field}.indicator")
    problems.raise_if_any(f"fuzzy set '{set_id}'")
    return FuzzySetDefinition(set_id, indicator, tuple(memberships))


def parse_fuzzy_sets(
    raw: Any,
    *,
    indicator_outputs: Mapping[str, tuple[str, ...]] | None = None,
    field: str = "fuzzy_sets",
) -> dict[str, FuzzySetDefinition]:
    """Parse a whole ``fuzzy_sets`` section, keeping declaration order.

    Raises
    ------
    ValidationError
        FUZZY-007 when the section is empty or not a mapping; otherwise as
        :func:`parse_fuzzy_set`, every set's problems listed at once
        (:class:`~ktrdr_core.problems.ProblemsError`).
    """
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError(
            codes.BAD_FUZZY_SET,
            f"'{field}' must be a non-empty mapping of fuzzy set id -> definition.",
            field=field,
        )
    problems = Problems()
    out: dict[str, FuzzySetDefinition] = {}
    for set_id, value in raw.items():
        with problems.capture(ValidationError):
            out[str(set_id)] = parse_fuzzy_set(
                set_id, value, indicator_outputs=indicator_outputs, field=f"{field}.{set_id}"
            )
    problems.raise_if_any(f"'{field}'")
    return out


__all__ = [
    "MEMBERSHIP_KEYS",
    "MF_TYPES",
    "FuzzySetDefinition",
    "MembershipDefinition",
    "check_reference",
    "parse_fuzzy_set",
    "parse_fuzzy_sets",
    "parse_membership",
]


def find_set(
    sets: Mapping[str, FuzzySetDefinition], set_id: str, *, owner: str = ""
) -> FuzzySetDefinition:
    """The set ``set_id`` of ``sets``; FUZZY-015 NotFoundError with close matches.

    ``owner`` names where the sets come from (e.g. a strategy) in the message.
    """
    try:
        return sets[set_id]
    except KeyError:
        where = f"Strategy '{owner}' has no" if owner else "Unknown"
        raise NotFoundError(
            codes.FUZZY_SET_NOT_FOUND,
            f"{where} fuzzy set '{set_id}'.",
            field="fuzzy_set_id",
            suggestions=suggest(set_id, sets),
        ) from None
