"""``ktrdr data load|show|import|export|gaps|info|timeframes``: market data through the API."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.output import Output, cell, short

app = typer.Typer(help="Market data: load, stream, import, export, gaps.", no_args_is_help=True)

Symbol = Annotated[str, typer.Argument(help="Instrument symbol, e.g. EURUSD or GOOG.")]
Timeframe = Annotated[str, typer.Argument(help="Timeframe code: 1m 5m 15m 30m 1h 2h 4h 1d 1w 1M.")]
Start = Annotated[
    str,
    typer.Option(
        help="First bar (ISO-8601 date or date-time, naive = UTC); default the first stored."
    ),
]
End = Annotated[
    str,
    typer.Option(help="End of the range, exclusive (half-open); default after the last stored."),
]


class LoadMode(enum.StrEnum):
    """How a load combines stored bars and IB."""

    local = "local"
    tail = "tail"
    backfill = "backfill"
    full = "full"


@app.command()
def load(
    ctx: typer.Context,
    symbol: Symbol,
    timeframe: Timeframe,
    start: Start = "",
    end: End = "",
    mode: Annotated[
        LoadMode,
        typer.Option(
            help="local: stored bars only; tail/backfill/full: also fetch the missing part "
            "from IB (trade role).",
            case_sensitive=False,
        ),
    ] = LoadMode.local,
) -> None:
    """Load bars (local first) and report where they came from and their quality."""
    g = Globals.of(ctx)
    with g.client() as client:
        result = client.load_data(symbol, timeframe, start=start, end=end, mode=mode.value)
    if g.out.json_mode:
        g.out.json(result)
        return
    prov, quality = result.provenance, result.quality
    first = result.bars[0].timestamp if result.bars else None
    last = result.bars[-1].timestamp if result.bars else None
    g.out.fields(
        [
            ("series", f"{result.symbol} {result.timeframe}"),
            ("bars", len(result.bars)),
            ("first", first),
            ("last", last),
            ("stored bars", prov.get("localBars", 0)),
            ("fetched bars", prov.get("fetchedBars", 0)),
            ("complete", prov.get("complete", False)),
            ("source", prov.get("sourceStatus", "")),
            ("missing ranges", _ranges(prov.get("missingRanges") or [])),
        ],
        title="load",
    )
    _quality(g.out, quality)


def _ranges(ranges: list[dict[str, Any]]) -> str:
    return "; ".join(f"{r.get('start', '')} .. {r.get('end', '')}" for r in ranges)


def _quality(out: Output, quality: dict[str, Any]) -> None:
    """The quality report: counts, then one row per kind of issue."""
    counts = ", ".join(
        f"{name} {quality.get(key, 0)}"
        for name, key in (
            ("in", "barsIn"),
            ("out", "barsOut"),
            ("rejected", "rejected"),
            ("repaired", "repaired"),
            ("flagged", "flagged"),
        )
    )
    out.line(f"quality: bars {counts}")
    issues = quality.get("issues") or []
    if issues:
        out.table(
            ["kind", "action", "count", "reason", "first timestamps"],
            [
                [
                    i.get("kind"),
                    i.get("action"),
                    i.get("count"),
                    i.get("reason"),
                    (i.get("timestamps") or [])[:3],
                ]
                for i in issues
            ],
            numeric=["count"],
        )


def _bar_rows(batch: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stamps = batch.get("timestampsUs") or []
    for i, us in enumerate(stamps):
        yield {
            "timestamp": dt.datetime.fromtimestamp(int(us) / 1e6, tz=dt.UTC),
            "open": float(batch["open"][i]),
            "high": float(batch["high"][i]),
            "low": float(batch["low"][i]),
            "close": float(batch["close"][i]),
            "volume": int((batch.get("volume") or [0] * len(stamps))[i]),
        }


def _bar_line(bar: dict[str, Any]) -> str:
    stamp = bar["timestamp"].isoformat().replace("+00:00", "Z")
    prices = " ".join(f"{bar[k]:>12.6g}" for k in ("open", "high", "low", "close"))
    return f"{stamp:<21} {prices} {bar['volume']:>12}"


@app.command()
def show(
    ctx: typer.Context,
    symbol: Symbol,
    timeframe: Timeframe,
    start: Start = "",
    end: End = "",
    batch_size: Annotated[
        int, typer.Option(help="Bars per streamed message (1 to 10000).", min=1, max=10_000)
    ] = 1000,
    replay_speed: Annotated[
        float,
        typer.Option(
            help="Replay as if live: 1 = real time, 60 = sixty times faster; 0 = at once.",
            min=0,
        ),
    ] = 0.0,
) -> None:
    """Stream stored bars in time order, one line per bar (NDJSON with --json).

    Fed by the StreamBars stream: rows appear as they arrive; with stdout redirected a
    progress bar runs on the terminal.
    """
    g = Globals.of(ctx)
    with g.client() as client:
        total = None
        if not (start or end or g.out.json_mode or g.out.out.is_terminal):
            total = client.data_info(symbol, timeframe).series.bar_count
        batches = client.stream_bars(
            symbol,
            timeframe,
            start=start,
            end=end,
            batch_size=batch_size,
            replay_speed=replay_speed,
        )
        if not g.out.json_mode:
            g.out.line(
                f"{'timestamp':<21} {'open':>12} {'high':>12} {'low':>12} "
                f"{'close':>12} {'volume':>12}"
            )
        with _progress(g.out, f"{symbol} {timeframe}", total) as advance:
            for batch in batches:
                rows = list(_bar_rows(batch))
                for bar in rows:
                    if g.out.json_mode:
                        g.out.json_line(bar)
                    else:
                        g.out.line(_bar_line(bar))
                advance(len(rows))


def _progress(
    out: Output, description: str, total: float | None
) -> contextlib.AbstractContextManager[Callable[[float], None]]:
    """A progress bar only when the rows themselves are not on the terminal."""
    if out.out.is_terminal:
        return contextlib.nullcontext(lambda _n: None)
    return out.progress(description, total)


@app.command("import")
def import_(
    ctx: typer.Context,
    symbol: Symbol,
    timeframe: Timeframe,
    file: Annotated[
        str,
        typer.Argument(
            help="CSV file ('-' for stdin): a Date/Datetime/Timestamp column and "
            "Open/High/Low/Close/Volume, any case."
        ),
    ],
    time_zone: Annotated[
        str, typer.Option(help="IANA zone of naive timestamps (default UTC).")
    ] = "",
) -> None:
    """Import bars from a CSV file: validated, merged and stored (trade role)."""
    g = Globals.of(ctx)
    content = sys.stdin.read() if file == "-" else Path(file).read_text()
    with g.client() as client:
        result = client.import_bars(symbol, timeframe, csv_content=content, time_zone=time_zone)
    if g.out.json_mode:
        g.out.json(result)
        return
    s = result.series
    g.out.line(
        f"imported {result.imported} bars into {symbol} {timeframe}; the series now has "
        f"{s.bar_count} bars, {cell(s.first)} .. {cell(s.last)}"
    )
    _quality(g.out, result.quality)


@app.command()
def export(
    ctx: typer.Context,
    symbol: Symbol,
    timeframe: Timeframe,
    start: Start = "",
    end: End = "",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the CSV here (default stdout)."),
    ] = None,
) -> None:
    """Export a stored range as CSV (timestamps ISO-8601 UTC)."""
    g = Globals.of(ctx)
    with g.client() as client:
        result = client.export_bars(symbol, timeframe, start=start, end=end)
    if output is not None:
        output.write_text(result.csv_content)
        g.out.note(f"wrote {result.bar_count} bars to {output}")
    elif g.out.json_mode:
        g.out.json(result)
    else:
        g.out.line(result.csv_content.rstrip("\n"))


@app.command()
def gaps(
    ctx: typer.Context,
    symbol: Symbol,
    timeframe: Timeframe,
    start: Start = "",
    end: End = "",
    all_gaps: Annotated[
        bool,
        typer.Option("--all", help="List expected gaps too (weekends, holidays, outside hours)."),
    ] = False,
) -> None:
    """Find and classify the gaps of a stored series (trading calendar of the instrument)."""
    g = Globals.of(ctx)
    with g.client() as client:
        report = client.analyze_gaps(
            symbol, timeframe, start=start, end=end, include_expected=all_gaps
        )
    if g.out.json_mode:
        g.out.json(report)
        return
    kinds = ", ".join(f"{short(k)} {n}" for k, n in report.by_kind.items() if n)
    g.out.line(
        f"{symbol} {timeframe}: {report.bar_count} bars, {report.gap_count} gaps "
        f"({kinds or 'none'}); coverage {report.coverage_pct:.2f}%"
    )
    if report.gaps:
        g.out.table(
            ["start", "end", "kind", "missing bars"],
            [[x.start, x.end, x.kind, x.missing_bars] for x in report.gaps],
            numeric=["missing bars"],
        )


@app.command()
def info(
    ctx: typer.Context,
    symbol: Annotated[
        str | None, typer.Argument(help="Only this symbol (default: every stored symbol).")
    ] = None,
    timeframe: Annotated[str | None, typer.Argument(help="Only this series of the symbol.")] = None,
) -> None:
    """What is stored: every symbol and series, one symbol, or one series."""
    g = Globals.of(ctx)
    with g.client() as client:
        if symbol and timeframe:
            one = client.data_info(symbol, timeframe)
            if g.out.json_mode:
                g.out.json(one)
                return
            rows = [(one.instrument, one.series)]
        else:
            symbols = client.symbols()
            if symbol:
                symbols = [s for s in symbols if s.symbol.upper() == symbol.upper()]
            if g.out.json_mode:
                g.out.json(symbols)
                return
            rows = [(s.instrument, series) for s in symbols for series in s.series]
    g.out.table(
        ["symbol", "type", "exchange", "calendar", "timeframe", "bars", "first", "last"],
        [
            [
                i.symbol,
                i.instrument_type,
                i.exchange,
                i.calendar,
                s.timeframe,
                s.bar_count,
                s.first,
                s.last,
            ]
            for i, s in rows
        ],
        numeric=["bars"],
    )


@app.command()
def timeframes(ctx: typer.Context) -> None:
    """The supported timeframes."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.timeframes()
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.table(
        ["code", "timeframe", "seconds"],
        [[t.code, t.timeframe, t.seconds] for t in found],
        numeric=["seconds"],
    )
