"""The results store: save a backtest run in one transaction; list, get and page through runs.

A run is created ``running``, then completed (metrics, trades, equity, the buy-and-hold
baseline's metrics, the acted decisions' traces and the final state in one transaction: a run
that fails while saving leaves no partial result) or marked ``failed`` with its error.
``save_run`` does both steps in a single transaction.

Bounds: ``page_size`` of runs in [1, 500] (default 50), trades [1, 10,000] (default 100), equity
points [1, 100,000] (default 1,000); a strategy's performance lists its 100 latest runs.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.engine import BacktestResult, ExitReason, Trade
from ktrdr_backtest.domain.metrics import MetricsReport
from ktrdr_backtest.domain.run import Decision, RunInfo
from ktrdr_backtest.store.database import unavailable_as_error
from ktrdr_backtest.store.packing import CHUNK_BARS, pack, unpack
from ktrdr_backtest.store.schema import (
    DecisionRow,
    EquityChunkRow,
    MetricRow,
    RunRow,
    TradeRow,
)
from ktrdr_core.errors import FailedPreconditionError, NotFoundError, ValidationError

T = TypeVar("T")

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
#: Basis under which the buy-and-hold baseline's metrics are stored (net of costs).
BUY_AND_HOLD = "buy_hold"
#: Basis of the majority-class model's metrics (net of costs; the column holds 8 characters).
MAJORITY = "majority"
PAGE_BOUNDS = {"runs": (50, 500), "trades": (100, 10_000), "equity": (1_000, 100_000)}
PERFORMANCE_RUNS = 100
_INSERT_CHUNK = 50_000  # rows per INSERT batch (decision traces)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MetricValue:
    value: float
    formula: str | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """A stored run; ``metrics[basis][name]`` with basis ``net``, ``gross``, ``buy_hold`` or
    ``majority``."""

    id: str
    strategy_id: str
    symbol: str
    timeframe: str
    model: str
    state: str
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    first_bar_us: int | None
    last_bar_us: int | None
    bars: int
    trades: int
    initial_equity: float | None
    final_equity: float | None
    periods_per_year: float | None
    periods_per_year_source: str
    risk_free_rate: float | None
    settings: Mapping[str, Any]
    signal_counts: Mapping[str, int]
    metrics: Mapping[str, Mapping[str, MetricValue]]
    warmup_bars: int = 0
    walk_forward_id: str = ""
    model_metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    feature_names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class EquityCurve:
    """A stretch of a run's equity curve (one value per bar, marked at the close)."""

    bars: np.ndarray
    timestamps_us: np.ndarray
    equity: np.ndarray
    gross_equity: np.ndarray
    drawdown_pct: np.ndarray

    def __len__(self) -> int:
        return len(self.bars)


@dataclasses.dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: T
    next_page_token: str
    total_size: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StrategyPerformance:
    strategy_id: str
    runs: int
    succeeded_runs: int
    failed_runs: int
    best_total_return_pct: float
    worst_total_return_pct: float
    mean_total_return_pct: float
    mean_sharpe_ratio: float
    latest: RunRecord | None
    recent: tuple[RunRecord, ...]


class ResultStore:
    """Backtest results in a SQL database (see :mod:`ktrdr_backtest.store.database`).

    Parameters
    ----------
    engine
        A SQLAlchemy engine whose schema is migrated to the newest revision.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with unavailable_as_error(self.engine), self._sessions.begin() as session:
            yield session

    # -- writes ---------------------------------------------------------------------------------

    def create_run(self, info: RunInfo, *, created_at: dt.datetime | None = None) -> str:
        """Record a run that is starting; return its id."""
        run_id = uuid.uuid4().hex
        with self._session() as session:
            session.add(_new_run(run_id, info, created_at))
        return run_id

    def complete_run(
        self,
        run_id: str,
        result: BacktestResult,
        report: MetricsReport,
        *,
        buy_and_hold: MetricsReport | None = None,
        decisions: Sequence[Decision] = (),
        warmup_bars: int | None = None,
        majority_class: MetricsReport | None = None,
    ) -> None:
        """Store a finished run's metrics, trades, equity, baselines and decision traces (and
        the warm-up bars it fed), all or nothing."""
        with self._session() as session:
            run = self._run_row(session, run_id)
            _write_result(session, run, result, report)
            if warmup_bars is not None:
                run.warmup_bars = warmup_bars
            if buy_and_hold is not None:
                session.add_all(_metric_rows(run_id, buy_and_hold, basis=BUY_AND_HOLD))
            if majority_class is not None:
                session.add_all(_metric_rows(run_id, majority_class, basis=MAJORITY))
            _write_decisions(session, run_id, decisions)

    def fail_run(self, run_id: str, error: str) -> None:
        """Mark a run failed with its error (anything it had written is gone)."""
        with self._session() as session:
            run = self._run_row(session, run_id)
            run.state, run.error = FAILED, error
            run.finished_at = dt.datetime.now(dt.UTC)

    def save_run(
        self,
        info: RunInfo,
        result: BacktestResult,
        report: MetricsReport,
        *,
        created_at: dt.datetime | None = None,
    ) -> str:
        """Create and complete a run in one transaction; return its id."""
        run_id = uuid.uuid4().hex
        with self._session() as session:
            run = _new_run(run_id, info, created_at)
            session.add(run)
            session.flush()
            _write_result(session, run, result, report)
        return run_id

    def decisions(self, run_id: str, bars: Sequence[int]) -> dict[int, Decision]:
        """The stored traces of a run's decisions at ``bars`` (those that exist)."""
        wanted = sorted({b for b in bars if b is not None})
        out: dict[int, Decision] = {}
        with self._session() as session:
            for start in range(0, len(wanted), 500):
                rows = session.scalars(
                    sa.select(DecisionRow).where(
                        DecisionRow.run_id == run_id,
                        DecisionRow.bar.in_(wanted[start : start + 500]),
                    )
                )
                for r in rows:
                    features = tuple(math.nan if v is None else float(v) for v in r.features)
                    out[r.bar] = Decision(
                        r.bar, r.time_us, r.signal, (r.p_buy, r.p_hold, r.p_sell), features
                    )
        return out

    def delete_run(self, run_id: str) -> None:
        with self._session() as session:
            session.delete(self._run_row(session, run_id))

    # -- reads ----------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord:
        """One run with its metrics; ``BACKTEST-008`` when there is none."""
        with self._session() as session:
            run = self._run_row(session, run_id)
            return _records(session, [run])[0]

    def list_runs(
        self, *, strategy_id: str = "", page_size: int = 0, page_token: str = ""
    ) -> Page[list[RunRecord]]:
        """Runs, newest first, optionally of one strategy."""
        size, offset = _page("runs", page_size, page_token)
        where = [RunRow.strategy_id == strategy_id] if strategy_id else []
        with self._session() as session:
            total = session.scalar(sa.select(sa.func.count()).select_from(RunRow).where(*where))
            rows = session.scalars(
                sa.select(RunRow)
                .where(*where)
                .order_by(RunRow.created_at.desc(), RunRow.id)
                .offset(offset)
                .limit(size)
            ).all()
            records = _records(session, rows)
        return Page(records, _next_token("runs", offset, size, total or 0), total or 0)

    def list_trades(
        self, run_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[list[Trade]]:
        """A run's trades in the order they closed."""
        size, offset = _page("trades", page_size, page_token)
        with self._session() as session:
            run = self._run_row(session, run_id)
            rows = session.scalars(
                sa.select(TradeRow)
                .where(TradeRow.run_id == run_id)
                .order_by(TradeRow.seq)
                .offset(offset)
                .limit(size)
            ).all()
            trades = [_trade(r) for r in rows]
        return Page(trades, _next_token("trades", offset, size, run.trades), run.trades)

    def equity_curve(
        self, run_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[EquityCurve]:
        """A stretch of a run's equity curve, oldest bar first."""
        size, offset = _page("equity", page_size, page_token)
        chunk = EquityChunkRow
        with self._session() as session:
            run = self._run_row(session, run_id)
            rows = session.execute(
                sa.select(chunk.first_bar, chunk.bars, chunk.data)
                .where(
                    chunk.run_id == run_id,
                    chunk.first_bar < offset + size,
                    chunk.first_bar + chunk.bars > offset,
                )
                .order_by(chunk.first_bar)
            ).all()
        curve = _curve(rows, offset, size)
        stored = run.bars if run.state == SUCCEEDED else 0
        return Page(curve, _next_token("equity", offset, size, stored), stored)

    def strategy_performance(self, strategy_id: str) -> StrategyPerformance:
        """A strategy's runs summarised (net metrics of its succeeded runs)."""
        with self._session() as session:
            counts = dict(
                session.execute(
                    sa.select(RunRow.state, sa.func.count())
                    .where(RunRow.strategy_id == strategy_id)
                    .group_by(RunRow.state)
                ).all()
            )
            stats = session.execute(_performance_query(strategy_id)).one()
            recent = session.scalars(
                sa.select(RunRow)
                .where(RunRow.strategy_id == strategy_id)
                .order_by(RunRow.created_at.desc(), RunRow.id)
                .limit(PERFORMANCE_RUNS)
            ).all()
            records = _records(session, recent)
        latest = next((r for r in records if r.state == SUCCEEDED), None)
        return StrategyPerformance(
            strategy_id=strategy_id,
            runs=sum(counts.values()),
            succeeded_runs=counts.get(SUCCEEDED, 0),
            failed_runs=counts.get(FAILED, 0),
            best_total_return_pct=_nan(stats.best),
            worst_total_return_pct=_nan(stats.worst),
            mean_total_return_pct=_nan(stats.mean),
            mean_sharpe_ratio=_nan(stats.sharpe),
            latest=latest,
            recent=tuple(records),
        )

    def _run_row(self, session: Session, run_id: str) -> RunRow:
        run = session.get(RunRow, run_id) if run_id else None
        if run is None:
            raise NotFoundError(
                codes.RUN_NOT_FOUND,
                f"No backtest '{run_id}'; ListBacktests shows the stored ones.",
                field="backtest_id",
            )
        return run


# -- writing helpers ------------------------------------------------------------------------------


def _new_run(run_id: str, info: RunInfo, created_at: dt.datetime | None) -> RunRow:
    return RunRow(
        id=run_id,
        strategy_id=info.strategy_id,
        symbol=info.symbol,
        timeframe=info.timeframe,
        model=info.model,
        state=RUNNING,
        created_at=created_at or dt.datetime.now(dt.UTC),
        bars=0,
        trades=0,
        periods_per_year_source="",
        settings=dict(info.settings),
        signal_counts={},
        warmup_bars=info.warmup_bars,
        walk_forward_id=info.walk_forward_id or None,
        model_metrics={k: _none(float(v)) for k, v in info.model_metrics.items()} or None,
        feature_names=list(info.feature_names) or None,
    )


def _write_result(
    session: Session, run: RunRow, result: BacktestResult, report: MetricsReport
) -> None:
    if run.state != RUNNING:
        raise FailedPreconditionError(
            codes.ENGINE_STATE, f"Backtest '{run.id}' is {run.state}; only a running one completes."
        )
    session.add_all(_metric_rows(run.id, report))
    if result.trades:
        session.execute(
            sa.insert(TradeRow), [_trade_row(run.id, i, t) for i, t in enumerate(result.trades)]
        )
    _write_equity(session, run.id, result)
    run.state = SUCCEEDED
    run.finished_at = dt.datetime.now(dt.UTC)
    run.first_bar_us = int(result.timestamps_us[0])
    run.last_bar_us = int(result.timestamps_us[-1])
    run.bars = result.bars
    run.trades = len(result.trades)
    run.initial_equity = result.initial_cash
    run.final_equity = result.final_equity
    run.periods_per_year = report.periods_per_year
    run.periods_per_year_source = report.periods_per_year_source
    run.risk_free_rate = report.risk_free_rate
    run.signal_counts = dict(result.signals)


def _metric_rows(run_id: str, report: MetricsReport, *, basis: str = "") -> list[MetricRow]:
    """The net and gross metrics with the costs; with ``basis``, only the net ones under it."""
    formulas = report.formulas()
    rows = []
    for metrics in (report.net,) if basis else (report.net, report.gross):
        for name, value in metrics.values().items():
            rows.append(
                MetricRow(
                    run_id=run_id,
                    basis=basis or metrics.basis,
                    name=name,
                    value=_none(value),
                    formula=formulas.get(name),
                )
            )
    for name in ("commission", "spread_cost", "slippage_cost", "total_costs"):
        value = getattr(report, name)
        rows.append(MetricRow(run_id=run_id, basis=basis or "net", name=name, value=value))
    return rows


def _write_decisions(session: Session, run_id: str, decisions: Sequence[Decision]) -> None:
    rows = [
        {
            "run_id": run_id,
            "bar": d.bar,
            "time_us": d.time_us,
            "signal": d.signal,
            "p_buy": d.probabilities[0],
            "p_hold": d.probabilities[1],
            "p_sell": d.probabilities[2],
            "features": [None if math.isnan(v) else v for v in d.features],
        }
        for d in decisions
    ]
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(sa.insert(DecisionRow), rows[start : start + _INSERT_CHUNK])


def _trade_row(run_id: str, seq: int, t: Trade) -> dict[str, Any]:
    row = t._asdict()
    entry, exit_ = row.pop("entry_probabilities"), row.pop("exit_probabilities")
    for prefix, probs in (("entry", entry), ("exit", exit_)):
        for cls, p in zip(("buy", "hold", "sell"), probs or (None, None, None), strict=True):
            row[f"{prefix}_p_{cls}"] = p
    row["exit_reason"] = t.exit_reason.value
    return {"run_id": run_id, "seq": seq, **row}


def _write_equity(session: Session, run_id: str, result: BacktestResult) -> None:
    equity = result.equity
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = np.where(peak > 0, (1 - equity / peak) * 100, 0.0)
    rows = [
        {
            "run_id": run_id,
            "first_bar": lo,
            "bars": len(equity[lo : lo + CHUNK_BARS]),
            "data": pack(
                result.timestamps_us[lo : lo + CHUNK_BARS],
                equity[lo : lo + CHUNK_BARS],
                result.gross_equity[lo : lo + CHUNK_BARS],
                drawdown[lo : lo + CHUNK_BARS],
            ),
        }
        for lo in range(0, len(equity), CHUNK_BARS)
    ]
    session.execute(sa.insert(EquityChunkRow), rows)


# -- reading helpers ------------------------------------------------------------------------------


def _curve(rows: Sequence[Any], offset: int, size: int) -> EquityCurve:
    """Bars ``[offset, offset + size)`` of the packed chunks ``rows`` (in bar order)."""
    parts: list[tuple[np.ndarray, ...]] = []
    for first, bars, data in rows:
        ts, equity, gross, drawdown = unpack(data, bars)
        index = np.arange(first, first + bars, dtype=np.int64)
        keep = (index >= offset) & (index < offset + size)
        parts.append(tuple(c[keep] for c in (index, ts, equity, gross, drawdown)))
    if not parts:
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
        return EquityCurve(empty_i, empty_i, empty_f, empty_f, empty_f)
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return EquityCurve(columns[0], columns[1], columns[2], columns[3], columns[4])


def _records(session: Session, runs: Sequence[RunRow]) -> list[RunRecord]:
    ids = [r.id for r in runs]
    metrics: dict[str, dict[str, dict[str, MetricValue]]] = {i: {} for i in ids}
    if ids:
        for m in session.scalars(sa.select(MetricRow).where(MetricRow.run_id.in_(ids))):
            metrics[m.run_id].setdefault(m.basis, {})[m.name] = MetricValue(
                value=_nan(m.value), formula=m.formula
            )
    return [
        RunRecord(
            id=r.id,
            strategy_id=r.strategy_id,
            symbol=r.symbol,
            timeframe=r.timeframe,
            model=r.model,
            state=r.state,
            error=r.error,
            created_at=r.created_at,
            finished_at=r.finished_at,
            first_bar_us=r.first_bar_us,
            last_bar_us=r.last_bar_us,
            bars=r.bars,
            trades=r.trades,
            initial_equity=r.initial_equity,
            final_equity=r.final_equity,
            periods_per_year=r.periods_per_year,
            periods_per_year_source=r.periods_per_year_source,
            risk_free_rate=r.risk_free_rate,
            settings=r.settings,
            signal_counts=r.signal_counts,
            metrics=metrics[r.id],
            warmup_bars=r.warmup_bars or 0,
            walk_forward_id=r.walk_forward_id or "",
            model_metrics={k: _nan(v) for k, v in (r.model_metrics or {}).items()},
            feature_names=tuple(r.feature_names or ()),
        )
        for r in runs
    ]


def _trade(r: TradeRow) -> Trade:
    def probs(prefix: str) -> tuple[float, float, float] | None:
        values = [getattr(r, f"{prefix}_p_{c}") for c in ("buy", "hold", "sell")]
        return None if values[0] is None else (values[0], values[1], values[2])

    return Trade(
        side=r.side,
        units=r.units,
        entry_bar=r.entry_bar,
        exit_bar=r.exit_bar,
        entry_time_us=r.entry_time_us,
        exit_time_us=r.exit_time_us,
        entry_quote=r.entry_quote,
        entry_price=r.entry_price,
        exit_quote=r.exit_quote,
        exit_price=r.exit_price,
        exit_reason=ExitReason(r.exit_reason),
        commission=r.commission,
        spread_cost=r.spread_cost,
        slippage_cost=r.slippage_cost,
        gross_pnl=r.gross_pnl,
        pnl=r.pnl,
        return_pct=r.return_pct,
        stop_price=r.stop_price,
        target_price=r.target_price,
        entry_probabilities=probs("entry"),
        exit_probabilities=probs("exit"),
        entry_signal_bar=r.entry_signal_bar,
        exit_signal_bar=r.exit_signal_bar,
    )


def _net_metric(name: str) -> tuple[Any, sa.ColumnElement[bool]]:
    alias = sa.orm.aliased(MetricRow)
    on = sa.and_(alias.run_id == RunRow.id, alias.basis == "net", alias.name == name)
    return alias, on


def _performance_query(strategy_id: str) -> sa.Select[Any]:
    ret, ret_on = _net_metric("total_return_pct")
    sharpe, sharpe_on = _net_metric("sharpe_ratio")
    return (
        sa.select(
            sa.func.max(ret.value).label("best"),
            sa.func.min(ret.value).label("worst"),
            sa.func.avg(ret.value).label("mean"),
            sa.func.avg(sharpe.value).label("sharpe"),
        )
        .select_from(RunRow)
        .join(ret, ret_on)
        .outerjoin(sharpe, sharpe_on)
        .where(RunRow.strategy_id == strategy_id, RunRow.state == SUCCEEDED)
    )


# -- paging ---------------------------------------------------------------------------------------


def _page(kind: str, page_size: int, page_token: str) -> tuple[int, int]:
    default, maximum = PAGE_BOUNDS[kind]
    if page_size < 0 or page_size > maximum:
        raise ValidationError(
            codes.BAD_PAGE,
            f"page_size must be in [1, {maximum}] (0 means {default}), got {page_size}.",
            field="page_size",
        )
    return page_size or default, _offset(kind, page_token)


def _offset(kind: str, token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode() + b"==").decode()
        prefix, value = text.split(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError):
        offset, prefix = -1, ""
    if prefix != kind or offset < 0:
        raise ValidationError(
            codes.BAD_PAGE,
            "page_token is not one this list returned; start again without it.",
            field="page_token",
        )
    return offset


def _next_token(kind: str, offset: int, size: int, total: int) -> str:
    if offset + size >= total:
        return ""
    return base64.urlsafe_b64encode(f"{kind}:{offset + size}".encode()).decode().rstrip("=")


def _none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
