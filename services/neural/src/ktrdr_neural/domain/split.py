"""Chronological train/validation/test split of one symbol, with purging and an embargo.

Samples are bars (by index) in time order, each with the index of the last bar its label reads
(``end``). The split cuts the samples by the configured fractions, then:

- **purging**: a training sample is dropped when its label window reaches the first bar of the
  validation split (``end >= first validation bar``); a validation sample likewise against the
  test split (validation picks the kept epoch, so it must not see test outcomes either);
- **embargo**: the first ``embargo_bars`` bars after each boundary belong to no split
  (``embargo_bars = ceil(embargo_pct * bars)``), so samples right after a boundary, whose
  features overlap the previous split, are not used either.

So every label window of a split ends strictly before the first bar of any later split.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ktrdr_core.strategy.training import SplitConfig

SPLITS: tuple[str, str, str] = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True, slots=True)
class SplitResult:
    """Positions (into the sample arrays) of each split, and what purging/embargo removed."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    purged: int
    embargoed: int
    embargo_bars: int

    def parts(self) -> dict[str, np.ndarray]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def purged_split(
    rows: np.ndarray, ends: np.ndarray, config: SplitConfig, *, n_bars: int
) -> SplitResult:
    """Split samples at bar indices ``rows`` (increasing) whose labels read up to ``ends``.

    Parameters
    ----------
    rows
        Bar index of each sample, strictly increasing.
    ends
        Last bar index each sample's label (and target) depends on; ``ends >= rows``.
    config
        Fractions and embargo.
    n_bars
        Number of bars of the symbol (sizes the embargo).
    """
    rows = np.asarray(rows, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    m = len(rows)
    n_train = math.floor(m * config.train)
    n_val = math.floor(m * config.validation)
    embargo = math.ceil(config.embargo_pct * n_bars)
    positions = np.arange(m)
    if n_train == 0 or n_val == 0 or n_train + n_val >= m:
        empty = positions[:0]
        return SplitResult(positions[:n_train], empty, empty, 0, 0, embargo)
    val_start = int(rows[n_train])
    test_start = int(rows[n_train + n_val])
    train = positions[:n_train]
    val = positions[n_train : n_train + n_val]
    test = positions[n_train + n_val :]
    train_kept = train[ends[train] < val_start]
    val_in = val[rows[val] >= val_start + embargo]
    val_kept = val_in[ends[val_in] < test_start]
    test_kept = test[rows[test] >= test_start + embargo]
    purged = (len(train) - len(train_kept)) + (len(val_in) - len(val_kept))
    embargoed = (len(val) - len(val_in)) + (len(test) - len(test_kept))
    return SplitResult(train_kept, val_kept, test_kept, purged, embargoed, embargo)
