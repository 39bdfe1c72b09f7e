"""From a strategy and a feature source to the arrays a training reads (NumPy, no torch).

Per symbol: features and bars of the base timeframe, labels on the bars, samples where the
feature window is ready and the label known, a purged chronological split. Symbols are then
stacked (each split chronologically on its own), raw-indicator columns are scaled with
statistics of the training rows only, and every check that can fail (a symbol not stored, too
little data, a class absent from training) fails here, before any training starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ktrdr_core.errors import FailedPreconditionError, NotFoundError
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.strategy.training import NetworkSpec
from ktrdr_neural.domain import errors as codes
from ktrdr_neural.domain.features import FeatureColumn, FeatureFrame, FeatureSource, PriceBars
from ktrdr_neural.domain.labels import CLASS_NAMES, Labels, forward_returns, make_labels
from ktrdr_neural.domain.scaling import Scaler, fit_scalers
from ktrdr_neural.domain.split import SPLITS, purged_split

# A split with fewer samples than this cannot be trained or evaluated meaningfully.
MIN_SAMPLES_PER_SPLIT = 30
# Bound on the rows a training may hold (features x rows stays in memory, float32).
MAX_TRAINING_ROWS = 5_000_000


def _iso(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, tz=dt.UTC).isoformat().replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True, slots=True)
class SymbolSamples:
    """One symbol's aligned rows and the samples of each split (positions into its rows)."""

    symbol: str
    timestamps_us: np.ndarray
    features: np.ndarray
    classes: np.ndarray
    returns: np.ndarray
    splits: dict[str, np.ndarray]
    summary: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class PreparedDataset:
    """Everything a training reads; ``rows_*`` index ``features`` (stacked over symbols).

    ``features`` is float32, already scaled; a sample at row ``i`` sees rows
    ``i - window + 1 .. i`` (never across symbols). ``returns_*`` are the regression targets
    (NaN when the model has no regression head).
    """

    schema: tuple[FeatureColumn, ...]
    scalers: tuple[Scaler, ...]
    window: int
    features: np.ndarray
    rows: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    returns: dict[str, np.ndarray]
    data: dict[str, Any]

    def arrays(self) -> dict[str, np.ndarray]:
        """Flat name -> array mapping (what the worker process reads from safetensors)."""
        out = {"features": self.features}
        for split in SPLITS:
            out[f"rows_{split}"] = self.rows[split]
            out[f"labels_{split}"] = self.labels[split]
            out[f"returns_{split}"] = self.returns[split]
        return out


def check_feature_frame(frame: FeatureFrame, schema: Sequence[FeatureColumn], symbol: str) -> None:
    """The source must return exactly the resolved features, in order (NEURAL-012)."""
    expected = tuple(c.name for c in schema)
    if frame.names != expected:
        first = first_difference(expected, frame.names)
        raise FailedPreconditionError(
            codes.FEATURE_SOURCE_MISMATCH,
            f"The feature source returned other columns for {symbol} than the strategy resolves "
            f"({first}); are the fuzzy and neural services reading the same strategy files?",
            field="strategy",
        )


def first_difference(expected: Sequence[str], got: Sequence[str]) -> str:
    """A sentence naming the first difference between two ordered name lists."""
    for i, (e, g) in enumerate(zip(expected, got, strict=False)):
        if e != g:
            return f"feature {i} is '{g}' where the model expects '{e}'"
    if len(got) < len(expected):
        return (
            f"{len(got)} features where the model expects {len(expected)}: "
            f"'{expected[len(got)]}' is missing"
        )
    if len(got) > len(expected):
        return (
            f"{len(got)} features where the model expects {len(expected)}: "
            f"'{got[len(expected)]}' is extra"
        )
    return "no difference"


def window_ready(valid_rows: np.ndarray, window: int) -> np.ndarray:
    """Rows whose last ``window`` rows (themselves included) are all valid."""
    if window <= 1:
        return valid_rows.copy()
    run = np.zeros(len(valid_rows), dtype=np.int64)
    count = 0
    for i, ok in enumerate(valid_rows):
        count = count + 1 if ok else 0
        run[i] = count
    return run >= window


def build_symbol_samples(
    symbol: str,
    frame: FeatureFrame,
    bars: PriceBars,
    spec: NetworkSpec,
) -> SymbolSamples:
    """Align features and bars of one symbol, label, and split it (see module docstring)."""
    common, fi, bi = np.intersect1d(
        frame.timestamps_us, bars.timestamps_us, assume_unique=True, return_indices=True
    )
    labels: Labels = make_labels(bars, spec.training.labels)
    head = spec.model.regression_head
    target = forward_returns(bars.close, head.horizon_bars) if head else np.zeros(len(bars))
    target_end = np.arange(len(bars)) + (head.horizon_bars if head else 0)
    features = frame.values[fi]
    ready = window_ready(np.isfinite(features).all(axis=1), spec.model.sequence_length)
    usable = ready & labels.known[bi] & np.isfinite(target[bi])
    rows = np.flatnonzero(usable)
    bar_rows = bi[rows]
    ends = np.maximum(labels.end[bar_rows], target_end[bar_rows])
    split = purged_split(bar_rows, ends, spec.training.split, n_bars=len(bars))
    classes = labels.classes[bi]
    returns = target[bi] if head else np.full(len(bi), np.nan)
    splits = {name: rows[pos] for name, pos in split.parts().items()}
    summary = {
        "rows": len(common),
        "first": _iso(int(common[0])) if len(common) else None,
        "last": _iso(int(common[-1])) if len(common) else None,
        "samples": len(rows),
        "purged": split.purged,
        "embargoed": split.embargoed,
        "embargo_bars": split.embargo_bars,
        "splits": {name: _split_summary(common, idx, classes) for name, idx in splits.items()},
        "sha256": _digest(common, features, bars.close[bi]),
    }
    return SymbolSamples(symbol, common, features, classes, returns, splits, summary)


def _split_summary(stamps: np.ndarray, idx: np.ndarray, classes: np.ndarray) -> dict[str, Any]:
    counts = np.bincount(classes[idx], minlength=3) if len(idx) else np.zeros(3, dtype=int)
    return {
        "samples": len(idx),
        "first": _iso(int(stamps[idx[0]])) if len(idx) else None,
        "last": _iso(int(stamps[idx[-1]])) if len(idx) else None,
        "classes": {CLASS_NAMES[c]: int(counts[c]) for c in range(3)},
    }


def _digest(stamps: np.ndarray, features: np.ndarray, close: np.ndarray) -> str:
    h = hashlib.sha256()
    for arr in (stamps.astype("<i8"), features.astype("<f8"), close.astype("<f8")):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def check_sizes(per_symbol: Sequence[SymbolSamples], spec: NetworkSpec) -> None:
    """NEURAL-005 before training: every split big enough, every class present in training."""
    for s in per_symbol:
        small = {k: len(v) for k, v in s.splits.items() if len(v) < MIN_SAMPLES_PER_SPLIT}
        if small:
            sizes = ", ".join(f"{k} {v}" for k, v in small.items())
            raise FailedPreconditionError(
                codes.NOT_ENOUGH_DATA,
                f"Too little data for {s.symbol}: {s.summary['samples']} labelled samples from "
                f"{s.summary['rows']} bars leave {sizes} sample(s) after purging and the "
                f"embargo (at least {MIN_SAMPLES_PER_SPLIT} per split are needed); widen the "
                "date range, or shorten the label window or the sequence length.",
                field="start_date",
                details={"symbol": s.symbol},
            )
    counts = sum(
        (np.bincount(s.classes[s.splits["train"]], minlength=3) for s in per_symbol),
        start=np.zeros(3, dtype=np.int64),
    )
    absent = [CLASS_NAMES[c] for c in range(3) if counts[c] == 0]
    if absent:
        raise FailedPreconditionError(
            codes.NOT_ENOUGH_DATA,
            f"The training split has no {' or '.join(absent)} sample "
            f"(BUY {counts[0]}, HOLD {counts[1]}, SELL {counts[2]}) with labels "
            f"{spec.training.labels.to_dict()}; change the label threshold or horizon.",
            field="training.labels",
        )


def stack(
    per_symbol: Sequence[SymbolSamples], schema: Sequence[FeatureColumn], spec: NetworkSpec
) -> PreparedDataset:
    """Stack symbols, fit scalers on training rows, and scale."""
    offsets = np.cumsum([0, *(len(s.timestamps_us) for s in per_symbol)])
    features = np.concatenate([s.features for s in per_symbol]).astype(np.float64)
    rows = {
        split: np.concatenate(
            [s.splits[split] + off for s, off in zip(per_symbol, offsets, strict=False)]
        )
        for split in SPLITS
    }
    classes = np.concatenate([s.classes for s in per_symbol])
    returns = np.concatenate([s.returns for s in per_symbol])
    scalers = fit_scalers(features[rows["train"]], schema)
    for j, scaler in enumerate(scalers):
        features[:, j] = scaler.apply(features[:, j])
    return PreparedDataset(
        schema=tuple(schema),
        scalers=scalers,
        window=spec.model.sequence_length,
        features=features.astype(np.float32),
        rows={k: v.astype(np.int64) for k, v in rows.items()},
        labels={k: classes[v].astype(np.int64) for k, v in rows.items()},
        returns={k: returns[v].astype(np.float32) for k, v in rows.items()},
        data={"symbols": {s.symbol: s.summary for s in per_symbol}},
    )


async def prepare_dataset(
    source: FeatureSource,
    strategy: Strategy,
    *,
    schema: Sequence[FeatureColumn],
    spec: NetworkSpec,
    symbols: Sequence[str],
    timeframe: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[SymbolSamples]:
    """Fetch and label every symbol (the CPU part runs in the caller's thread)."""
    out = []
    for symbol in symbols:
        await check_stored(source, symbol=symbol, timeframe=timeframe, start=start, end=end)
        frame = await source.features(
            strategy, symbol=symbol, timeframe=timeframe, start=start, end=end
        )
        check_feature_frame(frame, schema, symbol)
        bars = await source.bars(symbol=symbol, timeframe=timeframe, start=start, end=end)
        if len(bars) > MAX_TRAINING_ROWS:
            raise FailedPreconditionError(
                codes.NOT_ENOUGH_DATA,
                f"{symbol} has {len(bars)} bars in the range; a training takes at most "
                f"{MAX_TRAINING_ROWS} per symbol: narrow start_date/end_date.",
                field="start_date",
            )
        out.append(await asyncio.to_thread(build_symbol_samples, symbol, frame, bars, spec))
    return out


async def check_stored(
    source: FeatureSource,
    *,
    symbol: str,
    timeframe: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> None:
    """NEURAL-006 naming the symbol and how to load it when nothing is stored."""
    try:
        await source.stored_range(symbol=symbol, timeframe=timeframe)
    except NotFoundError as exc:
        span = ""
        if start or end:
            span = (
                f" --start {start.date() if start else '...'} --end {end.date() if end else '...'}"
            )
        raise FailedPreconditionError(
            codes.SYMBOL_NOT_STORED,
            f"No {timeframe} bars are stored for {symbol} ({exc.message}); load them first: "
            f"`ktrdr data load {symbol} {timeframe}{span}` (or POST /api/v1/data/load).",
            field="symbols",
            suggestions=exc.suggestions,
            details={"symbol": symbol, "timeframe": timeframe},
        ) from exc
