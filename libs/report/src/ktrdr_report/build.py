"""Build a :class:`~ktrdr_report.model.ReportData` from the REST API's answers, and nothing else.

>>> with KtrdrClient() as client:
...     write_report("report.html", report_from_api(client, run_id))

Every number in the report comes from the API: the stored run (``GET /api/v1/backtests/{id}``:
metrics with their formulas and periods per year, the buy-and-hold and majority-class
baselines, the model's test figures), its trades with their decision traces and its equity
curve (paged), the model (``GET /api/v1/models/{name}``: training history, test evaluations and
provenance), the strategy (its indicators), the bars (``POST /api/v1/data/load``), the
indicators (``POST /api/v1/indicators/calculate``), the fuzzy memberships (``POST
/api/v1/fuzzy/calculate``) and the network's probabilities per bar (``POST
/api/v1/models/predict``). Indicators, memberships and probabilities are computed from a
warm-up before the run's first bar (the run's own warm-up, doubled for closed markets), so they
are the values the run saw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import yaml

from ktrdr_client.errors import KtrdrApiError
from ktrdr_report.model import (
    CLASSES,
    Candle,
    ClassScores,
    EquityPoint,
    Line,
    Memberships,
    Metric,
    ReportData,
    Signal,
    Trade,
    Training,
)

# Page size for trades and equity (the largest the trades route allows).
PAGE_SIZE = 10_000
# Columns of the metrics table, in order: the run net and gross of costs, then the baselines.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("metrics", "strategy (net)"),
    ("grossMetrics", "strategy (gross)"),
    ("buyAndHold", "buy & hold"),
    ("majorityClass", "majority class"),
)
# (API field, formula key, label, unit); ratios carry their periods per year.
METRIC_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("totalReturnPct", "", "Total return", "%"),
    ("annualizedReturnPct", "annualized_return_pct", "Annualised return", "%"),
    ("volatilityAnnualizedPct", "volatility_annualized_pct", "Annualised volatility", "%"),
    ("sharpeRatio", "sharpe_ratio", "Sharpe ratio", ""),
    ("sortinoRatio", "sortino_ratio", "Sortino ratio", ""),
    ("calmarRatio", "calmar_ratio", "Calmar ratio", ""),
    ("maxDrawdownPct", "max_drawdown_pct", "Maximum drawdown", "%"),
    ("maxDrawdownDurationBars", "", "Longest drawdown", "bars"),
    ("totalTrades", "", "Trades", ""),
    ("winRatePct", "", "Win rate", "%"),
    ("profitFactor", "profit_factor", "Profit factor", ""),
    ("avgTradeReturnPct", "", "Average trade return", "%"),
    ("exposurePct", "", "Exposure", "%"),
    ("totalCosts", "", "Costs paid", "money"),
    ("finalEquity", "", "Final equity", "money"),
)
ANNUALISED = frozenset(
    {
        "annualized_return_pct",
        "volatility_annualized_pct",
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
    }
)
PLAIN_FORMULAS = {
    "totalReturnPct": "(E_n / E_0 - 1) * 100",
    "maxDrawdownDurationBars": "the most bars spent below a previous equity high",
    "totalTrades": "closed round trips",
    "winRatePct": "winning trades / trades * 100",
    "avgTradeReturnPct": "mean of each trade's return",
    "exposurePct": "bars holding a position / bars * 100",
    "totalCosts": "commission + spread + slippage",
}
SIDES = {"SIDE_LONG": "LONG", "SIDE_SHORT": "SHORT"}


class ApiClient(Protocol):
    """What the builder needs of :class:`ktrdr_client.KtrdrClient` (its raw JSON calls)."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any: ...


def report_from_api(client: ApiClient, run_id: str) -> ReportData:
    """The report of the stored backtest ``run_id``, built from the API's answers only.

    Parameters
    ----------
    client
        A :class:`ktrdr_client.KtrdrClient` (read role is enough).
    run_id
        A stored, succeeded backtest (``backtestId``).

    Raises
    ------
    ktrdr_client.errors.KtrdrApiError
        What the API answered when a call failed (e.g. ``NotFoundError`` for an unknown run).
    ValueError
        The run did not succeed (a report of a failed or running run would show nothing).
    """
    run = client.request("GET", f"/api/v1/backtests/{run_id}")["backtest"]
    if run.get("state") != "BACKTEST_STATE_SUCCEEDED":
        raise ValueError(
            f"Backtest {run_id} is {run.get('state', 'unknown')}: only a succeeded run has a "
            f"report{(' (' + run['error'] + ')') if run.get('error') else ''}."
        )
    model = client.request("GET", f"/api/v1/models/{run['model']}")["model"]
    strategy = client.request("GET", f"/api/v1/strategies/{run['strategyId']}")
    span = _Span.of(client, run)
    bars = _bars(client, run, span)
    equity = list(_pages(client, f"/api/v1/backtests/{run_id}/equity", "points"))
    trades = list(_pages(client, f"/api/v1/backtests/{run_id}/trades", "trades"))
    notes: list[str] = []
    lines = _indicator_lines(client, run, strategy, span, bars, notes)
    return ReportData(
        title=f"{run['strategyId']} on {run['symbol']} {run['timeframe']}",
        subtitle=(
            f"Backtest {run_id} over {_day(run['start'])} .. {_day(run['end'])} "
            f"({run.get('bars', 0)} bars), model {run['model']}"
        ),
        candles=[
            Candle(_seconds(b["timestamp"]), b["open"], b["high"], b["low"], b["close"])
            for b in bars
        ],
        lines=lines,
        memberships=_memberships(client, run, span),
        signals=_signals(client, run, span),
        trades=[_trade(t) for t in trades],
        equity=_equity(equity, bars, run),
        metric_columns=[label for key, label in COLUMNS if run.get(key)],
        metrics=_metrics(run),
        training=_training(model),
        provenance=_provenance(run, model, bars),
        notes=notes,
    )


class _Span:
    """The run's bars as a half-open request range, and the wider one its warm-up needs."""

    def __init__(self, start: str, end: str, warm_start: str) -> None:
        self.start, self.end, self.warm_start = start, end, warm_start
        self.first = _seconds(start)

    @classmethod
    def of(cls, client: ApiClient, run: Mapping[str, Any]) -> _Span:
        seconds = {
            t["code"]: int(t["seconds"])
            for t in client.request("GET", "/api/v1/data/timeframes")["timeframes"]
        }[run["timeframe"]]
        first = _parse(run["start"])
        last = _parse(run["end"])
        # Closed hours and days: twice the bars' clock time reaches back far enough.
        warm = first - dt.timedelta(seconds=2 * seconds * int(run.get("warmupBars") or 0))
        return cls(_iso(first), _iso(last + dt.timedelta(seconds=seconds)), _iso(warm))

    def keep(self, times: Sequence[int]) -> int:
        """Index of the first time inside the run."""
        return next((i for i, t in enumerate(times) if t >= self.first), len(times))


def _bars(client: ApiClient, run: Mapping[str, Any], span: _Span) -> list[dict[str, Any]]:
    body = {
        "symbol": run["symbol"],
        "timeframe": run["timeframe"],
        "startDate": span.start,
        "endDate": span.end,
        "mode": "LOAD_MODE_LOCAL",
    }
    bars: list[dict[str, Any]] = client.request("POST", "/api/v1/data/load", json_body=body)["bars"]
    return bars


def _pages(client: ApiClient, path: str, key: str) -> Iterator[dict[str, Any]]:
    cursor = ""
    while True:
        page = client.request("GET", path, params={"pageSize": PAGE_SIZE, "pageToken": cursor})
        yield from page.get(key) or []
        cursor = page.get("nextPageToken", "")
        if not cursor:
            return


def _indicator_lines(
    client: ApiClient,
    run: Mapping[str, Any],
    strategy: Mapping[str, Any],
    span: _Span,
    bars: Sequence[Mapping[str, Any]],
    notes: list[str],
) -> list[Line]:
    """Each of the strategy's indicators on the run's timeframe, over the price when its values
    live on the price's scale, else in the pane below."""
    document = yaml.safe_load(strategy.get("yaml") or "") or {}
    closes = sorted(float(b["close"]) for b in bars)
    median_close = closes[len(closes) // 2] if closes else 0.0
    lines: list[Line] = []
    for ident, spec in (document.get("indicators") or {}).items():
        params = {k: v for k, v in dict(spec).items() if k not in ("type", "timeframe", "source")}
        body = {
            "indicator": spec["type"],
            "parameters": params,
            "source": {
                "symbol": run["symbol"],
                "timeframe": run["timeframe"],
                "startDate": span.warm_start,
                "endDate": span.end,
            },
        }
        try:
            answer = client.request("POST", "/api/v1/indicators/calculate", json_body=body)
        except KtrdrApiError as exc:  # one indicator missing is a note, not a failure
            notes.append(f"Indicator {ident} could not be drawn: {exc}")
            continue
        times = [_seconds(t) for t in answer.get("timestamps") or []]
        skip = span.keep(times)
        for column in answer.get("outputs") or []:
            values = [_number(v) for v in column.get("values") or []][skip:]
            name = column["name"]
            if not name.startswith(ident):
                name = ident if name in ("value", spec["type"]) else f"{ident}.{name}"
            lines.append(
                Line(
                    name=name,
                    times=times[skip:],
                    values=values,
                    pane="price" if _on_price_scale(values, median_close) else "oscillator",
                )
            )
    return lines


def _on_price_scale(values: Sequence[float], median_close: float) -> bool:
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite or median_close <= 0:
        return False
    return 0.5 < finite[len(finite) // 2] / median_close < 2.0


def _memberships(client: ApiClient, run: Mapping[str, Any], span: _Span) -> Memberships | None:
    body = {
        "symbol": run["symbol"],
        "timeframe": run["timeframe"],
        "strategy": run["strategyId"],
        "startDate": span.warm_start,
        "endDate": span.end,
    }
    answer = client.request("POST", "/api/v1/fuzzy/calculate", json_body=body)
    times = [_seconds(t) for t in answer.get("timestamps") or []]
    skip = span.keep(times)
    columns = answer.get("columns") or []
    if not columns:
        return None
    return Memberships(
        features=[c["name"] for c in columns],
        times=times[skip:],
        values=[[_number(v) for v in c.get("values") or []][skip:] for c in columns],
    )


def _signals(client: ApiClient, run: Mapping[str, Any], span: _Span) -> list[Signal]:
    body = {
        "model": run["model"],
        "symbol": run["symbol"],
        "timeframe": run["timeframe"],
        "startDate": span.warm_start,
        "endDate": span.end,
    }
    answer = client.request("POST", "/api/v1/models/predict", json_body=body)
    out = []
    for p in answer.get("predictions") or []:
        time = _seconds(p["timestamp"])
        if time < span.first or not p.get("ready"):
            continue
        out.append(
            Signal(
                time=time,
                signal=str(p.get("signal", "")).removeprefix("SIGNAL_"),
                confidence=_number(p.get("confidence")),
                probabilities=[_number(v) for v in p.get("probabilities") or []],
            )
        )
    return out


def _trade(t: Mapping[str, Any]) -> Trade:
    entry = t.get("entryDecision") or {}
    probs = entry.get("probabilities") or t.get("entryProbabilities") or {}
    return Trade(
        side=SIDES.get(t.get("side", ""), t.get("side", "")),
        entry_time=_seconds(t["entryTime"]),
        exit_time=_seconds(t["exitTime"]),
        entry_price=_number(t.get("entryPrice")),
        exit_price=_number(t.get("exitPrice")),
        quantity=_number(t.get("quantity")),
        pnl=_number(t.get("pnl")),
        return_pct=_number(t.get("returnPct")),
        costs=sum(_number(t.get(k)) for k in ("commission", "spreadCost", "slippageCost")),
        entry_reason=_reason(entry, "entry"),
        exit_reason=_exit_reason(t),
        probabilities=[_number(probs.get(k.lower())) for k in CLASSES] if probs else [],
        features={f["name"]: _number(f.get("value")) for f in entry.get("features") or []},
    )


def _reason(decision: Mapping[str, Any], what: str) -> str:
    if not decision:
        return what
    return f"{decision.get('signal', '')} p={_number(decision.get('confidence')):.2f}"


def _exit_reason(t: Mapping[str, Any]) -> str:
    reason = str(t.get("exitReason", "")).removeprefix("EXIT_REASON_").lower()
    decision = t.get("exitDecision") or {}
    if reason == "signal" and decision:
        return f"signal {_reason(decision, 'exit')}"
    return reason or "exit"


def _equity(
    points: Sequence[Mapping[str, Any]],
    bars: Sequence[Mapping[str, Any]],
    run: Mapping[str, Any],
) -> list[EquityPoint]:
    """The run's equity and drawdown as stored; buy-and-hold scaled from the same capital by the
    answered closes (the baseline's costs are in its metrics, not in this line)."""
    closes = {_seconds(b["timestamp"]): float(b["close"]) for b in bars}
    capital = _number((run.get("metrics") or {}).get("initialEquity"))
    first = next((closes[_seconds(p["timestamp"])] for p in points if p.get("timestamp")), 0.0)
    out = []
    for p in points:
        time = _seconds(p["timestamp"])
        close = closes.get(time)
        out.append(
            EquityPoint(
                time=time,
                equity=_number(p.get("equity")),
                benchmark=capital * close / first if close and first else math.nan,
                drawdown_pct=_number(p.get("drawdownPct")),
            )
        )
    return out


def _metrics(run: Mapping[str, Any]) -> list[Metric]:
    columns = [(key, label) for key, label in COLUMNS if run.get(key)]
    net = run.get("metrics") or {}
    formulas = net.get("formulas") or {}
    ppy = _number(net.get("periodsPerYear")) or None
    out = []
    for field, formula_key, label, unit in METRIC_ROWS:
        formula = formulas.get(formula_key, "") if formula_key else PLAIN_FORMULAS.get(field, "")
        out.append(
            Metric(
                key=field,
                label=label,
                values={name: _number(run[key].get(field)) for key, name in columns},
                unit=unit,
                formula=formula.split(" [P=")[0],
                periods_per_year=ppy if formula_key in ANNUALISED else None,
            )
        )
    model_metrics = run.get("modelMetrics") or {}
    if "test_accuracy" in model_metrics:
        values = {"strategy (net)": _number(model_metrics["test_accuracy"])}
        if "majority class" in [name for _, name in columns]:
            values["majority class"] = _number(model_metrics.get("majority_accuracy"))
        out.append(
            Metric(
                key="testAccuracy",
                label="Test-split accuracy (classification)",
                values=values,
                unit="fraction",
                formula="correct labels / labels on the model's test split (from training)",
            )
        )
    return out


def _training(model: Mapping[str, Any]) -> Training | None:
    metrics = (model.get("metadata") or {}).get("metrics") or {}
    history = metrics.get("history") or []
    evaluations = model.get("evaluations") or []
    if not history and not evaluations:
        return None
    labels = list((model.get("metadata") or {}).get("outputs") or CLASSES)
    n = len(labels)
    network = next((e for e in evaluations if e.get("name") == "model"), None)
    flat = [int(v) for v in (network or {}).get("confusionMatrix") or []]
    confusion = [flat[i * n : (i + 1) * n] for i in range(n)] if len(flat) == n * n else []
    return Training(
        epochs=[int(h["epoch"]) for h in history],
        train_loss=[_number(h.get("train_loss")) for h in history],
        val_loss=[_number(h.get("val_loss")) for h in history],
        val_accuracy=[_number(h.get("val_accuracy")) for h in history],
        confusion=confusion,
        scores=[_scores(e, labels) for e in evaluations],
        labels=labels,
    )


def _scores(evaluation: Mapping[str, Any], labels: Sequence[str]) -> ClassScores:
    per_class = {
        str(c.get("signal", "")).removeprefix("SIGNAL_"): c for c in evaluation.get("classes") or []
    }

    def column(key: str) -> list[float]:
        return [_number(per_class.get(label, {}).get(key)) for label in labels]

    return ClassScores(
        name=str(evaluation.get("name", "")).replace("_", " "),
        precision=column("precision"),
        recall=column("recall"),
        f1=column("f1"),
        accuracy=_number(evaluation.get("accuracy")),
    )


def _provenance(
    run: Mapping[str, Any], model: Mapping[str, Any], bars: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    meta = model.get("metadata") or {}
    code = meta.get("code_version") or {}
    out = {
        "backtest": run["backtestId"],
        "strategy": f"{run['strategyId']} (SHA-256 {meta.get('strategy_digest', 'unknown')})",
        "model": f"{model.get('name', run['model'])} ({model.get('modelType', '')}, "
        f"trained on {model.get('device', '?')} {str(model.get('createdAt', ''))[:19]})",
        "model weights": f"SHA-256 {(meta.get('weights') or {}).get('sha256', 'unknown')}",
    }
    for symbol, info in ((meta.get("data") or {}).get("symbols") or {}).items():
        out[f"training data {symbol}"] = (
            f"{info.get('first', '?')} .. {info.get('last', '?')}, {info.get('rows', '?')} rows "
            f"(SHA-256 {info.get('sha256', 'unknown')})"
        )
    out["backtest data"] = (
        f"{run['symbol']} {run['timeframe']} {run['start']} .. {run['end']}, {len(bars)} bars "
        f"(SHA-256 of the answered OHLCV {_bars_digest(bars)})"
    )
    out["settings"] = ", ".join(f"{k}={v}" for k, v in sorted((run.get("settings") or {}).items()))
    out["code version"] = ", ".join(f"{k} {v}" for k, v in sorted(code.items())) or "unknown"
    return out


def _bars_digest(bars: Sequence[Mapping[str, Any]]) -> str:
    fields = ("timestamp", "open", "high", "low", "close", "volume")
    canonical = json.dumps([[b.get(k) for k in fields] for b in bars], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _number(value: Any) -> float:
    """A JSON number (proto3 JSON writes NaN, infinities and int64 as strings)."""
    if value is None or value == "":
        return 0.0
    return float(value)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _seconds(text: str) -> int:
    return int(_parse(text).timestamp())


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _day(text: str) -> str:
    return text[:10]


__all__ = ["ApiClient", "report_from_api"]
