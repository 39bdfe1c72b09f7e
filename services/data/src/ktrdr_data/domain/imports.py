"""Importing bars into the store: validate, merge (or replace) and declare the instrument."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pandas as pd
import structlog

from ktrdr_core.errors import ValidationError
from ktrdr_core.timeframes import Timeframe
from ktrdr_data.domain import errors as codes
from ktrdr_data.domain.instruments import Instrument, InstrumentRegistry, validate_symbol
from ktrdr_data.domain.quality import QualityReport, RawBars, validate_bars
from ktrdr_data.domain.storage import ParquetBarStore, SeriesInfo, WriteResult

log = structlog.get_logger(__name__)

# Rows per import (CSV lines or bar columns): bounds the parsing memory (~0.5 KiB per row at
# peak); a bigger history is imported in parts (each merges into the series).
MAX_IMPORT_ROWS = 1_000_000


def check_import_size(rows: int, *, field: str) -> None:
    """Refuse an import of more than :data:`MAX_IMPORT_ROWS` rows (``DATA-026``)."""
    if rows > MAX_IMPORT_ROWS:
        raise ValidationError(
            codes.IMPORT_TOO_LARGE,
            f"'{field}' holds {rows} rows, more than {MAX_IMPORT_ROWS} per import: split it "
            "into several imports (each merges into the stored series).",
            field=field,
            details={"rows": rows, "max": MAX_IMPORT_ROWS},
        )


@dataclasses.dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: the write, the quality report, the series and its instrument."""

    write: WriteResult
    quality: QualityReport
    series: SeriesInfo | None
    instrument: Instrument

    @property
    def imported(self) -> int:
        """Bars written (new plus replaced)."""
        return self.write.bars_added + self.write.bars_replaced


def _nothing_valid(report: QualityReport, field: str) -> ValidationError:
    worst = max(report.issues, key=lambda i: i.count, default=None)
    why = (
        f"; e.g. {worst.count} rows {worst.kind} ({worst.reason}), rows {list(worst.rows[:5])}"
        if worst is not None
        else ""
    )
    return ValidationError(
        codes.NOTHING_TO_IMPORT,
        f"No valid bar to store: {report.input_bars} rows in, {report.rejected_bars} rejected"
        f"{why}. The stored series is unchanged.",
        field=field,
        details={"rejected": report.rejected_bars, **report.counts},
    )


def import_bars(
    store: ParquetBarStore,
    instruments: InstrumentRegistry,
    *,
    symbol: str,
    timeframe: Timeframe,
    raw: pd.DataFrame | RawBars,
    instrument: Mapping[str, object] | None = None,
    replace: bool = False,
    field: str = "csv_content",
) -> ImportResult:
    """Validate ``raw``, declare ``instrument`` (if given) and merge or replace the series.

    Nothing is written when every row is rejected, nor when the instrument metadata is invalid.

    Parameters
    ----------
    instrument
        Keyword arguments of :meth:`InstrumentRegistry.declare` (``instrument_type``,
        ``exchange``, ``currency``, ``calendar``, ``timezone``); empty values are left out.
    replace
        Replace the stored series entirely (also a corrupt one) instead of merging.
    field
        The request field that carried the bars, named in errors.

    Raises
    ------
    ValidationError
        ``DATA-021`` when no bar is valid; instrument errors (``DATA-024`` ...).
    DataLossError
        ``DATA-005`` when merging into a corrupt file.
    """
    validate_symbol(symbol)
    bars, quality = validate_bars(raw, timeframe=timeframe)
    if len(bars) == 0:
        raise _nothing_valid(quality, field)
    declared = {k: v for k, v in (instrument or {}).items() if v}
    checked = instruments.declare(symbol, save=False, **declared)  # type: ignore[arg-type]
    write = store.write(symbol, timeframe, bars, replace=replace)
    if declared:
        checked = instruments.declare(symbol, **declared)  # type: ignore[arg-type]
    log.info(
        "bars_imported",
        symbol=symbol,
        timeframe=timeframe.code,
        replace=replace,
        written=write.bars_added + write.bars_replaced,
        rejected=quality.rejected_bars,
    )
    return ImportResult(write, quality, store.info(symbol, timeframe), checked)
