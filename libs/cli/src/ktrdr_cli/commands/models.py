"""``ktrdr models train|list|show|delete``: train networks and manage the stored versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from ktrdr_cli.app import Globals
from ktrdr_cli.commands.params import key_values
from ktrdr_cli.exit_codes import ExitCode
from ktrdr_cli.output import Output, short
from ktrdr_client import KtrdrClient
from ktrdr_client.errors import KtrdrApiError
from ktrdr_client.models import Evaluation, Training

app = typer.Typer(help="Neural models: train, list, show, delete.", no_args_is_help=True)

ModelName = Annotated[
    str,
    typer.Argument(
        help="Model name, e.g. rsi_trend_eurusd_1h.EURUSD_1h_v2 (without _vN: the latest)."
    ),
]


def evaluations_table(out: Output, evaluations: list[Evaluation]) -> None:
    """The network against its baselines on the test split."""
    if evaluations:
        out.table(
            ["predictor", "test accuracy", "macro F1"],
            [[e.name, e.accuracy, e.macro_f1] for e in evaluations],
            numeric=["test accuracy", "macro F1"],
            title="test split",
        )


def confusion_table(out: Output, evaluation: Evaluation) -> None:
    """A 3x3 confusion matrix: rows the true class, columns the predicted one."""
    classes = ("BUY", "HOLD", "SELL")
    out.table(
        ["true \\ predicted", *classes],
        [[c, *row] for c, row in zip(classes, evaluation.confusion_matrix, strict=False)],
        numeric=list(classes),
        title=f"confusion matrix ({evaluation.name}, test split)",
    )


def _status(t: Training) -> str:
    if t.epoch:
        return f"loss {t.train_loss:.4f} train, {t.val_loss:.4f} val; val acc {t.val_accuracy:.3f}"
    return t.message or str(short(t.state))


def _follow(
    out: Output, updates: Any, update: Callable[..., None], started: Callable[[str], None]
) -> Training:
    """Consume the TrainModel stream (NDJSON lines with --json); the last update."""
    last: Training | None = None
    for t in updates:
        if last is None or not last.training_id:
            started(t.training_id)
        last = t
        if out.json_mode:
            out.json_line(t)
        epochs = f"epoch {t.epoch}/{t.total_epochs}" if t.total_epochs else "training"
        update(t.epoch, total=t.total_epochs or None, description=epochs, status=_status(t))
    if last is None:
        raise typer.Exit(ExitCode.FAILURE)
    return last


def _train(client: KtrdrClient, out: Output, strategy: str, **fields: Any) -> Training:
    """Stream a training with a progress bar; Ctrl-C cancels it on the server."""
    training_id = ""

    def started(tid: str) -> None:
        nonlocal training_id
        training_id = tid

    try:
        with out.status_progress("training") as update:
            return _follow(out, client.train_model(strategy, **fields), update, started)
    except KeyboardInterrupt:
        _cancel(client, out, training_id)
        raise typer.Exit(ExitCode.INTERRUPTED) from None


def _cancel(client: KtrdrClient, out: Output, training_id: str) -> None:
    """CancelTraining after Ctrl-C (the training outlives the stream), and say what happened."""
    if not training_id:
        out.note("interrupted before the training started")
        return
    try:
        cancelled = client.cancel_training(training_id)
    except KtrdrApiError as exc:  # it ended meanwhile, or the API is gone
        out.note(f"interrupted: training {training_id} not cancelled: [{exc.code}] {exc.message}")
        return
    out.note(f"interrupted: training {training_id} cancelled on the server")
    if out.json_mode:
        out.json_line(cancelled)


def training_result(out: Output, t: Training) -> None:
    """The final state of a training: summary fields and the test-split evaluations."""
    out.fields(
        [
            ("training", t.training_id),
            ("state", t.state),
            ("model", t.model_name),
            ("epochs", f"{t.epoch}/{t.total_epochs}"),
            ("best epoch", t.best_epoch),
            ("train loss", t.train_loss),
            ("val loss", t.val_loss),
            ("train accuracy", t.train_accuracy),
            ("val accuracy", t.val_accuracy),
            ("val macro F1", t.val_macro_f1),
            ("device", t.device),
            ("elapsed s", round(t.elapsed_seconds, 1)),
        ],
        title="training",
    )
    evaluations_table(out, t.evaluations)


@app.command()
def train(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Argument(help="Strategy name, e.g. rsi_trend_eurusd_1h.")],
    symbol: Annotated[
        list[str] | None,
        typer.Option(help="Symbol to train on (repeatable; default the strategy's)."),
    ] = None,
    start: Annotated[
        str, typer.Option(help="First day of the data (default the strategy's).")
    ] = "",
    end: Annotated[str, typer.Option(help="End of the data, exclusive.")] = "",
    epochs: Annotated[
        int | None, typer.Option(help="Override the strategy's epochs.", min=1)
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option(
            "--config",
            "-c",
            help="Override a training setting as KEY=VALUE, e.g. -c batch_size=128 (repeatable).",
        ),
    ] = None,
) -> None:
    """Train a strategy's network (admin) with a live progress bar; Ctrl-C cancels it.

    Prints the result and the test-split figures against the baselines (majority class,
    logistic regression). With --json: one JSON line per progress update, the last final.
    """
    g = Globals.of(ctx)
    overrides = key_values(config or [], option="--config")
    if epochs is not None:
        overrides["epochs"] = epochs
    fields: dict[str, Any] = {"symbols": list(symbol or []), "startDate": start, "endDate": end}
    if overrides:
        fields["config"] = overrides
    with g.client() as client:
        final = _train(client, g.out, strategy, **fields)
    if not g.out.json_mode:
        training_result(g.out, final)
    if final.state != "TRAINING_STATE_SUCCEEDED":
        g.out.error(
            f"training {final.training_id} ended {final.state}: {final.error}".rstrip(": "),
            hint="the neural service's log ($KTRDR_HOME/logs/neural.log) has the details",
        )
        raise typer.Exit(ExitCode.FAILURE)


@app.command("list")
def list_(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Option(help="Only this strategy's models.")] = "",
) -> None:
    """Stored model versions with their headline test figures."""
    g = Globals.of(ctx)
    with g.client() as client:
        found = client.list_models(strategy)
    if g.out.json_mode:
        g.out.json(found)
        return
    g.out.table(
        ["model", "strategy", "version", "latest", "type", "symbols", "created", "test acc"],
        [
            [
                m.name,
                m.strategy,
                m.version,
                m.latest,
                m.model_type,
                m.symbols,
                m.created_at,
                m.metrics.get("test_accuracy"),
            ]
            for m in found
        ],
        numeric=["version", "test acc"],
        title=f"{len(found)} models",
    )


@app.command()
def show(ctx: typer.Context, name: ModelName) -> None:
    """One stored model: what it was trained on, its features and test figures."""
    g = Globals.of(ctx)
    with g.client() as client:
        m = client.model(name)
    if g.out.json_mode:
        g.out.json(m)
        return
    g.out.fields(
        [
            ("model", m.name),
            ("strategy", m.strategy),
            ("version", m.version),
            ("latest", m.latest),
            ("type", m.model_type),
            ("symbols", m.symbols),
            ("timeframes", m.timeframes),
            ("created", m.created_at),
            ("device", m.device),
            ("features", len(m.features)),
            *sorted(m.metrics.items()),
        ],
        title=m.name,
    )
    evaluations_table(g.out, m.evaluations)
    for evaluation in m.evaluations[:1]:
        confusion_table(g.out, evaluation)
    g.out.line("features: " + ", ".join(m.features))


@app.command()
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name with its version (..._vN).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a stored model version (admin); asks first unless --yes."""
    g = Globals.of(ctx)
    if not yes and not typer.confirm(f"Delete model {name}?", default=False, err=True):
        g.out.note(f"kept {name}")
        raise typer.Exit(ExitCode.FAILURE)
    with g.client() as client:
        deleted = client.delete_model(name)
    if g.out.json_mode:
        g.out.json(deleted)
    else:
        g.out.line(f"deleted {deleted.get('name') or name}")
