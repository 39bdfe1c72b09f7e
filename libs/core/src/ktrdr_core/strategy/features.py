"""Feature naming: the ordered feature list the neural service uses.

A feature is a fuzzy membership, ``{timeframe}_{set}_{membership}`` (``1h_rsi_14_oversold``), or
a raw indicator column, ``{timeframe}_{indicator_ref}_raw`` (``4h_macd_12_26_9.line_raw``), the
indicator's value unscaled; its ``normalization`` tells the neural service how to scale it.

Order (deterministic, resolved once per strategy):

1. ``nn_inputs`` entries in the order written (without ``nn_inputs``: every fuzzy set in
   declaration order, on all timeframes);
2. within an entry, its timeframes in the order of ``training_data.timeframes`` (``all`` = every
   strategy timeframe; an explicit list is filtered, so writing ``[4h, 1h]`` or ``[1h, 4h]``
   gives the same order);
3. within a timeframe, the set's memberships in the order written (a raw entry gives one
   feature per timeframe).

Single-timeframe strategies are prefixed too (``1h_rsi_14_oversold``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ktrdr_core.strategy.document import Strategy


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One neural-network input feature.

    ``kind`` is ``"fuzzy"`` (a membership of ``fuzzy_set``) or ``"raw"`` (``fuzzy_set`` and
    ``membership`` empty). ``indicator`` is the indicator column read on ``timeframe`` (``rsi_14``,
    ``macd_12_26_9.line``); ``normalization`` is ``none`` for memberships, else the raw entry's.
    """

    name: str
    timeframe: str
    fuzzy_set: str
    membership: str
    index: int
    kind: str = "fuzzy"
    indicator: str = ""
    normalization: str = "none"


def feature_name(timeframe: str, fuzzy_set: str, membership: str) -> str:
    """``{timeframe}_{set}_{membership}``, e.g. ``1h_rsi_14_oversold``."""
    return f"{timeframe}_{fuzzy_set}_{membership}"


def raw_feature_name(timeframe: str, indicator: str) -> str:
    """``{timeframe}_{indicator_ref}_raw``, e.g. ``4h_macd_12_26_9.line_raw``."""
    return f"{timeframe}_{indicator}_raw"


def resolve_features(strategy: Strategy) -> tuple[FeatureSpec, ...]:
    """The ordered feature list of ``strategy`` (see module docstring)."""
    from ktrdr_core.strategy.document import NNInput

    timeframes = strategy.training_data.timeframes
    entries = (
        [NNInput(set_id) for set_id in strategy.fuzzy_sets]
        if strategy.nn_inputs is None
        else list(strategy.nn_inputs)
    )
    out: list[FeatureSpec] = []
    for entry in entries:
        chosen = entry.timeframes
        tfs = timeframes if chosen is None else tuple(t for t in timeframes if t in chosen)
        for tf in tfs:
            if entry.raw_indicator:
                out.append(
                    FeatureSpec(
                        raw_feature_name(tf, entry.raw_indicator),
                        tf,
                        "",
                        "",
                        len(out),
                        kind="raw",
                        indicator=entry.raw_indicator,
                        normalization=entry.normalization,
                    )
                )
                continue
            fs = strategy.fuzzy_sets[entry.fuzzy_set]
            for m in fs.memberships:
                name = feature_name(tf, fs.id, m.name)
                out.append(FeatureSpec(name, tf, fs.id, m.name, len(out), indicator=fs.indicator))
    return tuple(out)


def feature_names(strategy: Strategy) -> tuple[str, ...]:
    """Just the names of :func:`resolve_features`."""
    return tuple(f.name for f in resolve_features(strategy))
