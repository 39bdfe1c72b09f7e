"""Strategy validation for backtests: every section of a strategy file, every problem at once.

:func:`check_strategy` runs every check a backtest (and its model's training) depends on and
lists all the problems it finds, never only the first:

- the grammar (``ktrdr_core.strategy``: keys with "did you mean", training data, fuzzy sets,
  ``nn_inputs``; every reference resolves);
- the indicators, through an :class:`IndicatorCatalogue` (in the mesh the indicator service's
  ``ValidateIndicator``; in-process the indicator domain): types, parameters, output names;
- ``model`` and ``training`` (``ktrdr_core.strategy.training``);
- ``decisions`` (:func:`~ktrdr_backtest.domain.decisions.parse_decisions`);
- every setting is used: an indicator nothing reads and a fuzzy set no ``nn_inputs`` entry feeds
  are problems (``BACKTEST-015``).

It also works out how much history a backtest feeds before its first bar (:func:`warmup_bars`)
and the label horizon that bounds a walk-forward's purge and embargo.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.decisions import DecisionConfig, parse_decisions
from ktrdr_core.errors import KtrdrError, NotFoundError, ValidationError, suggest
from ktrdr_core.offload import Offload
from ktrdr_core.problems import Problems, ProblemsError
from ktrdr_core.strategy import errors as grammar_codes
from ktrdr_core.strategy.document import Strategy, parse_strategy
from ktrdr_core.strategy.features import FeatureSpec, resolve_features
from ktrdr_core.strategy.training import NetworkSpec, parse_network_spec
from ktrdr_core.timeframes import parse_timeframe

#: The sections checked, in order; every problem's field starts with one of them.
SECTIONS = (
    "name",
    "training_data",
    "indicators",
    "fuzzy_sets",
    "nn_inputs",
    "model",
    "training",
    "decisions",
)
#: Bound on a strategy file's size (the request's YAML or a stored file).
MAX_STRATEGY_BYTES = 1_000_000
#: Warm-ups fed before a backtest, in multiples of each indicator's own (see warmup_bars).
CONVERGENCE = 10


@dataclasses.dataclass(frozen=True, slots=True)
class IndicatorInfo:
    """What the catalogue says about one configured indicator."""

    outputs: tuple[str, ...]
    warmup_bars: int


class IndicatorCatalogue(Protocol):
    """Checks an indicator's type and parameters (``ValidateIndicator``).

    Raises :class:`~ktrdr_core.errors.ValidationError` or
    :class:`~ktrdr_core.errors.NotFoundError` for a bad type or parameter (with suggestions);
    any other :class:`~ktrdr_core.errors.KtrdrError` (the catalogue unreachable) aborts the
    check.
    """

    async def describe(self, indicator: str, parameters: Mapping[str, Any]) -> IndicatorInfo:
        """Output names and warm-up of ``indicator`` with ``parameters``."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class StrategyCheck:
    """The outcome of :func:`check_strategy`.

    ``strategy``, ``network`` and ``decisions`` are the parsed sections (``None`` where that
    section is invalid); ``problems`` lists every problem, each with its own code, field and
    suggestions.
    """

    source: str
    problems: tuple[KtrdrError, ...]
    strategy: Strategy | None = None
    network: NetworkSpec | None = None
    decisions: DecisionConfig | None = None
    features: tuple[FeatureSpec, ...] = ()
    warmup_bars: int = 0
    label_horizon_bars: int = 0

    @property
    def valid(self) -> bool:
        return not self.problems

    def require(self) -> ValidStrategy:
        """The parsed strategy, or ``BACKTEST-014`` INVALID_ARGUMENT listing every problem."""
        if self.problems or not (self.strategy and self.network and self.decisions):
            raise ProblemsError(
                self.problems or (_problem("", "The strategy is incomplete."),),
                what=f"strategy {self.source} is invalid",
                code=codes.BAD_STRATEGY,
            )
        return ValidStrategy(
            strategy=self.strategy,
            network=self.network,
            decisions=self.decisions,
            features=self.features,
            warmup_bars=self.warmup_bars,
            label_horizon_bars=self.label_horizon_bars,
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ValidStrategy:
    """A strategy every section of which is valid."""

    strategy: Strategy
    network: NetworkSpec
    decisions: DecisionConfig
    features: tuple[FeatureSpec, ...]
    warmup_bars: int
    label_horizon_bars: int


def _problem(field: str, message: str) -> ValidationError:
    return ValidationError(codes.BAD_STRATEGY, message, field=field or None)


async def check_strategy_text(
    text: str, *, source: str, catalogue: IndicatorCatalogue
) -> StrategyCheck:
    """:func:`check_strategy` on YAML text (at most :data:`MAX_STRATEGY_BYTES`)."""
    if len(text.encode()) > MAX_STRATEGY_BYTES:
        return StrategyCheck(
            source,
            (
                ValidationError(
                    grammar_codes.BAD_STRATEGY_FILE,
                    f"{source}: a strategy file is at most {MAX_STRATEGY_BYTES:,} bytes.",
                    field="yaml",
                ),
            ),
        )
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        error = ValidationError(
            grammar_codes.BAD_STRATEGY_FILE,
            f"{source}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}.",
            field="yaml",
        )
        return StrategyCheck(source, (error,))
    return await check_strategy(raw, source=source, catalogue=catalogue)


async def check_strategy(raw: Any, *, source: str, catalogue: IndicatorCatalogue) -> StrategyCheck:
    """Check every section of a parsed strategy document (see the module docstring).

    Raises
    ------
    KtrdrError
        Only when the catalogue cannot answer (UNAVAILABLE, DEADLINE_EXCEEDED); every problem
        of the strategy itself is in the result.
    """
    if not isinstance(raw, Mapping):
        error = ValidationError(
            grammar_codes.BAD_STRATEGY_FILE, f"{source}: a strategy must be a YAML mapping."
        )
        return StrategyCheck(source, (error,))
    problems = Problems()
    infos = await _describe_indicators(raw.get("indicators"), catalogue)
    strategy: Strategy | None = None
    with problems.capture(ValidationError, NotFoundError):
        strategy = parse_strategy(raw, validator=_validator(infos), source=source)
    network: NetworkSpec | None = None
    with problems.capture(ValidationError):
        network = parse_network_spec(
            raw.get("model"), raw.get("training"), source=f"strategy {source}"
        )
    decisions: DecisionConfig | None = None
    with problems.capture(ValidationError):
        decisions = parse_decisions(raw.get("decisions"), bar_seconds=_bar_seconds(raw, strategy))
    if strategy is None:
        return StrategyCheck(source, tuple(problems.items), None, network, decisions)
    _unused_settings(strategy, problems)
    features = resolve_features(strategy)
    window = network.model.sequence_length if network else 1
    return StrategyCheck(
        source,
        tuple(problems.items),
        strategy,
        network,
        decisions,
        features,
        warmup_bars=warmup_bars(strategy, features, infos, model_window=window),
        label_horizon_bars=network.label_window if network else 0,
    )


async def _describe_indicators(
    raw: Any, catalogue: IndicatorCatalogue
) -> dict[str, IndicatorInfo | KtrdrError]:
    """The catalogue's answer (or refusal) for every well-formed ``indicators`` entry, keyed by
    :func:`_key` of its type and parameters."""
    out: dict[str, IndicatorInfo | KtrdrError] = {}
    if not isinstance(raw, Mapping):
        return out
    for spec in raw.values():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
            continue
        params = {k: v for k, v in spec.items() if k != "type"}
        key = _key(spec["type"], params)
        if key in out:
            continue
        try:
            out[key] = await catalogue.describe(spec["type"], params)
        except (ValidationError, NotFoundError) as exc:
            out[key] = exc
    return out


def _key(indicator: str, params: Mapping[str, Any]) -> str:
    return json.dumps([indicator, dict(params)], sort_keys=True, default=str)


def _validator(infos: Mapping[str, IndicatorInfo | KtrdrError]) -> Any:
    def validate(indicator: str, params: Mapping[str, Any]) -> tuple[str, ...]:
        found = infos[_key(indicator, params)]
        if isinstance(found, KtrdrError):
            raise found
        return found.outputs

    return validate


def _bar_seconds(raw: Mapping[str, Any], strategy: Strategy | None) -> int:
    """The base bar's length (for hour-valued decision filters); 1h when it is unknown."""
    if strategy is not None:
        return parse_timeframe(strategy.training_data.base_timeframe).seconds
    return 3600


def _unused_settings(strategy: Strategy, problems: Problems) -> None:
    """Every setting is used: indicators something reads, fuzzy sets the network is fed."""
    read = {fs.indicator_id for fs in strategy.fuzzy_sets.values()}
    read |= {i.raw_indicator.partition(".")[0] for i in strategy.nn_inputs or () if i.kind == "raw"}
    for ind_id in strategy.indicators:
        if ind_id not in read:
            problems.add(
                f"indicators.{ind_id}",
                f"Indicator '{ind_id}' is computed but nothing reads it: reference it from a "
                "fuzzy set or a raw_indicator input, or remove it.",
                code=codes.UNUSED_SETTING,
            )
    if strategy.nn_inputs is None:
        return  # every fuzzy set feeds the network
    fed = {i.fuzzy_set for i in strategy.nn_inputs if i.kind == "fuzzy"}
    for set_id in strategy.fuzzy_sets:
        if set_id not in fed:
            problems.add(
                f"fuzzy_sets.{set_id}",
                f"Fuzzy set '{set_id}' feeds no network input: add it to nn_inputs, or remove it.",
                code=codes.UNUSED_SETTING,
            )


def warmup_bars(
    strategy: Strategy,
    features: tuple[FeatureSpec, ...],
    infos: Mapping[str, IndicatorInfo | KtrdrError],
    *,
    model_window: int = 1,
) -> int:
    """Base bars to feed before a backtest's first bar so that every feature is ready and has
    converged.

    An indicator's warm-up (its leading not-ready bars) says when a value first exists; a
    recursive one (an EMA, Wilder's smoothing in RSI, ATR and ADX) still carries its starting
    point for a while after that. The runner feeds :data:`CONVERGENCE` times ``(warm-up + 2)``
    bars of each feature's timeframe: Wilder's smoothing keeps ``e^-10`` (5e-5) of its start
    by then, an EMA far less, so the features at the range's first bar are the same (to about
    1e-6 on the example strategies) whatever longer history precedes them. Each bar of a higher
    timeframe counts as ``ceil(timeframe / base)`` base bars (an upper bound: a session holds
    at most that many). Then the model's window (``sequence_length - 1`` rows) is added. The
    result is the larger of that and ``training_data.history_required``.
    """
    base = parse_timeframe(strategy.training_data.base_timeframe).seconds
    needed = 0
    for feature in features:
        spec = strategy.indicators.get(feature.indicator.partition(".")[0])
        if spec is None:
            continue
        info = infos.get(_key(spec.type, spec.params))
        warm = info.warmup_bars if isinstance(info, IndicatorInfo) else 0
        ratio = math.ceil(parse_timeframe(feature.timeframe).seconds / base)
        needed = max(needed, CONVERGENCE * (warm + 2) * ratio)
    needed += max(0, model_window - 1)
    return max(needed, strategy.training_data.history_required or 0)


@dataclasses.dataclass(frozen=True, slots=True)
class StrategyEntry:
    """A stored strategy file (its id is the file stem), its text and its check."""

    strategy_id: str
    path: Path
    text: str
    check: StrategyCheck


class StrategyFiles:
    """The strategy files of a directory (``*.yaml``, ``*.yml``), checked in every section.

    Parameters
    ----------
    directory
        Where the files are (missing: no strategies).
    catalogue
        Checks the indicators.
    offload
        Runs the file reads (default ``asyncio.to_thread``).
    """

    def __init__(
        self,
        directory: Path,
        catalogue: IndicatorCatalogue,
        *,
        offload: Offload = asyncio.to_thread,
    ) -> None:
        self.directory = Path(directory)
        self.catalogue = catalogue
        self._offload = offload

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p for p in self.directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
        )

    async def entries(self) -> list[StrategyEntry]:
        """Every file, valid or not, by file name."""
        return [await self._entry(path) for path in await self._offload(self._files)]

    async def get(self, strategy_id: str) -> StrategyEntry:
        """The file whose stem (or strategy ``name``) is ``strategy_id``.

        Raises
        ------
        NotFoundError
            ``FUZZY-014`` with close matches among the stored strategies.
        """
        files = await self._offload(self._files)
        for path in files:
            if strategy_id in (path.stem, path.name):
                return await self._entry(path)
        for path in files:  # by the name written inside
            entry = await self._entry(path)
            if entry.check.strategy is not None and entry.check.strategy.name == strategy_id:
                return entry
        raise NotFoundError(
            grammar_codes.STRATEGY_NOT_FOUND,
            f"No strategy '{strategy_id}'; ListStrategies shows the stored ones.",
            field="strategy_id",
            suggestions=suggest(strategy_id, [p.stem for p in files]),
        )

    async def check(self, strategy_id: str) -> StrategyCheck:
        return (await self.get(strategy_id)).check

    async def check_text(self, text: str, *, source: str) -> StrategyCheck:
        """Check YAML given inline (not stored)."""
        return await check_strategy_text(text, source=source, catalogue=self.catalogue)

    async def _entry(self, path: Path) -> StrategyEntry:
        try:
            data = await self._offload(path.read_bytes)
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            error = ValidationError(
                grammar_codes.BAD_STRATEGY_FILE, f"{path.name}: cannot be read: {exc}."
            )
            return StrategyEntry(path.stem, path, "", StrategyCheck(path.name, (error,)))
        check = await check_strategy_text(text, source=path.stem, catalogue=self.catalogue)
        return StrategyEntry(path.stem, path, text, check)
