"""The results store on SQLite and a real PostgreSQL: migrations, one-transaction writes, reads."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from bt_testutil import random_bars, run

from ktrdr_backtest.domain import (
    BacktestResult,
    Costs,
    DecisionConfig,
    EngineConfig,
    MetricsReport,
    ModelOutput,
    RateCommission,
    ShortSelling,
    compute_metrics,
    run_backtest,
)
from ktrdr_backtest.store import (
    ResultStore,
    RunInfo,
    create_engine,
    current_revision,
    head_revision,
    migrate,
)
from ktrdr_backtest.store import repository as repository_module
from ktrdr_backtest.store.database import downgrade
from ktrdr_backtest.store.schema import Base
from ktrdr_core.errors import (
    FailedPreconditionError,
    NotFoundError,
    UnavailableError,
    ValidationError,
)

INFO = RunInfo(strategy_id="sma_cross", symbol="EURUSD", timeframe="1h", settings={"fill": "x"})
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T0_US = 1_700_000_000 * 1_000_000


def _result(seed: int = 1, n: int = 600) -> tuple[BacktestResult, MetricsReport]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet([1, 1, 1], n)
    result = run_backtest(
        random_bars(n, seed),
        ModelOutput.from_probabilities(probs),
        config=EngineConfig(
            initial_cash=10_000, costs=Costs(commission=RateCommission(0.001), spread_bps=2)
        ),
        decisions=DecisionConfig(confidence_threshold=0.5, short_selling=ShortSelling.REVERSE),
    )
    return result, compute_metrics(result, periods_per_year=6_240, periods_per_year_source="FX")


def test_migrations_build_exactly_the_models_schema(database_url):
    engine = create_engine(database_url)
    assert current_revision(engine) is None
    assert migrate(engine) == head_revision()
    assert migrate(engine) == head_revision()  # idempotent
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert downgrade(engine, "base") == "base"
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_a_saved_run_reads_back_exactly(store):
    result, report = _result()
    run_id = store.save_run(INFO, result, report, created_at=T0)
    record = store.get_run(run_id)
    assert (record.state, record.strategy_id, record.created_at) == ("succeeded", "sma_cross", T0)
    assert (record.bars, record.trades) == (600, len(result.trades))
    assert record.final_equity == result.final_equity
    assert record.settings == {"fill": "x"} and record.signal_counts == dict(result.signals)
    assert record.first_bar_us == result.timestamps_us[0]
    net = record.metrics["net"]
    assert net["sharpe_ratio"].value == report.net.sharpe_ratio.value
    assert "P=6240 (FX)" in net["sharpe_ratio"].formula
    assert record.metrics["gross"]["final_equity"].value == report.gross.final_equity
    assert net["commission"].value == pytest.approx(report.commission)

    trades = store.list_trades(run_id, page_size=10_000).items
    assert trades == list(result.trades)
    assert trades[0].entry_probabilities is not None
    curve = store.equity_curve(run_id, page_size=100_000).items
    assert np.array_equal(curve.equity, result.equity)
    assert np.array_equal(curve.gross_equity, result.gross_equity)
    assert np.array_equal(curve.timestamps_us, result.timestamps_us)
    assert curve.drawdown_pct.max() == pytest.approx(report.net.max_drawdown_pct, rel=1e-9)


def test_not_a_number_metrics_survive_the_database(store):
    result = run(random_bars(20, 2), [0] * 20)
    report = compute_metrics(result, periods_per_year=252)
    run_id = store.save_run(INFO, result, report)
    assert math.isnan(store.get_run(run_id).metrics["net"]["sharpe_ratio"].value)


def test_pages_walk_trades_and_equity_without_gaps_or_repeats(store):
    result, report = _result()
    run_id = store.save_run(INFO, result, report)
    trades, token = [], ""
    while True:
        page = store.list_trades(run_id, page_size=7, page_token=token)
        trades += page.items
        token = page.next_page_token
        assert page.total_size == len(result.trades)
        if not token:
            break
    assert trades == list(result.trades)
    bars, token = [], ""
    while True:
        page = store.equity_curve(run_id, page_size=250, page_token=token)
        bars += page.items.bars.tolist()
        token = page.next_page_token
        if not token:
            break
    assert bars == list(range(600))


def test_runs_are_listed_newest_first_and_filtered_by_strategy(store):
    result, report = _result()
    ids = [
        store.save_run(
            RunInfo(strategy_id=name, symbol="EURUSD", timeframe="1h"),
            result,
            report,
            created_at=T0 + dt.timedelta(hours=i),
        )
        for i, name in enumerate(["a", "b", "a"])
    ]
    everything = store.list_runs()
    assert [r.id for r in everything.items] == ids[::-1]
    only_a = store.list_runs(strategy_id="a", page_size=1)
    assert [r.id for r in only_a.items] == [ids[2]] and only_a.total_size == 2
    rest = store.list_runs(strategy_id="a", page_size=1, page_token=only_a.next_page_token)
    assert [r.id for r in rest.items] == [ids[0]] and rest.next_page_token == ""


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"page_size": 501}, "page_size"), ({"page_token": "bm9wZQ"}, "page_token")],
)
def test_bad_paging_is_refused(store, kwargs, field):
    with pytest.raises(ValidationError) as info:
        store.list_runs(**kwargs)
    assert (info.value.code, info.value.field) == ("BACKTEST-009", field)


def test_an_unknown_run_is_not_found(store):
    with pytest.raises(NotFoundError) as info:
        store.get_run("0" * 32)
    assert info.value.code == "BACKTEST-008"


def test_a_run_that_fails_while_saving_leaves_nothing(store, monkeypatch):
    result, report = _result()

    def boom(session, run_id, result):
        session.flush()  # trades and metrics are written by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(repository_module, "_write_equity", boom)
    with pytest.raises(RuntimeError):
        store.save_run(INFO, result, report)
    run_id = store.create_run(INFO)
    with pytest.raises(RuntimeError):
        store.complete_run(run_id, result, report)
    with store.engine.connect() as connection:
        for table in ("backtest_trades", "backtest_metrics", "backtest_equity_chunks"):
            assert connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0
    assert [r.id for r in store.list_runs().items] == [run_id]
    assert store.get_run(run_id).state == "running"

    store.fail_run(run_id, "UNAVAILABLE: the neural service went away")
    failed = store.get_run(run_id)
    assert (failed.state, failed.error) == ("failed", "UNAVAILABLE: the neural service went away")
    with pytest.raises(FailedPreconditionError):
        store.complete_run(run_id, result, report)

    monkeypatch.undo()
    rerun = store.save_run(INFO, result, report)
    assert store.get_run(rerun).state == "succeeded"


def test_strategy_performance_summarises_succeeded_runs(store):
    first, second = _result(seed=1), _result(seed=2)
    store.save_run(INFO, *first, created_at=T0)
    latest = store.save_run(INFO, *second, created_at=T0 + dt.timedelta(hours=1))
    failed = store.create_run(INFO, created_at=T0 + dt.timedelta(hours=2))
    store.fail_run(failed, "boom")
    perf = store.strategy_performance("sma_cross")
    returns = [first[1].net.total_return_pct, second[1].net.total_return_pct]
    assert (perf.runs, perf.succeeded_runs, perf.failed_runs) == (3, 2, 1)
    assert perf.best_total_return_pct == pytest.approx(max(returns))
    assert perf.worst_total_return_pct == pytest.approx(min(returns))
    assert perf.mean_total_return_pct == pytest.approx(sum(returns) / 2)
    assert perf.latest is not None and perf.latest.id == latest
    assert perf.recent[0].id == failed
    empty = store.strategy_performance("nothing")
    assert empty.runs == 0 and math.isnan(empty.mean_total_return_pct)


def test_results_persist_across_restarts(database_url):
    engine = create_engine(database_url)
    migrate(engine)
    run_id = ResultStore(engine).save_run(INFO, *_result())
    engine.dispose()
    again = create_engine(database_url)
    assert migrate(again) == head_revision()
    assert ResultStore(again).get_run(run_id).state == "succeeded"
    again.dispose()


def test_a_database_from_newer_code_is_refused(database_url):
    engine = create_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(FailedPreconditionError) as info:
        migrate(engine)
    assert info.value.code == "BACKTEST-011"
    engine.dispose()


def test_an_unreachable_database_is_unavailable_without_its_password():
    engine = create_engine("postgresql://ktrdr:s3cret@127.0.0.1:1/ktrdr")
    with pytest.raises(UnavailableError) as info:
        migrate(engine)
    assert info.value.code == "BACKTEST-010"
    assert "s3cret" not in info.value.message and "127.0.0.1:1" in info.value.message


def test_the_migrate_command_upgrades_a_postgresql_database(postgres, tmp_path):
    env = {"KTRDR_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "ktrdr_backtest.migrate", "--url", postgres.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == head_revision()
    engine = create_engine(postgres.url)
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    engine.dispose()


def test_an_equity_curve_stored_by_revision_0001_survives_the_upgrade_and_back(database_url):
    """Revision 0002 packs the per-bar equity rows of 0001 into chunks (and back)."""
    engine = create_engine(database_url)
    migrate(engine, "0001")
    n = 23_456  # three chunks, the last partial
    stamps = T0_US + np.arange(n, dtype=np.int64) * 3_600_000_000
    equity = 10_000 + np.cumsum(np.random.default_rng(5).normal(0, 3, n))
    rows = [
        {
            "run_id": "r1",
            "bar": i,
            "time_us": int(stamps[i]),
            "equity": float(equity[i]),
            "gross_equity": float(equity[i] + 1),
            "drawdown_pct": 0.5,
        }
        for i in range(n)
    ]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO backtest_runs (id, strategy_id, symbol, timeframe, model, state, "
                "created_at, bars, trades, periods_per_year_source, settings, signal_counts) "
                "VALUES ('r1', 's', 'EURUSD', '1h', '', 'succeeded', :t, :n, 0, '', '{}', '{}')"
            ),
            {"t": T0, "n": n},
        )
        table = sa.table("backtest_equity", *(sa.column(c) for c in rows[0]))
        connection.execute(table.insert(), rows)
    migrate(engine)
    curve = ResultStore(engine).equity_curve("r1", page_size=100_000).items
    assert np.array_equal(curve.bars, np.arange(n)) and np.array_equal(curve.timestamps_us, stamps)
    assert np.array_equal(curve.equity, equity) and np.array_equal(curve.gross_equity, equity + 1)
    page = ResultStore(engine).equity_curve("r1", page_size=7, page_token="")
    assert page.items.bars.tolist() == list(range(7)) and page.total_size == n
    downgrade(engine, "0001")
    with engine.connect() as connection:
        back = connection.execute(
            sa.text("SELECT equity FROM backtest_equity WHERE run_id = 'r1' ORDER BY bar")
        ).scalars()
        assert np.array_equal(np.fromiter(back, float), equity)
    engine.dispose()
