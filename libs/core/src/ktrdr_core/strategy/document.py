"""Strategy files (KTRDR v3 grammar): load, validate, list.

Top-level keys: ``name`` (required), ``description``, ``version``, ``training_data``
(required), ``indicators`` (required), ``fuzzy_sets`` (required), ``nn_inputs``, and the
pass-through sections ``model``, ``decisions``, ``training`` (kept as raw mappings for the
neural/backtest services). Any other key is rejected (FUZZY-010) with suggestions.

.. code-block:: yaml

    training_data:
      symbols: {mode: multi_symbol, list: [EURUSD, GBPUSD]}   # or a plain list
      timeframes: {mode: multi_timeframe, list: [1h, 4h, 1d], base_timeframe: 1h}
      history_required: 200
    indicators:
      rsi_14: {type: rsi, period: 14}
      macd_12_26_9: {type: macd, fast_period: 12, slow_period: 26, signal_period: 9}
    nn_inputs:
      - {fuzzy_set: rsi_14, timeframes: all}
      - {fuzzy_set: macd_hist, timeframes: [1h, 4h]}
      - {raw_indicator: macd_12_26_9.line, timeframes: all, normalization: zscore}

An ``nn_inputs`` entry feeds the network either a fuzzy set's memberships or, with
``raw_indicator`` (an indicator id, or ``id.output`` for a multi-output indicator), the indicator's
values unscaled; ``normalization`` (``zscore``, ``minmax`` or ``none``, the default) says how the
neural service scales that column once fitted on the training split.

Indicator validation
--------------------
Indicator entries are checked by an injected :data:`IndicatorValidator`
``(indicator_type, params) -> output names``, which raises a
:class:`~ktrdr_core.errors.KtrdrError` for an unknown type or bad parameter. Single-output
indicators return one name. Without a validator, any ``type`` is accepted and output names are
unknown (multi-output references are then not checked beyond the indicator id); a caller whose
catalogue answers asynchronously (the fuzzy service asks the indicator service) parses without a
validator, asks the catalogue for each indicator and then calls :func:`with_outputs`, which
reports exactly the errors the validator would (:func:`indicator_rejected`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import structlog
import yaml

from ktrdr_core.errors import KtrdrError, NotFoundError, ValidationError, suggest
from ktrdr_core.problems import Problems, ProblemsError
from ktrdr_core.strategy import errors as codes
from ktrdr_core.strategy.fuzzy_sets import (
    FuzzySetDefinition,
    check_reference,
    find_set,
    parse_fuzzy_set,
    parse_fuzzy_sets,
)
from ktrdr_core.timeframes import parse_timeframe

log = structlog.get_logger(__name__)

IndicatorValidator = Callable[[str, Mapping[str, Any]], tuple[str, ...]]

TOP_LEVEL_KEYS = (
    "name",
    "description",
    "version",
    "training_data",
    "indicators",
    "fuzzy_sets",
    "nn_inputs",
    "model",
    "decisions",
    "training",
)
TRAINING_DATA_KEYS = ("symbols", "timeframes", "history_required")
SYMBOL_KEYS = ("mode", "list", "symbol")
TIMEFRAME_KEYS = ("mode", "list", "base_timeframe")
SYMBOL_MODES = ("single_symbol", "multi_symbol")
# The original KTRDR v3 files write `{mode: single, symbol: EURUSD}`.
SYMBOL_MODE_ALIASES = {"single": "single_symbol", "multi": "multi_symbol"}
TIMEFRAME_MODES = ("single_timeframe", "multi_timeframe")
NN_INPUT_KEYS = ("fuzzy_set", "raw_indicator", "timeframes", "normalization")
NORMALIZATIONS = ("none", "zscore", "minmax")


@dataclasses.dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """An ``indicators:`` entry: id, type, parameters and (when known) output names."""

    id: str
    type: str
    params: dict[str, Any]
    outputs: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class TrainingData:
    symbols: tuple[str, ...]
    symbol_mode: str
    timeframes: tuple[str, ...]
    timeframe_mode: str
    base_timeframe: str
    history_required: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class NNInput:
    """An ``nn_inputs`` entry: a fuzzy set (``fuzzy_set``) or an unscaled indicator column
    (``raw_indicator``, with its ``normalization``); ``timeframes`` is ``None`` for ``all``."""

    fuzzy_set: str = ""
    timeframes: tuple[str, ...] | None = None
    raw_indicator: str = ""
    normalization: str = "none"

    @property
    def kind(self) -> str:
        """``"fuzzy"`` or ``"raw"``."""
        return "raw" if self.raw_indicator else "fuzzy"

    @property
    def key(self) -> str:
        """The fuzzy set id or the raw indicator reference."""
        return self.raw_indicator or self.fuzzy_set


@dataclasses.dataclass(frozen=True, slots=True)
class Strategy:
    """A validated strategy. ``fuzzy_sets`` and ``indicators`` keep declaration order."""

    name: str
    description: str
    version: str
    training_data: TrainingData
    indicators: dict[str, IndicatorSpec]
    fuzzy_sets: dict[str, FuzzySetDefinition]
    nn_inputs: tuple[NNInput, ...] | None
    model: dict[str, Any]
    decisions: dict[str, Any]
    training: dict[str, Any]
    source: str | None = None

    @property
    def timeframes(self) -> tuple[str, ...]:
        return self.training_data.timeframes

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.training_data.symbols

    def applies_to(self, symbol: str) -> bool:
        """Whether ``symbol`` is one of the strategy's training symbols (case-insensitive)."""
        return symbol.upper() in (s.upper() for s in self.training_data.symbols)

    def fuzzy_set(self, set_id: str) -> FuzzySetDefinition:
        """Return one fuzzy set; FUZZY-015 NotFoundError with suggestions."""
        return find_set(self.fuzzy_sets, set_id, owner=self.name)

    def feature_names(self) -> tuple[str, ...]:
        """The ordered ``{timeframe}_{set}_{membership}`` features (see features.py)."""
        from ktrdr_core.strategy.features import feature_names

        return feature_names(self)


def _fail(code: str, message: str, field: str, suggestions: list[str] | None = None) -> NoReturn:
    raise ValidationError(code, message, field=field, suggestions=suggestions or ())


def _check_keys(
    problems: Problems, raw: Mapping[str, Any], allowed: tuple[str, ...], field: str
) -> None:
    """One problem per unknown key (FUZZY-010 at the top level, FUZZY-006 below)."""
    for key in raw:
        if key not in allowed:
            where = f"'{field}'" if field else "The strategy"
            problems.add(
                f"{field}.{key}" if field else str(key),
                f"{where} has unknown key '{key}'; allowed keys are {', '.join(allowed)}.",
                code=codes.UNKNOWN_TOP_LEVEL_KEY if not field else codes.UNKNOWN_KEY,
                suggestions=suggest(str(key), allowed),
            )


def _mapping(raw: Any, field: str, *, required: bool = True) -> dict[str, Any]:
    if raw is None and not required:
        return {}
    if not isinstance(raw, Mapping):
        _fail(codes.BAD_STRATEGY_FIELD, f"'{field}' must be a mapping.", field)
    return dict(raw)


def _str_list(raw: Any, field: str) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) and s for s in raw):
        _fail(codes.BAD_STRATEGY_FIELD, f"'{field}' must be a non-empty list of strings.", field)
    if len(set(raw)) != len(raw):
        _fail(codes.BAD_STRATEGY_FIELD, f"'{field}' lists a value twice.", field)
    return list(raw)


def _check_mode(mode: Any, modes: tuple[str, str], count: int, field: str, list_field: str) -> None:
    """``mode`` is one of ``modes`` (single, multi); the single mode needs exactly one entry."""
    if mode not in modes:
        _fail(
            codes.BAD_STRATEGY_FIELD,
            f"'{field}.mode' must be one of {', '.join(modes)}, got {mode!r}.",
            f"{field}.mode",
            suggest(str(mode), modes, cutoff=0.4),
        )
    if mode == modes[0] and count != 1:
        _fail(
            codes.BAD_STRATEGY_FIELD,
            f"'{field}': mode {modes[0]} needs exactly one entry, got {count}.",
            list_field,
        )


def _parse_symbols(raw: Any, problems: Problems) -> tuple[list[str], str]:
    f = "training_data"
    if raw is None:
        _fail(codes.BAD_STRATEGY_FIELD, f"'{f}.symbols' is required.", f"{f}.symbols")
    if isinstance(raw, Mapping):
        _check_keys(problems, raw, SYMBOL_KEYS, f"{f}.symbols")
        if "symbol" in raw and "list" in raw:
            _fail(
                codes.BAD_STRATEGY_FIELD,
                f"'{f}.symbols' takes either 'symbol' (one) or 'list', not both.",
                f"{f}.symbols",
            )
        if "symbol" in raw:
            symbols = _str_list([raw["symbol"]], f"{f}.symbols.symbol")
        else:
            symbols = _str_list(raw.get("list"), f"{f}.symbols.list")
        mode = raw.get("mode", "single_symbol" if len(symbols) == 1 else "multi_symbol")
        mode = SYMBOL_MODE_ALIASES.get(mode, mode)
    else:
        symbols = _str_list(raw, f"{f}.symbols")
        mode = "single_symbol" if len(symbols) == 1 else "multi_symbol"
    _check_mode(mode, SYMBOL_MODES, len(symbols), f"{f}.symbols", f"{f}.symbols.list")
    return symbols, mode


def _parse_timeframes(raw: Any, problems: Problems) -> tuple[tuple[str, ...], str, str]:
    f = "training_data"
    if raw is None:
        _fail(codes.BAD_STRATEGY_FIELD, f"'{f}.timeframes' is required.", f"{f}.timeframes")
    base: Any = None
    if isinstance(raw, Mapping):
        _check_keys(problems, raw, TIMEFRAME_KEYS, f"{f}.timeframes")
        tf_field = f"{f}.timeframes.list"
        raw_tfs = _str_list(raw.get("list"), tf_field)
        base = raw.get("base_timeframe")
        mode = raw.get("mode", "single_timeframe" if len(raw_tfs) == 1 else "multi_timeframe")
    else:
        tf_field = f"{f}.timeframes"
        raw_tfs = _str_list(raw, tf_field)
        mode = "single_timeframe" if len(raw_tfs) == 1 else "multi_timeframe"
    parsed = []
    for i, t in enumerate(raw_tfs):
        with problems.capture(ValidationError):
            parsed.append(parse_timeframe(t, field=f"{tf_field}[{i}]").code)
    timeframes = tuple(parsed)
    if len(set(timeframes)) != len(timeframes):
        _fail(codes.BAD_STRATEGY_FIELD, f"'{tf_field}' lists a timeframe twice.", tf_field)
    _check_mode(mode, TIMEFRAME_MODES, len(raw_tfs), f"{f}.timeframes", tf_field)
    if not timeframes:
        _fail(codes.BAD_STRATEGY_FIELD, f"'{tf_field}' names no valid timeframe.", tf_field)
    if base is None:
        return timeframes, mode, timeframes[0]
    if not isinstance(base, str):
        _fail(codes.BAD_STRATEGY_FIELD, "base_timeframe must be a string.", f"{f}.timeframes")
    base_code = parse_timeframe(base, field=f"{f}.timeframes.base_timeframe").code
    if base_code not in timeframes:
        _fail(
            codes.BAD_STRATEGY_FIELD,
            f"'{f}.timeframes.base_timeframe' {base_code} is not in the timeframe list "
            f"({', '.join(timeframes)}).",
            f"{f}.timeframes.base_timeframe",
            suggest(base_code, timeframes, cutoff=0.3),
        )
    return timeframes, mode, base_code


def _parse_training_data(raw: Any, problems: Problems) -> TrainingData | None:
    """The ``training_data`` section, or ``None`` when a part of it is unusable."""
    f = "training_data"
    td = _mapping(raw, f)
    _check_keys(problems, td, TRAINING_DATA_KEYS, f)
    symbols: tuple[list[str], str] | None = None
    timeframes: tuple[tuple[str, ...], str, str] | None = None
    with problems.capture(ValidationError):
        symbols = _parse_symbols(td.get("symbols"), problems)
    with problems.capture(ValidationError):
        timeframes = _parse_timeframes(td.get("timeframes"), problems)
    history = td.get("history_required")
    if history is not None and (
        isinstance(history, bool) or not isinstance(history, int) or history < 0
    ):
        problems.add(
            f"{f}.history_required",
            f"'{f}.history_required' must be a non-negative integer (bars), got {history!r}.",
            code=codes.BAD_STRATEGY_FIELD,
        )
        history = None
    if symbols is None or timeframes is None:
        return None
    (names, sym_mode), (tfs, tf_mode, base) = symbols, timeframes
    return TrainingData(tuple(names), sym_mode, tfs, tf_mode, base, history)


def _parse_indicator(ind_id: Any, spec: Any, validator: IndicatorValidator | None) -> IndicatorSpec:
    field = f"indicators.{ind_id}"
    if not isinstance(ind_id, str) or not ind_id or "." in ind_id:
        _fail(
            codes.BAD_INDICATOR,
            f"Indicator ids must be non-empty strings without '.', got {ind_id!r}.",
            field,
        )
    if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
        _fail(
            codes.BAD_INDICATOR,
            f"'{field}' must be a mapping with a 'type' (e.g. {{type: rsi, period: 14}}).",
            f"{field}.type",
        )
    params = {k: v for k, v in spec.items() if k != "type"}
    outputs: tuple[str, ...] = ()
    if validator is not None:
        try:
            outputs = tuple(validator(spec["type"], params))
        except KtrdrError as e:
            raise indicator_rejected(ind_id, e) from e
    return IndicatorSpec(ind_id, spec["type"], params, outputs)


def _parse_indicators(
    raw: Any, validator: IndicatorValidator | None, problems: Problems
) -> tuple[dict[str, IndicatorSpec], set[str]]:
    """The valid indicators, and the ids of the rejected ones (references to those are not
    reported again)."""
    f = "indicators"
    if not isinstance(raw, Mapping) or not raw:
        _fail(
            codes.BAD_STRATEGY_FIELD,
            f"'{f}' must be a non-empty mapping of indicator id -> {{type, ...params}}.",
            f,
        )
    out: dict[str, IndicatorSpec] = {}
    rejected: set[str] = set()
    for ind_id, spec in raw.items():
        try:
            out[ind_id] = _parse_indicator(ind_id, spec, validator)
        except ValidationError as e:
            problems.record(e)
            rejected.add(str(ind_id))
    return out, rejected


def indicator_rejected(indicator_id: str, error: KtrdrError) -> ValidationError:
    """FUZZY-012 for the catalogue's refusal of ``indicators.<indicator_id>``: the field path
    put under the entry, the catalogue's suggestions and code (``details["cause_code"]``) kept."""
    field = f"indicators.{indicator_id}"
    if error.field and error.field.startswith(field):
        where = error.field
    else:
        where = f"{field}.{error.field}" if error.field else field
    return ValidationError(
        codes.BAD_INDICATOR,
        f"'{field}': {error.message}",
        field=where,
        suggestions=error.suggestions,
        details={"cause_code": error.code},
    )


def with_outputs(strategy: Strategy, outputs: Mapping[str, tuple[str, ...]]) -> Strategy:
    """``strategy`` with each indicator's output names (as a catalogue gave them) and every
    reference to them checked: fuzzy sets' ``indicator`` and ``nn_inputs`` ``raw_indicator``.

    Raises
    ------
    ValidationError
        FUZZY-008 (fuzzy set) or FUZZY-013 (raw input) naming each bad reference, with close
        matches, all at once; prefixed with the strategy's file like :func:`parse_strategy`'s.
    """
    indicators = {
        k: dataclasses.replace(v, outputs=tuple(outputs.get(k, v.outputs)))
        for k, v in strategy.indicators.items()
    }
    known = {k: v.outputs for k, v in indicators.items()}
    problems = Problems()
    for set_id, fs in strategy.fuzzy_sets.items():
        with problems.capture(ValidationError):
            check_reference(fs.indicator, known, f"fuzzy_sets.{set_id}.indicator")
    for i, item in enumerate(strategy.nn_inputs or ()):
        if item.raw_indicator:
            with problems.capture(ValidationError):
                check_reference(
                    item.raw_indicator,
                    known,
                    f"nn_inputs[{i}].raw_indicator",
                    code=codes.BAD_NN_INPUT,
                )
    try:
        problems.raise_if_any()
    except KtrdrError as e:
        raise in_source(e, strategy.source) from e
    return dataclasses.replace(strategy, indicators=indicators)


async def check_indicators(
    strategy: Strategy,
    outputs: Callable[[str, Mapping[str, Any]], Awaitable[tuple[str, ...]]],
) -> Strategy:
    """``strategy`` with every indicator checked by an asynchronous catalogue ``outputs(type,
    params) -> output names`` (a remote service, typically) and the references to them checked
    (:func:`with_outputs`).

    The catalogue's refusals (INVALID_ARGUMENT, NOT_FOUND) become FUZZY-012 problems of the
    strategy, all reported at once with the reference problems; its other errors (a catalogue
    service down: UNAVAILABLE) pass unchanged.
    """
    problems = Problems()
    found: dict[str, tuple[str, ...]] = {}
    for indicator_id, spec in strategy.indicators.items():
        try:
            found[indicator_id] = await outputs(spec.type, spec.params)
        except (ValidationError, NotFoundError) as exc:
            problems.record(indicator_rejected(indicator_id, exc))
    try:
        checked = with_outputs(strategy, found)
    except ValidationError as exc:
        problems.record(exc)
    try:
        problems.raise_if_any()
    except KtrdrError as e:
        raise in_source(e, strategy.source) from e
    return checked


def in_source(error: KtrdrError, source: str | None) -> KtrdrError:
    """``error`` with the strategy file (``source``) prefixed to its message and put in
    ``details["source"]``; unchanged without a source. Each problem of a
    :class:`~ktrdr_core.problems.ProblemsError` gets the source in its details."""
    if source is None or error.details.get("source") == source:
        return error
    if isinstance(error, ProblemsError):
        single = len(error.problems) == 1
        problems = [_with_source(p, source, prefix=single) for p in error.problems]
        return ProblemsError(problems, what=source)
    return _with_source(error, source, prefix=True)


def _with_source(error: KtrdrError, source: str, *, prefix: bool) -> KtrdrError:
    if isinstance(error, ProblemsError):
        return in_source(error, source)
    return type(error)(
        error.code,
        f"{source}: {error.message}" if prefix else error.message,
        field=error.field,
        suggestions=error.suggestions,
        details={**error.details, "source": source},
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _InputContext:
    """What ``nn_inputs`` entries may reference; ``broken`` ids were rejected earlier (a
    reference to one is not reported again)."""

    fuzzy_sets: Mapping[str, FuzzySetDefinition]
    indicators: Mapping[str, IndicatorSpec]
    timeframes: tuple[str, ...]
    broken: frozenset[str]


def _parse_nn_inputs(
    raw: Any, context: _InputContext, problems: Problems
) -> tuple[NNInput, ...] | None:
    if raw is None:
        return None
    f = "nn_inputs"
    if not isinstance(raw, list) or not raw:
        _fail(
            codes.BAD_NN_INPUT,
            f"'{f}' must be a non-empty list of {{fuzzy_set, ...}} or {{raw_indicator, ...}}.",
            f,
        )
    seen: set[tuple[str, str, str]] = set()
    out = []
    for i, entry in enumerate(raw):
        field = f"{f}[{i}]"
        item: NNInput | None = None
        with problems.capture(ValidationError):
            item = _parse_nn_input(entry, field, context, problems)
        if item is None:
            continue
        for tf in item.timeframes or context.timeframes:
            if (item.kind, item.key, tf) in seen:
                what = "fuzzy set" if item.kind == "fuzzy" else "raw indicator"
                problems.add(
                    field,
                    f"'{field}' repeats {what} '{item.key}' on {tf}.",
                    code=codes.BAD_NN_INPUT,
                )
                break
            seen.add((item.kind, item.key, tf))
        else:
            out.append(item)
    return tuple(out)


def _parse_nn_input(
    entry: Any, field: str, context: _InputContext, problems: Problems
) -> NNInput | None:
    """One entry; ``None`` when it names a fuzzy set or indicator rejected earlier (those
    problems are reported already) or when ``problems`` got one of its keys."""
    if isinstance(entry, str):
        entry = {"fuzzy_set": entry}
    if not isinstance(entry, Mapping):
        _fail(codes.BAD_NN_INPUT, f"'{field}' must be a mapping {{fuzzy_set, timeframes}}.", field)
    before = len(problems)
    _check_keys(problems, entry, NN_INPUT_KEYS, field)
    where = f"{field}.timeframes"
    selected = _nn_timeframes(entry.get("timeframes", "all"), where, context.timeframes)
    if "raw_indicator" in entry:
        item = _raw_input(entry, field, context, selected)
    else:
        item = _fuzzy_input(entry, field, context, selected)
    return item if len(problems) == before else None


def _raw_input(
    entry: Mapping[str, Any], field: str, context: _InputContext, selected: tuple[str, ...] | None
) -> NNInput | None:
    if "fuzzy_set" in entry:
        _fail(
            codes.BAD_NN_INPUT,
            f"'{field}' takes either 'fuzzy_set' or 'raw_indicator', not both.",
            field,
        )
    reference = entry["raw_indicator"]
    if not isinstance(reference, str) or not reference:
        _fail(
            codes.BAD_NN_INPUT,
            f"'{field}.raw_indicator' must be an indicator id such as 'rsi_14' or "
            f"'macd_12_26_9.line', got {reference!r}.",
            f"{field}.raw_indicator",
        )
    outputs = {k: v.outputs for k, v in context.indicators.items()}
    if reference.partition(".")[0] in context.broken:
        return None
    check_reference(reference, outputs, f"{field}.raw_indicator", code=codes.BAD_NN_INPUT)
    normalization = entry.get("normalization", "none")
    if normalization not in NORMALIZATIONS:
        _fail(
            codes.BAD_NN_INPUT,
            f"'{field}.normalization' must be one of {', '.join(NORMALIZATIONS)}, got "
            f"{normalization!r}.",
            f"{field}.normalization",
            suggest(str(normalization), NORMALIZATIONS),
        )
    return NNInput("", selected, reference, normalization)


def _fuzzy_input(
    entry: Mapping[str, Any], field: str, context: _InputContext, selected: tuple[str, ...] | None
) -> NNInput | None:
    if "normalization" in entry:
        _fail(
            codes.BAD_NN_INPUT,
            f"'{field}.normalization' applies to a 'raw_indicator' only: memberships are "
            "already in [0, 1].",
            f"{field}.normalization",
        )
    set_id = entry.get("fuzzy_set")
    if set_id in context.broken:
        return None
    if set_id not in context.fuzzy_sets:
        _fail(
            codes.BAD_NN_INPUT,
            f"'{field}.fuzzy_set' references unknown fuzzy set {set_id!r}; defined sets are "
            f"{', '.join(context.fuzzy_sets)}.",
            f"{field}.fuzzy_set",
            suggest(str(set_id), context.fuzzy_sets),
        )
    return NNInput(str(set_id), selected)


def _nn_timeframes(raw: Any, field: str, timeframes: tuple[str, ...]) -> tuple[str, ...] | None:
    if raw == "all":
        return None
    selected = []
    for j, t in enumerate(_str_list(raw, field)):
        code = parse_timeframe(t, field=f"{field}[{j}]").code
        if code not in timeframes:
            _fail(
                codes.BAD_NN_INPUT,
                f"'{field}[{j}]' {code} is not a strategy timeframe ({', '.join(timeframes)}).",
                f"{field}[{j}]",
                suggest(code, timeframes, cutoff=0.3),
            )
        selected.append(code)
    return tuple(selected)


def parse_strategy(
    raw: Any, *, validator: IndicatorValidator | None = None, source: str | None = None
) -> Strategy:
    """Validate a parsed strategy mapping, reporting every problem at once.

    Parameters
    ----------
    raw
        The YAML document (a mapping).
    validator
        Indicator catalogue check, see module docstring. ``None`` accepts any indicator type.
    source
        File name (or ``<string>``) prefixed to error messages and put in ``details``.

    Raises
    ------
    ValidationError
        FUZZY-0NN codes (see :mod:`ktrdr_core.strategy.errors`); COMMON-002 for a bad timeframe.
        Several problems are one :class:`~ktrdr_core.problems.ProblemsError` (its
        ``problems`` lists each with its own code, field and suggestions; the error's code and
        field are the first's); a single problem keeps exactly its own code and message.
    """
    try:
        return _parse_strategy(raw, validator, source)
    except KtrdrError as e:
        if source is None:
            raise
        raise in_source(e, source) from e


def _parse_strategy(raw: Any, validator: IndicatorValidator | None, source: str | None) -> Strategy:
    if not isinstance(raw, Mapping):
        _fail(codes.BAD_STRATEGY_FILE, "A strategy must be a YAML mapping.", "")
    problems = Problems()
    _check_keys(problems, raw, TOP_LEVEL_KEYS, "")
    header = _parse_header(raw, problems)
    for key in ("training_data", "indicators", "fuzzy_sets"):
        if key not in raw:
            problems.add(key, f"'{key}' is required.", code=codes.BAD_STRATEGY_FIELD)
    training_data: TrainingData | None = None
    indicators: dict[str, IndicatorSpec] = {}
    rejected: set[str] = set()
    fuzzy_sets: dict[str, FuzzySetDefinition] = {}
    if "training_data" in raw:
        with problems.capture(ValidationError):
            training_data = _parse_training_data(raw["training_data"], problems)
    if "indicators" in raw:
        with problems.capture(ValidationError):
            indicators, rejected = _parse_indicators(raw["indicators"], validator, problems)
    if "fuzzy_sets" in raw:
        fuzzy_sets = _parse_sets(raw["fuzzy_sets"], indicators, rejected, problems)
    nn_inputs: tuple[NNInput, ...] | None = None
    timeframes = training_data.timeframes if training_data else ()
    if training_data is not None or "training_data" not in raw:
        raw_sets = raw.get("fuzzy_sets")
        broken = set(rejected)
        if isinstance(raw_sets, Mapping):
            broken |= set(map(str, raw_sets)) - set(fuzzy_sets)
        context = _InputContext(fuzzy_sets, indicators, timeframes, frozenset(broken))
        with problems.capture(ValidationError):
            nn_inputs = _parse_nn_inputs(raw.get("nn_inputs"), context, problems)
    sections: dict[str, dict[str, Any]] = {}
    for key in ("model", "decisions", "training"):
        sections[key] = {}
        with problems.capture(ValidationError):
            sections[key] = _mapping(raw.get(key), key, required=False)
    problems.raise_if_any()
    assert training_data is not None
    return Strategy(
        name=header[0],
        description=header[1],
        version=header[2],
        training_data=training_data,
        indicators=indicators,
        fuzzy_sets=fuzzy_sets,
        nn_inputs=nn_inputs,
        model=sections["model"],
        decisions=sections["decisions"],
        training=sections["training"],
        source=source,
    )


def _parse_header(raw: Mapping[str, Any], problems: Problems) -> tuple[str, str, str]:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(
            "name", "'name' is required (a non-empty string).", code=codes.BAD_STRATEGY_FIELD
        )
        name = ""
    description = raw.get("description") or ""
    if not isinstance(description, str):
        problems.add(
            "description", "'description' must be a string.", code=codes.BAD_STRATEGY_FIELD
        )
        description = ""
    version = raw.get("version", "")
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        problems.add(
            "version", "'version' must be a string or number.", code=codes.BAD_STRATEGY_FIELD
        )
        version = ""
    return name, description, str(version)


def _parse_sets(
    raw: Any,
    indicators: Mapping[str, IndicatorSpec],
    rejected: set[str],
    problems: Problems,
) -> dict[str, FuzzySetDefinition]:
    """The valid fuzzy sets; a set reading a rejected indicator is not reported again."""
    outputs: dict[str, tuple[str, ...]] = {k: v.outputs for k, v in indicators.items()}
    outputs.update({r: () for r in rejected})  # references to them resolve loosely
    if not isinstance(raw, Mapping) or not raw:
        with problems.capture(ValidationError):
            parse_fuzzy_sets(raw, indicator_outputs=outputs)
        return {}
    out: dict[str, FuzzySetDefinition] = {}
    for set_id, value in raw.items():
        with problems.capture(ValidationError):
            out[str(set_id)] = parse_fuzzy_set(
                set_id, value, indicator_outputs=outputs, field=f"fuzzy_sets.{set_id}"
            )
    return out


def load_strategy_text(
    text: str, *, validator: IndicatorValidator | None = None, source: str = "<string>"
) -> Strategy:
    """Parse and validate strategy YAML text. Errors are prefixed with ``source``."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValidationError(
            codes.BAD_STRATEGY_FILE,
            f"{source}: not valid YAML{where}: {getattr(e, 'problem', None) or e}.",
            details={"source": source},
        ) from e
    return parse_strategy(raw, validator=validator, source=source)


def load_strategy(path: str | Path, *, validator: IndicatorValidator | None = None) -> Strategy:
    """Load a strategy file.

    Raises
    ------
    NotFoundError
        FUZZY-014 when the file does not exist.
    ValidationError
        FUZZY-009 unreadable/not YAML; otherwise as :func:`parse_strategy`.
    """
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(
            codes.STRATEGY_NOT_FOUND,
            f"Strategy file '{p}' does not exist.",
            field="strategy",
            suggestions=suggest(p.name, [c.name for c in p.parent.glob("*.y*ml")])
            if p.parent.is_dir()
            else (),
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError(
            codes.BAD_STRATEGY_FILE, f"{p}: cannot be read: {e}.", details={"source": str(p)}
        ) from e
    return load_strategy_text(text, validator=validator, source=str(p))


@dataclasses.dataclass(frozen=True, slots=True)
class StrategyListing:
    """One file found by :func:`list_strategies`: a strategy, or the error that rejected it."""

    path: Path
    strategy: Strategy | None
    error: KtrdrError | None

    @property
    def ok(self) -> bool:
        return self.strategy is not None

    @property
    def name(self) -> str:
        return self.strategy.name if self.strategy else self.path.stem


def list_strategies(
    directory: str | Path, *, validator: IndicatorValidator | None = None
) -> list[StrategyListing]:
    """Load every ``*.yaml``/``*.yml`` file in ``directory`` (sorted by file name).

    Never raises for a bad file: its listing carries the error. A missing directory gives an
    empty list.
    """
    d = Path(directory)
    if not d.is_dir():
        log.warning("strategy_directory_missing", directory=str(d))
        return []
    files = sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    out = []
    for p in files:
        try:
            out.append(StrategyListing(p, load_strategy(p, validator=validator), None))
        except KtrdrError as e:
            log.info("strategy_invalid", path=str(p), code=e.code, error=e.full_message)
            out.append(StrategyListing(p, None, e))
    return out


def find_strategy(
    directory: str | Path, name: str, *, validator: IndicatorValidator | None = None
) -> Strategy:
    """Return the strategy called ``name`` (or whose file stem is ``name``) in ``directory``.

    Raises
    ------
    NotFoundError
        FUZZY-014 with suggestions among the valid strategies.
    KtrdrError
        The file's own validation error when the named strategy is invalid.
    """
    listings = list_strategies(directory, validator=validator)
    for item in listings:
        if name in (item.name, item.path.stem, item.path.name):
            if item.error is not None:
                raise item.error
            assert item.strategy is not None
            return item.strategy
    names = [i.name for i in listings]
    raise NotFoundError(
        codes.STRATEGY_NOT_FOUND,
        f"No strategy named '{name}' in {directory}.",
        field="strategy",
        suggestions=suggest(name, names + [i.path.stem for i in listings]),
    )
