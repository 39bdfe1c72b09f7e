"""Feature naming: the ordered ``{timeframe}_{set}_{membership}`` list the neural service uses.

Order (deterministic, resolved once per strategy):

1. ``nn_inputs`` entries in the order written (without ``nn_inputs``: every fuzzy set in
   declaration order, on all timeframes);
2. within an entry, its timeframes in the order of ``training_data.timeframes`` (``all`` = every
   strategy timeframe; an explicit list is filtered, so writing ``[4h, 1h]`` or ``[1h, 4h]``
   gives the same order);
3. within a timeframe, the set's memberships in the order written.

Single-timeframe strategies are prefixed too (``1h_rsi_14_oversold``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ktrdr_core.strategy.document import Strategy


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One neural-network input feature."""

    name: str
    timeframe: str
    fuzzy_set: str
    membership: str
    index: int


def feature_name(timeframe: str, fuzzy_set: str, membership: str) -> str:
    """``{timeframe}_{set}_{membership}``, e.g. ``1h_rsi_14_oversold``."""
    return f"{timeframe}_{fuzzy_set}_{membership}"


def resolve_features(strategy: Strategy) -> tuple[FeatureSpec, ...]:
    """The ordered feature list of ``strategy`` (see module docstring)."""
    timeframes = strategy.training_data.timeframes
    if strategy.nn_inputs is None:
        entries = [(set_id, timeframes) for set_id in strategy.fuzzy_sets]
    else:
        entries = [
            (
                e.fuzzy_set,
                timeframes
                if e.timeframes is None
                else tuple(t for t in timeframes if t in e.timeframes),
            )
            for e in strategy.nn_inputs
        ]
    out: list[FeatureSpec] = []
    for set_id, tfs in entries:
        fs = strategy.fuzzy_sets[set_id]
        for tf in tfs:
            for m in fs.memberships:
                out.append(
                    FeatureSpec(feature_name(tf, set_id, m.name), tf, set_id, m.name, len(out))
                )
    return tuple(out)


def feature_names(strategy: Strategy) -> tuple[str, ...]:
    """Just the names of :func:`resolve_features`."""
    return tuple(f.name for f in resolve_features(strategy))
