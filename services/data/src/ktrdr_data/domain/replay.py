"""Streams of stored bars: batches of a bounded size, optionally paced "as if live".

Bounds (checked before anything is read): ``batch_size`` 1 to :data:`MAX_BATCH` bars per message
(0 means :data:`DEFAULT_BATCH`); ``replay_speed`` 0 (no pacing) or from :data:`MIN_REPLAY_SPEED`
(100 times slower than real time) to :data:`MAX_REPLAY_SPEED`. The stream reads the store a row
group at a time, so its memory does not grow with the range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from ktrdr_core.bars import Bars
from ktrdr_core.errors import ValidationError
from ktrdr_data.domain import errors as codes

DEFAULT_BATCH = 1000
MAX_BATCH = 10_000
MIN_REPLAY_SPEED = 0.01
MAX_REPLAY_SPEED = 1_000_000.0


def check_stream(batch_size: int, replay_speed: float) -> tuple[int, float]:
    """The batch size (0 -> :data:`DEFAULT_BATCH`) and replay speed, checked.

    Raises
    ------
    ValidationError
        ``DATA-016`` naming ``batch_size``, ``DATA-017`` naming ``replay_speed``.
    """
    batch = batch_size or DEFAULT_BATCH
    if not 1 <= batch <= MAX_BATCH:
        raise ValidationError(
            codes.INVALID_BATCH_SIZE,
            f"'batch_size' {batch} must be between 1 and {MAX_BATCH} (0: {DEFAULT_BATCH}).",
            field="batch_size",
        )
    speed = float(replay_speed)
    if speed != 0 and not (math.isfinite(speed) and MIN_REPLAY_SPEED <= speed <= MAX_REPLAY_SPEED):
        raise ValidationError(
            codes.INVALID_REPLAY_SPEED,
            f"'replay_speed' {speed:g} must be 0 (no pacing) or between {MIN_REPLAY_SPEED:g} "
            f"and {MAX_REPLAY_SPEED:g} (1 = real time).",
            field="replay_speed",
        )
    return batch, speed


def batches(chunks: Iterable[Bars], batch_size: int) -> Iterator[Bars]:
    """Re-cut ordered chunks of bars into batches of ``batch_size`` (the last may be shorter)."""
    pending: list[Bars] = []
    held = 0
    for chunk in chunks:
        pending.append(chunk)
        held += len(chunk)
        if held < batch_size:
            continue
        joined = Bars.concat(pending)
        full = len(joined) - len(joined) % batch_size
        for lo in range(0, full, batch_size):
            yield joined.take(slice(lo, lo + batch_size))
        rest = joined.take(slice(full, None))
        pending, held = ([rest], len(rest)) if len(rest) else ([], 0)
    if held:
        yield Bars.concat(pending)


def paced(batches_: Iterable[Bars], *, bar_us: int, speed: float) -> Iterator[tuple[Bars, float]]:
    """Each batch with the seconds after the stream's start at which it is due.

    A batch is due once its last bar would have closed, with history compressed by ``speed``
    (1.0 = real time, 60 = a minute of history per second; 0 = all due at once). The first
    bar's close is time 0.
    """
    origin: int | None = None
    for batch in batches_:
        if speed == 0 or len(batch) == 0:
            yield batch, 0.0
            continue
        closes = batch.timestamps_us + bar_us
        origin = int(closes[0]) if origin is None else origin
        yield batch, (int(closes[-1]) - origin) / 1e6 / speed
