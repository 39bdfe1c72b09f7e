"""Import the real sample data shipped with ``backtesting`` into the store.

* ``GOOG`` 1d — 2148 daily bars 2004-08-19 .. 2013-03-01, stamped 00:00 UTC of the session date;
* ``EURUSD`` 1h — 5000 hourly bars 2017-04-19 .. 2018-02-07.

Time-zone assumption: the CSVs are naive; we treat them as UTC. For EURUSD this matches the
FX calendar exactly (the last Friday bar opens 20:00/21:00 UTC, the Sunday bar at 17:00 New
York), which the gap analysis confirms. Volume is stored as int64.

:func:`import_bundled` is idempotent: a series already stored with the same bars is not
rewritten (the write reports ``changed=False``).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import structlog

from ktrdr_data.domain.quality import QualityReport, validate_bars
from ktrdr_data.domain.storage import ParquetBarStore, WriteResult

log = structlog.get_logger(__name__)

BUNDLED: dict[str, str] = {"GOOG": "1d", "EURUSD": "1h"}


@dataclasses.dataclass(frozen=True, slots=True)
class BundledImport:
    symbol: str
    timeframe: str
    write: WriteResult
    quality: QualityReport


def bundled_frame(symbol: str) -> tuple[pd.DataFrame, QualityReport]:
    """The validated canonical frame of a bundled series (``GOOG`` or ``EURUSD``)."""
    import backtesting.test as bt

    raw = getattr(bt, symbol)
    return validate_bars(raw)


def import_bundled(store: ParquetBarStore) -> list[BundledImport]:
    """Store GOOG 1d and EURUSD 1h (idempotent)."""
    out = []
    for symbol, tf in BUNDLED.items():
        bars, report = bundled_frame(symbol)
        result = store.write(symbol, tf, bars)
        out.append(BundledImport(symbol, tf, result, report))
        log.info("bundled_imported", symbol=symbol, timeframe=tf, changed=result.changed)
    return out
