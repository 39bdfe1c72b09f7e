"""The backtest service's read RPCs over a real server and a real results database."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pytest
from bt_testutil import random_bars

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr_backtest.app import SPEC
from ktrdr_backtest.domain import (
    Costs,
    DecisionConfig,
    EngineConfig,
    ExitRule,
    ExitUnit,
    ModelOutput,
    RateCommission,
    ShortSelling,
    compute_metrics,
    run_backtest,
    settings_summary,
)
from ktrdr_backtest.settings import BacktestSettings
from ktrdr_backtest.store import ResultStore, RunInfo, create_engine
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.server import StartupError, create_server
from ktrdr_runtime.settings import SettingsError


def _saved_run(url: str):
    n = 800
    probs = np.random.default_rng(3).dirichlet([1, 1, 1], n)
    config = EngineConfig(initial_cash=50_000, costs=Costs(commission=RateCommission(0.0005)))
    decisions = DecisionConfig(
        short_selling=ShortSelling.REVERSE, stop_loss=ExitRule(unit=ExitUnit.PERCENT, value=2)
    )
    result = run_backtest(
        random_bars(n, 3),
        ModelOutput.from_probabilities(probs),
        config=config,
        decisions=decisions,
    )
    report = compute_metrics(result, periods_per_year=6_240, periods_per_year_source="FX 24/5")
    engine = create_engine(url)
    run_id = ResultStore(engine).save_run(
        RunInfo(
            strategy_id="mean_rev",
            symbol="EURUSD",
            timeframe="1h",
            settings=settings_summary(config, decisions),
        ),
        result,
        report,
    )
    engine.dispose()
    return run_id, result, report


@pytest.fixture
async def service(tmp_path):
    """The service on a free port with its SQLite database under KTRDR_HOME, and a stub."""
    settings = BacktestSettings.from_env({"KTRDR_HOME": str(tmp_path)})
    running = await create_server(SPEC, settings, address="127.0.0.1:0")
    channel = grpc.aio.insecure_channel(running.address)
    yield settings, backtest_pb2_grpc.BacktestServiceStub(channel)
    await channel.close()
    await running.stop()


async def test_a_stored_run_is_served_with_its_metrics_trades_and_equity(service):
    settings, stub = service
    run_id, result, report = _saved_run(settings.results_database_url)

    listed = await stub.ListBacktests(backtest_pb2.ListBacktestsRequest(strategy_id="mean_rev"))
    assert [b.backtest_id for b in listed.backtests] == [run_id] and listed.total_size == 1
    got = (await stub.GetBacktest(backtest_pb2.GetBacktestRequest(backtest_id=run_id))).backtest
    assert got.state == backtest_pb2.BACKTEST_STATE_SUCCEEDED
    assert (got.symbol, got.timeframe, got.bars) == ("EURUSD", "1h", 800)
    assert got.metrics.final_equity == result.final_equity
    assert got.metrics.sharpe_ratio == report.net.sharpe_ratio.value
    assert got.metrics.total_trades == len(result.trades)
    assert got.metrics.commissions_paid == pytest.approx(report.commission)
    assert got.metrics.periods_per_year == 6_240
    assert got.metrics.periods_per_year_source == "FX 24/5"
    assert "sqrt(P)" in got.metrics.formulas["sharpe_ratio"]
    assert got.gross_metrics.basis == "gross"
    assert got.gross_metrics.final_equity == report.gross.final_equity
    assert got.signal_counts["acted"] == result.signals["acted"]
    assert got.settings["fill_timing"] == "next_open"
    assert got.settings["costs.commission"] == "RateCommission(rate=0.0005)"
    assert got.settings["decisions.stop_loss.value"] == "2"
    assert got.start.ToMicroseconds() == result.timestamps_us[0]

    trades = await stub.ListTrades(backtest_pb2.ListTradesRequest(backtest_id=run_id, page_size=3))
    assert len(trades.trades) == 3 and trades.total_size == len(result.trades)
    first, expected = trades.trades[0], result.trades[0]
    assert first.entry_price == expected.entry_price and first.pnl == expected.pnl
    assert first.entry_bar == expected.entry_bar
    assert first.entry_time.ToMicroseconds() == expected.entry_time_us
    assert first.entry_probabilities.buy == expected.entry_probabilities[0]
    assert first.HasField("stop_price")
    reasons = {backtest_pb2.ExitReason.Name(t.exit_reason) for t in trades.trades}
    assert reasons <= {"EXIT_REASON_SIGNAL", "EXIT_REASON_STOP", "EXIT_REASON_END"}
    more = await stub.ListTrades(
        backtest_pb2.ListTradesRequest(backtest_id=run_id, page_token=trades.next_page_token)
    )
    assert more.trades[0].entry_bar == result.trades[3].entry_bar

    curve = await stub.GetEquityCurve(
        backtest_pb2.GetEquityCurveRequest(backtest_id=run_id, page_size=500)
    )
    assert [p.equity for p in curve.points] == result.equity[:500].tolist()
    assert curve.total_size == 800 and curve.next_page_token
    rest = await stub.GetEquityCurve(
        backtest_pb2.GetEquityCurveRequest(backtest_id=run_id, page_token=curve.next_page_token)
    )
    assert [p.bar for p in rest.points] == list(range(500, 800))

    perf = await stub.GetStrategyPerformance(
        backtest_pb2.GetStrategyPerformanceRequest(strategy_id="mean_rev")
    )
    assert (perf.runs, perf.succeeded_runs) == (1, 1)
    assert perf.mean_total_return_pct == pytest.approx(report.net.total_return_pct)
    assert perf.latest.final_equity == result.final_equity


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (
            lambda s: s.GetBacktest(backtest_pb2.GetBacktestRequest(backtest_id="f" * 32)),
            grpc.StatusCode.NOT_FOUND,
            "BACKTEST-008",
        ),
        (
            lambda s: s.ListTrades(backtest_pb2.ListTradesRequest()),
            grpc.StatusCode.INVALID_ARGUMENT,
            "BACKTEST-013",
        ),
        (
            lambda s: s.ListBacktests(backtest_pb2.ListBacktestsRequest(page_token="garbage")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "BACKTEST-009",
        ),
        (
            lambda s: s.GetEquityCurve(
                backtest_pb2.GetEquityCurveRequest(backtest_id="x", page_size=1_000_000)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "BACKTEST-009",
        ),
    ],
    ids=["unknown-run", "missing-id", "bad-token", "page-too-large"],
)
async def test_bad_reads_answer_with_a_status_and_a_stable_code(service, call, status, code):
    _, stub = service
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call(stub)
    assert info.value.code() == status
    assert error_detail_of(info.value).code == code


async def test_an_empty_strategy_has_no_performance_yet(service):
    _, stub = service
    perf = await stub.GetStrategyPerformance(
        backtest_pb2.GetStrategyPerformanceRequest(strategy_id="never_run")
    )
    assert perf.runs == 0 and math.isnan(perf.mean_total_return_pct)
    assert not perf.HasField("latest")


async def test_the_service_migrates_a_postgresql_database_at_start(postgres, tmp_path):
    settings = BacktestSettings.from_env(
        {"KTRDR_HOME": str(tmp_path), "KTRDR_DATABASE_URL": postgres.url}
    )
    running = await create_server(SPEC, settings, address="127.0.0.1:0")
    try:
        run_id, _, _ = _saved_run(postgres.url)
        async with grpc.aio.insecure_channel(running.address) as channel:
            stub = backtest_pb2_grpc.BacktestServiceStub(channel)
            got = await stub.GetBacktest(backtest_pb2.GetBacktestRequest(backtest_id=run_id))
        assert got.backtest.state == backtest_pb2.BACKTEST_STATE_SUCCEEDED
    finally:
        await running.stop()
        engine = create_engine(postgres.url)
        from ktrdr_backtest.store.database import downgrade

        downgrade(engine, "base")
        engine.dispose()


async def test_an_unreachable_database_stops_the_start_naming_it(tmp_path):
    settings = BacktestSettings.from_env(
        {"KTRDR_HOME": str(tmp_path), "KTRDR_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x"}
    )
    with pytest.raises(StartupError, match=r"127\.0\.0\.1:1") as info:
        await create_server(SPEC, settings, address="127.0.0.1:0")
    assert "pw" not in str(info.value)


def test_a_database_url_of_another_kind_is_a_settings_error():
    with pytest.raises(SettingsError, match="use sqlite or postgresql"):
        BacktestSettings.from_env({"KTRDR_DATABASE_URL": "mysql://u@h/db"})
