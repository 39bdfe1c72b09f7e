"""CalculateFuzzy end to end through real data, indicator and fuzzy services (in-process)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skfuzzy as fuzz
import talib
from backtesting.test import EURUSD

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_data.app import SPEC as DATA
from ktrdr_fuzzy.app import SPEC as FUZZY
from ktrdr_indicators.app import SPEC as INDICATORS
from ktrdr_runtime.bars import value_columns_to_arrays
from ktrdr_runtime.testing import serve_in_process

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"


async def test_calculate_fuzzy_on_stored_eurusd_matches_talib_and_skfuzzy(tmp_path):
    async with (
        serve_in_process(DATA, home=tmp_path) as (data, _),
        serve_in_process(INDICATORS, home=tmp_path, data_address=data.address) as (ind, _),
        serve_in_process(
            FUZZY, home=tmp_path, strategies_dir=STRATEGIES, indicators_address=ind.address
        ) as (_, channel),
    ):
        reply = await fuzzy_pb2_grpc.FuzzyServiceStub(channel).CalculateFuzzy(
            fuzzy_pb2.CalculateFuzzyRequest(
                symbol="EURUSD",
                timeframe="1h",
                strategy="rsi_trend_eurusd_1h",
                start_date="2017-09-01",
                end_date="2017-10-01",
            )
        )
    mask = (EURUSD.index >= "2017-09-01") & (EURUSD.index < "2017-10-01")
    columns = value_columns_to_arrays(reply.columns, len(reply.timestamps))
    assert list(columns)[:3] == ["1h_rsi_14_oversold", "1h_rsi_14_neutral", "1h_rsi_14_overbought"]
    assert len(columns) == 9 and len(reply.timestamps) == mask.sum()
    rsi = talib.RSI(EURUSD["Close"].to_numpy(), 14)[mask]
    np.testing.assert_allclose(
        columns["1h_rsi_14_neutral"], fuzz.trimf(rsi, [30, 50, 70]), atol=1e-9
    )
    oversold = np.where(rsi <= 25, 1.0, fuzz.trimf(rsi, [0, 25, 40]))
    np.testing.assert_allclose(columns["1h_rsi_14_oversold"], oversold, atol=1e-9)
    _, _, hist = talib.MACD(EURUSD["Close"].to_numpy(), 12, 26, 9)
    np.testing.assert_allclose(
        columns["1h_macd_momentum_flat"], fuzz.gbellmf(hist[mask], 0.0003, 2, 0), atol=1e-9
    )


async def test_multi_timeframe_features_align_higher_bars_only_after_they_close(tmp_path):
    import pandas as pd

    from ktrdr_core.strategy.document import load_strategy

    strategy_file = STRATEGIES / "mtf_trend_follow_1h_4h_1d.yaml"
    async with (
        serve_in_process(DATA, home=tmp_path) as (data, _),
        serve_in_process(INDICATORS, home=tmp_path, data_address=data.address) as (ind, _),
        serve_in_process(
            FUZZY, home=tmp_path, strategies_dir=STRATEGIES, indicators_address=ind.address
        ) as (_, channel),
    ):
        stub = fuzzy_pb2_grpc.FuzzyServiceStub(channel)
        request = fuzzy_pb2.CalculateFuzzyRequest(
            symbol="EURUSD",
            strategy="mtf_trend_follow_1h_4h_1d",
            start_date="2017-10-02",
            end_date="2017-10-21",
        )
        reply = await stub.CalculateFuzzy(request)
        # the same request cut at an earlier end must agree on every bar it returns
        request.end_date = "2017-10-12T09:00"
        prefix = await stub.CalculateFuzzy(request)

    names = [c.name for c in reply.columns]
    assert names == list(load_strategy(strategy_file).feature_names())
    columns = value_columns_to_arrays(reply.columns, len(reply.timestamps))
    stamps = pd.DatetimeIndex([t.ToDatetime() for t in reply.timestamps], tz="UTC")

    # Independent reference for 4h RSI: pandas resampling, TA-Lib, visibility at bar close.
    closes = EURUSD["Close"].tz_localize("UTC")
    four_hour = closes.resample("4h").last().dropna()
    rsi_4h = pd.Series(talib.RSI(four_hour.to_numpy(), 14), index=four_hour.index)
    visible_from = rsi_4h.index + pd.Timedelta(hours=4)  # a 4h bar is known when it closes
    known = pd.Series(rsi_4h.to_numpy(), index=visible_from)
    base_close = stamps + pd.Timedelta(hours=1)
    aligned = known.reindex(known.index.union(base_close)).ffill().reindex(base_close)
    expected = fuzz.gaussmf(aligned.to_numpy(), 50, 10)
    np.testing.assert_allclose(columns["4h_rsi_14_neutral"], expected, atol=1e-9)

    # No look-ahead: values at the bars both replies share are identical.
    shorter = value_columns_to_arrays(prefix.columns, len(prefix.timestamps))
    n = len(prefix.timestamps)
    assert 0 < n < len(reply.timestamps)
    for name in names:
        np.testing.assert_allclose(shorter[name], columns[name][:n], equal_nan=True, atol=1e-12)
