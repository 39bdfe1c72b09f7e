"""``ktrdr backtest run|show|list|trades|report``: out-of-sample runs of a strategy's model."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.exit_codes import ExitCode
from ktrdr_cli.output import Output, cell
from ktrdr_client import KtrdrClient
from ktrdr_client.models import Backtest, BacktestUpdate, Trade

app = typer.Typer(help="Backtests: run, show, list, trades, report.", no_args_is_help=True)

RunId = Annotated[str, typer.Argument(help="Backtest run id (`ktrdr backtest list`).")]

# (label, PerformanceMetrics JSON field) of the metrics table, in order.
METRICS: tuple[tuple[str, str], ...] = (
    ("total return %", "totalReturnPct"),
    ("annualized return %", "annualizedReturnPct"),
    ("volatility (ann.) %", "volatilityAnnualizedPct"),
    ("Sharpe ratio", "sharpeRatio"),
    ("Sortino ratio", "sortinoRatio"),
    ("Calmar ratio", "calmarRatio"),
    ("max drawdown %", "maxDrawdownPct"),
    ("trades", "totalTrades"),
    ("win rate %", "winRatePct"),
    ("profit factor", "profitFactor"),
    ("avg trade return %", "avgTradeReturnPct"),
    ("exposure %", "exposurePct"),
    ("total costs", "totalCosts"),
    ("final equity", "finalEquity"),
)
# Baselines of the model's own test split (Backtest.model_metrics prefixes).
PREDICTORS: tuple[tuple[str, str], ...] = (
    ("model", "test"),
    ("majority class", "majority"),
    ("logistic regression", "logistic_regression"),
)

TRADE_COLUMNS = (
    "#",
    "side",
    "entry",
    "exit",
    "entry price",
    "exit price",
    "qty",
    "pnl",
    "return %",
    "exit reason",
    "p(entry)",
)


class FillTiming(enum.StrEnum):
    """When a decision at a bar's close fills."""

    next_open = "next_open"
    this_close = "this_close"


def _number(metrics: dict[str, Any], key: str) -> float:
    value = metrics.get(key, 0)
    return float(value) if value not in (None, "") else 0.0


def metrics_table(out: Output, run: Backtest) -> None:
    """The run's net and gross metrics beside buy-and-hold, then the model's baselines."""
    columns = [("strategy (net)", run.metrics), ("gross", run.gross_metrics)]
    if run.buy_and_hold:
        columns.append(("buy and hold", run.buy_and_hold))
    out.table(
        ["metric", *(name for name, _ in columns)],
        [[label, *(_number(m, key) for _, m in columns)] for label, key in METRICS],
        numeric=[name for name, _ in columns],
        title=f"{run.backtest_id}: {run.strategy_id} {run.symbol} {run.timeframe}, "
        f"{run.bars} bars, model {run.model}",
    )
    rows = [
        [name, run.model_metrics[f"{prefix}_accuracy"], run.model_metrics.get(f"{prefix}_macro_f1")]
        for name, prefix in PREDICTORS
        if f"{prefix}_accuracy" in run.model_metrics
    ]
    if rows:
        out.table(
            ["predictor", "test accuracy", "macro F1"],
            rows,
            numeric=["test accuracy", "macro F1"],
            title="the model against its baselines (test split of its training)",
        )
    ppy = run.metrics.get("periodsPerYear")
    if ppy:
        source = run.metrics.get("periodsPerYearSource", "")
        out.line(f"annualised with {float(ppy):g} periods per year ({source})")


def _progress_text(u: BacktestUpdate) -> str:
    p = u.progress
    return f"{p.bars} bars, {p.trades} trades, equity {p.equity:,.0f}"


def _stream(
    client: KtrdrClient, out: Output, strategy: str, fields: dict[str, Any]
) -> BacktestUpdate | None:
    """Follow RunBacktest with a progress bar (NDJSON lines with --json); the last update."""
    last: BacktestUpdate | None = None
    try:
        with out.status_progress("backtest") as update:
            for last in client.stream_backtest(strategy, **fields):
                if out.json_mode:
                    out.json_line(last)
                update(
                    last.progress.percent,
                    total=100,
                    description=f"backtest {last.progress.stage}".rstrip(),
                    status=_progress_text(last),
                )
    except KeyboardInterrupt:
        out.note("interrupted: the backtest's stream was closed before its result")
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    return last


@app.command()
def run(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Argument(help="Strategy name, e.g. rsi_trend_eurusd_1h.")],
    start: Annotated[str, typer.Option(help="First day of the range (required).")],
    end: Annotated[str, typer.Option(help="End of the range, exclusive (required).")],
    symbol: Annotated[str, typer.Option(help="Symbol (default the strategy's only one).")] = "",
    model: Annotated[
        str, typer.Option(help="Model name (default the strategy's latest; _vN pins one).")
    ] = "",
    capital: Annotated[
        float, typer.Option(help="Initial capital (0: the default 100000).", min=0)
    ] = 0.0,
    commission: Annotated[
        float, typer.Option(help="Commission rate per fill, [0, 0.1) (0: the default).", min=0)
    ] = 0.0,
    spread_bps: Annotated[
        float, typer.Option(help="Bid-ask spread in basis points, [0, 10000].", min=0)
    ] = 0.0,
    slippage_bps: Annotated[
        float | None, typer.Option(help="Slippage in basis points per fill, [0, 10000].", min=0)
    ] = None,
    confidence_threshold: Annotated[
        float | None,
        typer.Option(help="Override the strategy's confidence threshold, [0, 1].", min=0, max=1),
    ] = None,
    fill_timing: Annotated[
        FillTiming | None, typer.Option(help="When decisions fill (default next_open).")
    ] = None,
) -> None:
    """Backtest a strategy's model out of sample (trade role) with a progress bar.

    Prints the metrics beside buy-and-hold and the model's baselines. With --json: one JSON
    line per progress update, the last one carrying the stored run.
    """
    g = Globals.of(ctx)
    fields: dict[str, Any] = {"start_date": start, "end_date": end}
    optional = {
        "symbol": symbol,
        "model": model,
        "initial_capital": capital,
        "commission": commission,
        "spread_bps": spread_bps,
        "fill_timing": f"FILL_TIMING_{fill_timing.value.upper()}" if fill_timing else "",
    }
    fields |= {k: v for k, v in optional.items() if v}
    if slippage_bps is not None:
        fields["slippage_bps"] = slippage_bps
    if confidence_threshold is not None:
        fields["confidence_threshold"] = confidence_threshold
    with g.client() as client:
        last = _stream(client, g.out, strategy, fields)
    if last is None or not last.done:
        g.out.error("the backtest stream ended without a result")
        raise typer.Exit(ExitCode.FAILURE)
    if not g.out.json_mode:
        metrics_table(g.out, last.backtest)
        g.out.note(
            f"run {last.backtest.backtest_id}: `ktrdr backtest trades "
            f"{last.backtest.backtest_id}`, `ktrdr backtest report {last.backtest.backtest_id} "
            "--out report.html`"
        )
    _fail_unless_succeeded(g.out, last.backtest)


def _fail_unless_succeeded(out: Output, run: Backtest) -> None:
    if run.state != "BACKTEST_STATE_SUCCEEDED":
        out.error(f"backtest {run.backtest_id} ended {run.state}: {run.error}".rstrip(": "))
        raise typer.Exit(ExitCode.FAILURE)


@app.command()
def show(ctx: typer.Context, run_id: RunId) -> None:
    """One stored run: its metrics beside buy-and-hold and the model's baselines."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.backtest(run_id)
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.fields(
        [
            ("state", found.state),
            ("range", f"{found.start} .. {found.end}"),
            ("warm-up bars", found.warmup_bars),
            ("signals", ", ".join(f"{k} {v}" for k, v in found.signal_counts.items())),
            ("settings", ", ".join(f"{k}={v}" for k, v in found.settings.items())),
            ("error", found.error),
        ],
        title=found.backtest_id,
    )
    metrics_table(g.out, found)


@app.command("list")
def list_(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Option(help="Only this strategy's runs.")] = "",
    limit: Annotated[
        int, typer.Option(help="At most this many runs, newest first (1 to 500).", min=1, max=500)
    ] = 50,
) -> None:
    """Stored runs, newest first."""
    g = Globals.of(ctx)
    with g.client() as client:
        page = client.backtests_page(strategy, page_size=limit)
    runs: list[Backtest] = page.items
    if g.out.json_mode:
        g.out.json(runs)
        return
    g.out.table(
        ["run", "strategy", "symbol", "tf", "state", "start", "end", "return %", "B&H %", "trades"],
        [
            [
                r.backtest_id,
                r.strategy_id,
                r.symbol,
                r.timeframe,
                r.state,
                r.start,
                r.end,
                _number(r.metrics, "totalReturnPct"),
                _number(r.buy_and_hold, "totalReturnPct"),
                int(_number(r.metrics, "totalTrades")),
            ]
            for r in runs
        ],
        numeric=["return %", "B&H %", "trades"],
        title=f"{len(runs)} of {page.total_size} runs",
    )


def _trace_lines(out: Output, trade: Trade, index: int) -> None:
    for what, d in (("entry", trade.entry_decision), ("exit", trade.exit_decision)):
        if d is None:
            continue
        probs = " ".join(f"{k} {v:.3f}" for k, v in d.probabilities.items())
        out.line(f"  #{index} {what}: bar {d.bar} {cell(d.timestamp)} {d.signal} ({probs})")
        for name, value in d.features.items():
            out.line(f"      {name} = {value:.6g}")


@app.command()
def trades(
    ctx: typer.Context,
    run_id: RunId,
    limit: Annotated[
        int, typer.Option(help="At most this many trades, in closing order (0 = all).", min=0)
    ] = 100,
    trace: Annotated[
        bool,
        typer.Option(help="Show each decision trace: the features and probabilities behind it."),
    ] = False,
    page_size: Annotated[
        int, typer.Option(help="Trades per API page (1 to 10000).", min=1, max=10_000)
    ] = 1000,
) -> None:
    """A run's trades, paged through the API (entry, exit, reason, P&L)."""
    g = Globals.of(ctx)
    found: list[Trade] = []
    token, total = "", 0
    with g.client() as client:
        while True:
            want = min(limit - len(found), page_size) if limit else page_size
            page = client.trades_page(run_id, page_size=want, page_token=token)
            found += page.items
            token, total = page.next_page_token, page.total_size
            if not token or (limit and len(found) >= limit):
                break
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.table(
        [*TRADE_COLUMNS],
        [
            [
                i,
                t.side,
                t.entry_time,
                t.exit_time,
                t.entry_price,
                t.exit_price,
                t.quantity,
                t.pnl,
                t.return_pct,
                t.exit_reason,
                t.entry_decision.confidence if t.entry_decision else None,
            ]
            for i, t in enumerate(found, 1)
        ],
        numeric=[c for c in TRADE_COLUMNS if c not in ("side", "entry", "exit", "exit reason")],
        title=f"{len(found)} of {total} trades",
    )
    if trace:
        for i, t in enumerate(found, 1):
            _trace_lines(g.out, t, i)


@app.command()
def report(
    ctx: typer.Context,
    run_id: RunId,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")],
) -> None:
    """Write the self-contained HTML report of a run (charts, trades, metrics, provenance)."""
    g = Globals.of(ctx)
    try:
        from ktrdr_report import ReportError, write_report
        from ktrdr_report.build import report_from_api
    except ImportError as exc:
        g.out.error(
            f"the report builder is not available in this installation ({exc})",
            code="CLI-REPORT",
            hint="install libs/report (scripts/bootstrap) with its ktrdr_report.build module",
        )
        raise typer.Exit(ExitCode.UNBUILT) from None
    with g.client() as client:
        data = report_from_api(client, run_id)
    try:
        written = write_report(out, data)
    except ReportError as exc:
        g.out.error(str(exc), code="CLI-REPORT")
        raise typer.Exit(ExitCode.FAILURE) from None
    if g.out.json_mode:
        g.out.json({"run_id": run_id, "report": str(written.resolve())})
    else:
        g.out.line(f"report: {written.resolve()}")
