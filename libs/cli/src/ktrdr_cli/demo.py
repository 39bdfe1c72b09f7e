"""The main job on the bundled data: start the mesh, run the pipeline through it, stop it.

Steps (each through the real services over gRPC):

1. data: list what is stored (bundled GOOG daily and EURUSD hourly), load a range, analyse gaps;
2. indicators: RSI and MACD on the stored EURUSD range, and a 4h EMA aligned onto 1h bars;
3. the streaming pipeline, bar by bar: data ``StreamBars`` -> indicators ``StreamIndicators`` ->
   fuzzy ``StreamFuzzy`` with the fuzzy sets of ``strategies/rsi_trend_eurusd_1h.yaml``;
4. fuzzy: ``CalculateFuzzy`` for the same strategy and a rule-inference example;
5. the REST edge (Envoy): the same data through the Python client with the local dev key, and
   a request with a wrong key refused with 401;
6. neural, backtest, ib_gateway: reported as not built yet when they answer UNIMPLEMENTED.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import grpc
import numpy as np
from google.protobuf import struct_pb2

from ktrdr.backtest.v1 import backtest_pb2, backtest_pb2_grpc
from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.ib_gateway.v1 import ib_gateway_pb2, ib_gateway_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_cli import mesh
from ktrdr_runtime.bars import value_columns_to_arrays
from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.grpc_errors import sentence

Echo = Callable[[str], None]
STRATEGY = "rsi_trend_eurusd_1h"
MTF_STRATEGY = "mtf_trend_follow_1h_4h_1d"
SYMBOL, TIMEFRAME = "EURUSD", "1h"
START, END = "2017-06-01", "2018-01-01"


def _params(**values: float) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(values)
    return out


def run_demo(layout: mesh.Layout, *, echo: Echo, timeout: float = 90.0) -> int:
    """Start the mesh, run the steps, stop the mesh; 0 when every step succeeded.

    A mesh already running in this home is used as it is and left running.
    """
    if mesh.supervisor_pid(mesh.read_state(layout)):
        echo(f"Using the running KTRDR mesh (home {layout.home}); it is left running.")
        return asyncio.run(_steps(layout, echo))
    echo(f"Starting the KTRDR mesh (home {layout.home}) ...")
    try:
        mesh.up(layout, timeout=timeout, echo=echo)
    except mesh.MeshError as exc:
        echo(f"error: {exc}")
        return 1
    try:
        return asyncio.run(_steps(layout, echo))
    finally:
        echo("")
        echo("Stopping the mesh ...")
        for name, how in mesh.down(layout).items():
            echo(f"{name:<11} {how}")


async def _steps(layout: mesh.Layout, echo: Echo) -> int:
    channels = {s: open_channel(layout.address(s), timeout_seconds=120) for s in mesh.SERVICES}
    data = data_pb2_grpc.DataServiceStub(channels["data"])
    indicators = indicators_pb2_grpc.IndicatorServiceStub(channels["indicators"])
    fuzzy = fuzzy_pb2_grpc.FuzzyServiceStub(channels["fuzzy"])
    try:
        await _data_step(data, echo)
        await _indicator_step(indicators, echo)
        await _streaming_step(data, indicators, fuzzy, echo)
        await _fuzzy_step(fuzzy, echo)
        await asyncio.to_thread(_rest_step, layout, echo)
        await _unbuilt_step(channels, echo)
    except grpc.aio.AioRpcError as exc:
        echo(f"error: {exc.code().name}: {exc.details()}")
        return 1
    finally:
        for channel in channels.values():
            await channel.close()
    echo("")
    echo("Demo finished: data, indicators and fuzzy ran on real bundled market data.")
    return 0


async def _data_step(data: data_pb2_grpc.DataServiceStub, echo: Echo) -> None:
    echo("")
    echo("== 1. Data service")
    symbols = await data.ListSymbols(data_pb2.ListSymbolsRequest())
    for s in symbols.symbols:
        for series in s.series:
            echo(
                f"  stored {s.instrument.symbol:<7} {series.timeframe:<3} {series.bar_count:>5} "
                f"bars {series.first.ToJsonString()[:10]} .. {series.last.ToJsonString()[:10]} "
                f"({s.instrument.exchange}, {s.instrument.trading_hours})"
            )
    loaded = await data.LoadData(
        data_pb2.LoadDataRequest(symbol=SYMBOL, timeframe=TIMEFRAME, start_date=START, end_date=END)
    )
    echo(
        f"  LoadData {SYMBOL} {TIMEFRAME} {START}..{END}: {len(loaded.bars)} bars, "
        f"source {loaded.provenance.source_status}, complete={loaded.provenance.complete}"
    )
    gaps = await data.AnalyzeGaps(data_pb2.AnalyzeGapsRequest(symbol=SYMBOL, timeframe=TIMEFRAME))
    counts = ", ".join(
        f"{data_pb2.GapKind.Name(c.kind).removeprefix('GAP_KIND_').lower()} {c.count}"
        for c in gaps.summary.by_kind
    )
    echo(
        f"  AnalyzeGaps: {gaps.summary.gap_count} gaps ({counts}); "
        f"coverage {gaps.summary.coverage_pct:.1f}%"
    )


async def _indicator_step(indicators: indicators_pb2_grpc.IndicatorServiceStub, echo: Echo) -> None:
    echo("")
    echo("== 2. Indicator service")
    catalogue = await indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest())
    native = sum(1 for i in catalogue.indicators if i.engine != "pandas-ta-classic")
    echo(
        f"  catalogue: {len(catalogue.indicators)} indicators ({native} native, "
        f"{len(catalogue.indicators) - native} from pandas-ta-classic)"
    )
    source = indicators_pb2.DataSelection(
        symbol=SYMBOL, timeframe=TIMEFRAME, start_date=START, end_date=END
    )
    for name, params, compute_tf in (
        ("rsi", {"period": 14}, ""),
        ("macd", {}, ""),
        ("ema", {"period": 20}, "4h"),
    ):
        reply = await indicators.CalculateIndicator(
            indicators_pb2.CalculateIndicatorRequest(
                indicator=name,
                parameters=_params(**params),
                source=source,
                compute_timeframe=compute_tf,
            )
        )
        values = value_columns_to_arrays(reply.outputs, len(reply.timestamps))
        first = next(iter(values))
        last = values[first][-1]
        where = f" on {compute_tf} aligned to {TIMEFRAME}" if compute_tf else ""
        echo(
            f"  {reply.indicator_id}{where}: {len(reply.timestamps)} bars, "
            f"outputs {', '.join(values)}; last {first} = {last:.5f}"
        )


async def _streaming_step(
    data: data_pb2_grpc.DataServiceStub,
    indicators: indicators_pb2_grpc.IndicatorServiceStub,
    fuzzy: fuzzy_pb2_grpc.FuzzyServiceStub,
    echo: Echo,
) -> None:
    echo("")
    echo(f"== 3. Streaming pipeline, bar by bar: data -> indicators -> fuzzy ({STRATEGY})")
    specs = [
        indicators_pb2.IndicatorSpec(id="rsi_14", indicator="rsi", parameters=_params(period=14)),
        indicators_pb2.IndicatorSpec(id="adx_14", indicator="adx", parameters=_params(period=14)),
        indicators_pb2.IndicatorSpec(id="macd_12_26_9", indicator="macd"),
    ]
    started = time.perf_counter()

    async def bars_in() -> AsyncIterator[indicators_pb2.StreamIndicatorsRequest]:
        yield indicators_pb2.StreamIndicatorsRequest(
            config=indicators_pb2.StreamIndicatorsConfig(indicators=specs)
        )
        async for batch in data.StreamBars(
            data_pb2.StreamBarsRequest(symbol=SYMBOL, timeframe=TIMEFRAME, batch_size=250)
        ):
            yield indicators_pb2.StreamIndicatorsRequest(bars=batch.bars)

    async def values_in() -> AsyncIterator[fuzzy_pb2.StreamFuzzyRequest]:
        yield fuzzy_pb2.StreamFuzzyRequest(
            config=fuzzy_pb2.StreamFuzzyConfig(strategy=STRATEGY, timeframe=TIMEFRAME)
        )
        async for reply in indicators.StreamIndicators(bars_in()):
            yield fuzzy_pb2.StreamFuzzyRequest(
                values=fuzzy_pb2.IndicatorValues(
                    timestamps_us=reply.timestamps_us, columns=reply.columns
                )
            )

    rows = 0
    names: list[str] = []
    last: dict[str, float] = {}
    ready_rows = 0
    async for reply in fuzzy.StreamFuzzy(values_in()):
        cols = value_columns_to_arrays(reply.columns, len(reply.timestamps_us))
        names = list(cols)
        matrix = np.column_stack([cols[n] for n in names])
        rows += len(matrix)
        ready_rows += int(np.isfinite(matrix).all(axis=1).sum())
        last = {n: float(matrix[-1, j]) for j, n in enumerate(names)}
    elapsed = time.perf_counter() - started
    echo(
        f"  {rows} bars through three services in {elapsed:.2f} s "
        f"({rows / elapsed:,.0f} bars/s); {ready_rows} rows past warm-up; "
        f"{len(names)} features"
    )
    echo("  last bar: " + ", ".join(f"{n}={v:.2f}" for n, v in last.items()))


async def _fuzzy_step(fuzzy: fuzzy_pb2_grpc.FuzzyServiceStub, echo: Echo) -> None:
    echo("")
    echo("== 4. Fuzzy service")
    sets = await fuzzy.GetFuzzySets(fuzzy_pb2.GetFuzzySetsRequest(symbol=SYMBOL))
    echo(
        f"  fuzzy sets for {SYMBOL}: {len(sets.fuzzy_sets)} from strategies "
        f"{', '.join(sets.strategies)}"
    )
    reply = await fuzzy.CalculateFuzzy(
        fuzzy_pb2.CalculateFuzzyRequest(
            symbol=SYMBOL, timeframe=TIMEFRAME, strategy=STRATEGY, start_date=START, end_date=END
        )
    )
    cols = value_columns_to_arrays(reply.columns, len(reply.timestamps))
    means = ", ".join(f"{n}={np.nanmean(v):.2f}" for n, v in list(cols.items())[:3])
    echo(f"  CalculateFuzzy: {len(reply.timestamps)} bars x {len(cols)} features; mean {means}")
    mtf = await fuzzy.CalculateFuzzy(
        fuzzy_pb2.CalculateFuzzyRequest(
            symbol=SYMBOL, strategy=MTF_STRATEGY, start_date=START, end_date=END
        )
    )
    tfs = sorted({c.name.split("_", 1)[0] for c in mtf.columns}, key=len)
    echo(
        f"  CalculateFuzzy {MTF_STRATEGY}: {len(mtf.timestamps)} 1h bars x "
        f"{len(mtf.columns)} features over {', '.join(tfs)} (higher bars visible once closed)"
    )
    mf = fuzzy_pb2.MembershipFunction
    system = fuzzy_pb2.RuleSystem(
        inputs=[
            fuzzy_pb2.LinguisticVariable(
                name="rsi",
                minimum=0,
                maximum=100,
                terms=[
                    mf(name="oversold", type="triangular", parameters=[0, 25, 40], shoulder="left"),
                    mf(
                        name="overbought",
                        type="triangular",
                        parameters=[60, 75, 100],
                        shoulder="right",
                    ),
                ],
            )
        ],
        output=fuzzy_pb2.LinguisticVariable(
            name="signal",
            minimum=-1,
            maximum=1,
            terms=[
                mf(name="sell", type="triangular", parameters=[-1, -1, 0]),
                mf(name="hold", type="triangular", parameters=[-0.5, 0, 0.5]),
                mf(name="buy", type="triangular", parameters=[0, 1, 1]),
            ],
        ),
        rules=[
            "IF rsi IS oversold THEN signal IS buy",
            "IF rsi IS overbought THEN signal IS sell",
            "IF rsi IS NOT oversold AND rsi IS NOT overbought THEN signal IS hold",
        ],
        method=fuzzy_pb2.INFERENCE_METHOD_MAMDANI,
    )
    for rsi in (20.0, 50.0, 80.0):
        out = await fuzzy.Infer(fuzzy_pb2.InferRequest(system=system, inputs={"rsi": rsi}))
        echo(f"  Infer rsi={rsi:.0f}: signal={out.output:+.3f}")


def _rest_step(layout: mesh.Layout, echo: Echo) -> None:
    from ktrdr_cli.app import local_dev_key
    from ktrdr_client import KtrdrClient
    from ktrdr_client.errors import AuthenticationError

    url = mesh.edge_url(layout)
    echo("")
    echo(f"== 5. REST edge (Envoy) at {url}")
    with KtrdrClient(url, local_dev_key(layout.home), home=layout.home) as client:
        symbols = client.symbols()
        echo(f"  GET /api/v1/data/symbols (dev admin key): {', '.join(s.symbol for s in symbols)}")
        loaded = client.load_data(SYMBOL, TIMEFRAME, start="2017-06-01", end="2017-06-02")
        echo(
            f"  POST /api/v1/data/load: {len(loaded.bars)} bars, first close {loaded.bars[0].close}"
        )
    with KtrdrClient(url, api_key="not-a-real-key", retries=0) as stranger:
        try:
            stranger.symbols()
            raise RuntimeError("the edge accepted an unknown API key")
        except AuthenticationError as exc:
            echo(f"  wrong key: HTTP {exc.status} {exc.code}: {exc.message}")


async def _unbuilt_step(channels: dict[str, grpc.aio.Channel], echo: Echo) -> None:
    echo("")
    echo("== 6. Services still to be built")
    calls = {
        "neural": neural_pb2_grpc.NeuralServiceStub(channels["neural"]).ListModels(
            neural_pb2.ListModelsRequest()
        ),
        "backtest": backtest_pb2_grpc.BacktestServiceStub(channels["backtest"]).ListStrategies(
            backtest_pb2.ListStrategiesRequest()
        ),
        "ib_gateway": ib_gateway_pb2_grpc.IbGatewayServiceStub(channels["ib_gateway"]).GetStatus(
            ib_gateway_pb2.GetStatusRequest()
        ),
    }
    for name, call in calls.items():
        try:
            await call
            echo(f"  {name}: answered")
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
            echo(f"  {name}: SERVING, not built yet ({sentence(exc.details())})")
