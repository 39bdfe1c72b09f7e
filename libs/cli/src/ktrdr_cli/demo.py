"""The main job on the bundled data, through the REST edge: train a neuro-fuzzy model, backtest
it out of sample, print the metrics against the baselines and write the HTML report.

Steps (each a call of the Python client through the mesh's Envoy edge):

1. mesh: start Envoy and the six services (a mesh already running in this home is used and left
   running);
2. data: the bundled EURUSD hours, loaded from the store (``POST /api/v1/data/load``);
3. strategy: ``rsi_trend_eurusd_1h`` validated in every section;
4. training: ``POST /api/v1/models/train``, its streamed epochs drawn as a progress bar (losses,
   validation accuracy);
5. backtest: ``POST /api/v1/strategies/{id}/backtest`` on the months after the training data,
   through data -> indicators -> fuzzy -> neural -> engine, with its streamed progress;
6. the metrics table against buy-and-hold and the majority-class model;
7. the HTML report (:func:`ktrdr_report.build.report_from_api`), then the mesh is stopped.

A failed step is named with the reason; :func:`run_demo` returns the exit code.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ktrdr_cli import mesh
from ktrdr_cli.exit_codes import ExitCode, for_http_status
from ktrdr_cli.output import Output
from ktrdr_client import KtrdrClient
from ktrdr_client.errors import KtrdrApiError

STRATEGY = "rsi_trend_eurusd_1h"
SYMBOL, TIMEFRAME = "EURUSD", "1h"
# The bundled EURUSD hours run 2017-04-19 .. 2018-02-07: train (with its own validation and
# test split) on 2017, backtest on what follows, which the model never saw.
TRAIN_START, TRAIN_END = "2017-04-19", "2018-01-01"
TEST_START, TEST_END = "2018-01-01", "2018-02-08"
# ~0.6 s an epoch on two cores; early stopping usually ends sooner.
EPOCHS = 30
LEARNING_RATE = 0.01
# The strategy asks for 0.6; a model trained in seconds is rarely that sure, so the demo acts
# on any class the network prefers with at least this probability (stated in the output).
CONFIDENCE = 0.4


@dataclasses.dataclass(frozen=True, slots=True)
class DemoSettings:
    """What the demo trains and tests (defaults: the bundled EURUSD hours)."""

    strategy: str = STRATEGY
    train_start: str = TRAIN_START
    train_end: str = TRAIN_END
    test_start: str = TEST_START
    test_end: str = TEST_END
    epochs: int = EPOCHS
    confidence: float = CONFIDENCE
    report: Path | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= 500:
            raise ValueError(f"epochs must be in [1, 500], got {self.epochs}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


class StepFailed(Exception):
    """A demo step failed; ``step`` names it and ``code`` is the exit code."""

    def __init__(self, step: str, reason: str, code: int = ExitCode.FAILURE) -> None:
        super().__init__(f"step '{step}' failed: {reason}")
        self.step, self.code = step, code


def run_demo(
    layout: mesh.Layout,
    *,
    out: Output,
    settings: DemoSettings | None = None,
    timeout: float = 120.0,
    key: Callable[[], str | None] | None = None,
) -> int:
    """Start the mesh (unless one runs), run the steps, stop the mesh; the exit code.

    ``key`` returns the API key (default: the mesh's local dev admin key).
    """
    settings = settings or DemoSettings()
    started = time.monotonic()
    running = bool(mesh.supervisor_pid(mesh.read_state(layout)))
    if running:
        out.line(f"Using the running KTRDR mesh (home {layout.home}); it is left running.")
    else:
        out.line(f"== 1. Starting the mesh: Envoy and six services (home {layout.home})")
        try:
            mesh.up(layout, timeout=timeout, echo=lambda text: out.note(f"   {text}"))
        except mesh.MeshError as exc:
            out.error(f"step 'mesh' failed: {exc}")
            return ExitCode.MESH
    try:
        code = _steps(layout, out, settings, key)
    finally:
        if not running:
            out.line("")
            out.line("== 8. Stopping the mesh")
            outcome = mesh.down(layout)
            bad = {k: v for k, v in outcome.items() if v != "stopped"}
            out.line(
                f"   {len(outcome) - len(bad)} processes stopped" + (f"; {bad}" if bad else "")
            )
    out.line(f"Done in {time.monotonic() - started:.0f} s.")
    return code


def _steps(
    layout: mesh.Layout,
    out: Output,
    settings: DemoSettings,
    key: Callable[[], str | None] | None,
) -> int:
    from ktrdr_cli.app import local_dev_key

    api_key = key() if key else local_dev_key(layout.home)
    try:
        with KtrdrClient(mesh.edge_url(layout), api_key, home=layout.home, timeout=120) as client:
            _data(client, out, settings)
            _validate(client, out, settings)
            model = _train(client, out, settings)
            run = _backtest(client, out, settings, model)
            _metrics_table(out, run)
            _report(client, out, settings, run, layout.home)
    except StepFailed as exc:
        out.error(str(exc))
        return exc.code
    return ExitCode.OK


@contextmanager
def _step(name: str) -> Iterator[None]:
    """Name the step an API error happened in, with the exit code its HTTP status means."""
    try:
        yield
    except KtrdrApiError as exc:
        status = getattr(exc, "status", None) or 0
        code = for_http_status(status) if status else ExitCode.UNAVAILABLE
        raise StepFailed(name, f"[{exc.code}] {exc.message}", code) from exc


def _data(client: KtrdrClient, out: Output, s: DemoSettings) -> None:
    out.line("")
    out.line(f"== 2. Data: the bundled {SYMBOL} {TIMEFRAME} bars")
    with _step("data"):
        loaded = client.load_data(SYMBOL, TIMEFRAME, start=s.train_start, end=s.test_end)
    if not loaded.bars:
        raise StepFailed("data", f"no {SYMBOL} {TIMEFRAME} bars are stored")
    first, last = loaded.bars[0].timestamp, loaded.bars[-1].timestamp
    out.line(f"   {len(loaded.bars)} bars {first:%Y-%m-%d} .. {last:%Y-%m-%d} (local store)")


def _validate(client: KtrdrClient, out: Output, s: DemoSettings) -> None:
    out.line("")
    out.line(f"== 3. Strategy: {s.strategy}")
    with _step("validate strategy"):
        checked = client.validate_strategy(s.strategy)
    if not checked.valid:
        problems = "; ".join(f"[{e.get('code')}] {e.get('message')}" for e in checked.errors)
        raise StepFailed("validate strategy", problems or "invalid", ExitCode.INVALID)
    out.line(
        f"   valid: {len(checked.features)} fuzzy features, warm-up {checked.warmup_bars} bars, "
        f"label horizon {checked.label_horizon_bars} bars"
    )


def _train(client: KtrdrClient, out: Output, s: DemoSettings) -> str:
    out.line("")
    out.line(
        f"== 4. Training the network on {s.train_start} .. {s.train_end} "
        f"(at most {s.epochs} epochs)"
    )
    body = {
        "strategy": s.strategy,
        "symbols": [SYMBOL],
        "startDate": s.train_start,
        "endDate": s.train_end,
        "config": {"epochs": s.epochs, "learning_rate": LEARNING_RATE},
    }
    final: Mapping[str, Any] = {}
    with _step("train"), _bar(out, "training", total=s.epochs) as update:
        for message in client.stream("POST", "/api/v1/models/train", json_body=body):
            final = message.get("training") or {}
            epoch = int(final.get("epoch") or 0)
            if final.get("message", "").startswith("epoch"):
                update(
                    epoch,
                    f"epoch {epoch}/{final.get('totalEpochs')} "
                    f"loss {_f(final.get('trainLoss'))} val loss {_f(final.get('valLoss'))} "
                    f"val acc {_f(final.get('valAccuracy'))}",
                )
    if final.get("state") != "TRAINING_STATE_SUCCEEDED":
        raise StepFailed("train", final.get("error") or f"training ended {final.get('state')}")
    evaluations = {e.get("name"): e for e in final.get("evaluations") or []}
    model = str(final["modelName"])
    out.line(
        f"   {model}: best epoch {final.get('bestEpoch')} of {final.get('epoch')}, "
        f"test accuracy {_f((evaluations.get('model') or {}).get('accuracy'))} "
        f"(majority class {_f((evaluations.get('majority') or {}).get('accuracy'))}, "
        f"logistic regression {_f((evaluations.get('logistic_regression') or {}).get('accuracy'))})"
    )
    return model


def _backtest(client: KtrdrClient, out: Output, s: DemoSettings, model: str) -> dict[str, Any]:
    out.line("")
    out.line(
        f"== 5. Backtest out of sample {s.test_start} .. {s.test_end} through the mesh "
        f"(acting on probabilities >= {s.confidence})"
    )
    body = {
        "startDate": s.test_start,
        "endDate": s.test_end,
        "model": model,
        "confidenceThreshold": s.confidence,
    }
    run: dict[str, Any] = {}
    with _step("backtest"), _bar(out, "backtest", total=100) as update:
        path = f"/api/v1/strategies/{s.strategy}/backtest"
        for message in client.stream("POST", path, json_body=body):
            progress = message.get("progress") or {}
            update(
                float(progress.get("percent") or 0),
                f"{progress.get('stage', '')} bars {progress.get('bars', 0)} "
                f"trades {progress.get('trades', 0)} equity {_f(progress.get('equity'), 2)}",
            )
            run = message.get("backtest") or run
    if run.get("state") != "BACKTEST_STATE_SUCCEEDED":
        raise StepFailed("backtest", run.get("error") or f"the run ended {run.get('state')}")
    out.line(f"   run {run['backtestId']}: {run.get('bars')} bars")
    return run


def _metrics_table(out: Output, run: Mapping[str, Any]) -> None:
    out.line("")
    out.line("== 6. Metrics against the baselines")
    columns = [
        ("strategy", run.get("metrics") or {}),
        ("buy & hold", run.get("buyAndHold") or {}),
        ("majority class", run.get("majorityClass") or {}),
    ]
    rows = [
        ("total return %", "totalReturnPct", 2),
        ("annualised return %", "annualizedReturnPct", 2),
        ("Sharpe", "sharpeRatio", 2),
        ("Sortino", "sortinoRatio", 2),
        ("max drawdown %", "maxDrawdownPct", 2),
        ("trades", "totalTrades", 0),
        ("win rate %", "winRatePct", 2),
        ("costs", "totalCosts", 2),
        ("final equity", "finalEquity", 2),
    ]
    names = [name for name, values in columns if values]
    out.table(
        ["metric", *names],
        [
            [label, *(_f(values.get(field), digits) for _, values in columns if values)]
            for label, field, digits in rows
        ],
        numeric=names,
    )
    net = run.get("metrics") or {}
    model_metrics = run.get("modelMetrics") or {}
    out.line(
        f"   ratios annualised with {_f(net.get('periodsPerYear'), 0)} bars a year "
        f"({net.get('periodsPerYearSource', '')}); test accuracy "
        f"{_f(model_metrics.get('test_accuracy'))} vs majority class "
        f"{_f(model_metrics.get('majority_accuracy'))}"
    )


def _report(
    client: KtrdrClient, out: Output, s: DemoSettings, run: Mapping[str, Any], home: Path
) -> None:
    from ktrdr_report import write_report
    from ktrdr_report.build import report_from_api
    from ktrdr_report.render import ReportError

    out.line("")
    out.line("== 7. HTML report")
    target = s.report or home / "reports" / f"{run['strategyId']}-{run['backtestId']}.html"
    with _step("report"):
        data = report_from_api(client, run["backtestId"])
    try:
        path = write_report(target, data)
    except (ReportError, OSError) as exc:
        raise StepFailed("report", str(exc)) from exc
    size = path.stat().st_size / 1e6
    out.line(f"   written: {path} ({size:.1f} MB, works offline)")
    out.line(f"   open it: file://{path.resolve()}")


@contextmanager
def _bar(out: Output, what: str, *, total: float) -> Iterator[Callable[[float, str], None]]:
    """A live progress bar on stderr at a terminal; elsewhere one line per update that moves
    it (each epoch, each quarter of a backtest)."""
    if out.json_mode or not out.err.is_terminal:
        shown = [-1.0]

        def line(done: float, text: str) -> None:
            step = done if what == "training" else math.floor(done / 25) * 25
            if step > shown[0]:
                shown[0] = step
                out.line(f"   {what}: {text}")

        yield line
        return
    progress = Progress(
        TextColumn("   [bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=out.err,
    )
    with progress:
        task = progress.add_task(what, total=total, detail="")

        def update(done: float, text: str) -> None:
            progress.update(task, completed=done, detail=text)

        yield update
        progress.update(task, completed=total)


def _f(value: Any, digits: int = 3) -> str:
    """A number from the API's JSON (NaN, infinities and int64 arrive as strings)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    if math.isnan(number):
        return "-"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return f"{number:,.{digits}f}"
