"""Render :class:`~ktrdr_report.model.ReportData` as one self-contained, offline HTML file.

Nothing is fetched when the page opens: the chart library (TradingView Lightweight Charts, from
npm, Apache-2.0 with its attribution notice) and the page's own script and style are inlined, and
the data travels as one JSON block. Static parts (tables, the training curves as SVG, the
confusion matrix) are rendered here; the interactive charts are drawn by ``report.js``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import jinja2

from ktrdr_report.model import Memberships, ReportData, Training, to_json_value

CHARTS_JS_RELATIVE = Path(
    "tools/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js"
)
# Beyond this many bars the membership heatmap shows every k-th bar (the page says so).
MAX_HEATMAP_COLUMNS = 1500


class ReportError(Exception):
    """The report cannot be made; the message says what to do."""


def find_charts_js(explicit: str | Path | None = None) -> Path:
    """The Lightweight Charts standalone bundle: ``explicit``, ``$KTRDR_CHARTS_JS``, or the
    npm install under ``tools/`` of the checkout (``scripts/bootstrap`` puts it there)."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("KTRDR_CHARTS_JS"):
        candidates.append(Path(os.environ["KTRDR_CHARTS_JS"]))
    for start in (Path.cwd(), Path(__file__).resolve()):
        candidates.extend(parent / CHARTS_JS_RELATIVE for parent in (start, *start.parents))
    for path in candidates:
        if path.is_file():
            return path
    raise ReportError(
        "The chart library is not installed: run scripts/bootstrap (it installs the npm "
        "package lightweight-charts into tools/node_modules) or set KTRDR_CHARTS_JS."
    )


def render_report(data: ReportData, *, charts_js: str | Path | None = None) -> str:
    """The report as one HTML document."""
    library = find_charts_js(charts_js).read_text(encoding="utf-8")
    memberships, stride = _thin_memberships(data.memberships)
    payload = to_json_value(dataclasses.replace(data, memberships=memberships))
    for key in ("candles", "signals", "equity"):  # long series travel column by column
        payload[key] = _columns(payload[key])
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ktrdr_report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    template = env.get_template("report.html.j2")
    return template.render(
        data=data,
        heatmap_stride=stride,
        training_svg=_training_svg(data.training) if data.training else "",
        payload_json=_script_safe(json.dumps(payload, separators=(",", ":"), allow_nan=False)),
        charts_js=_script_safe(library),
        page_js=_script_safe(_static("report.js")),
        page_css=_static("report.css"),
    )


def write_report(
    path: str | Path, data: ReportData, *, charts_js: str | Path | None = None
) -> Path:
    """Render and write atomically (a temporary file renamed over ``path``)."""
    html = render_report(data, charts_js=charts_js)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _columns(rows: list[dict[str, object]]) -> dict[str, list[object]]:
    """``[{a: 1, b: 2}, ...]`` as ``{a: [1, ...], b: [2, ...]}`` (the page rebuilds the rows)."""
    if not rows:
        return {}
    return {key: [row[key] for row in rows] for key in rows[0]}


def _static(name: str) -> str:
    return resources.files("ktrdr_report").joinpath("templates", name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """Text that cannot close the ``<script>`` element it is inlined into."""
    return text.replace("</", "<\\/")


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "-∞"
    return f"{value:,.{digits}f}"


def _thin_memberships(memberships: Memberships | None) -> tuple[Memberships | None, int]:
    if memberships is None or len(memberships.times) <= MAX_HEATMAP_COLUMNS:
        return memberships, 1
    stride = -(-len(memberships.times) // MAX_HEATMAP_COLUMNS)
    return (
        Memberships(
            features=memberships.features,
            times=list(memberships.times)[::stride],
            values=[list(row)[::stride] for row in memberships.values],
        ),
        stride,
    )


def _training_svg(training: Training, *, width: int = 640, height: int = 240) -> str:
    """Loss and validation accuracy per epoch as a small inline SVG (two y axes)."""
    epochs = list(training.epochs)
    if not epochs:
        return ""
    pad = 40
    losses = [v for v in (*training.train_loss, *training.val_loss) if v == v]
    top = max(losses) if losses else 1.0
    low = min(losses) if losses else 0.0
    span = (top - low) or 1.0

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / max(len(epochs) - 1, 1))

    def y_loss(v: float) -> float:
        return height - pad - (height - 2 * pad) * ((v - low) / span)

    def y_acc(v: float) -> float:
        return height - pad - (height - 2 * pad) * v

    def path(values: Sequence[float], scale: object) -> str:
        points = [
            f"{x(i):.1f},{scale(v):.1f}"  # type: ignore[operator]
            for i, v in enumerate(values)
            if v == v
        ]
        return " ".join(points)

    series = [
        ("train loss", path(training.train_loss, y_loss), "#2962ff"),
        ("validation loss", path(training.val_loss, y_loss), "#ff6d00"),
        ("validation accuracy", path(training.val_accuracy, y_acc), "#2e7d32"),
    ]
    parts = [
        f'<svg class="curves" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="training curves" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#999"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>',
        f'<text x="{pad}" y="{pad - 6}" class="axis">loss {low:.3g}–{top:.3g}</text>',
        f'<text x="{width - pad}" y="{pad - 6}" class="axis" text-anchor="end">accuracy 0–1</text>',
        f'<text x="{width / 2}" y="{height - 8}" class="axis" text-anchor="middle">epoch 1–'
        f"{epochs[-1]}</text>",
    ]
    for i, (name, points, colour) in enumerate(series):
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        parts.append(
            f'<text x="{pad + 170 * i}" y="14" fill="{colour}" class="legend">{name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
