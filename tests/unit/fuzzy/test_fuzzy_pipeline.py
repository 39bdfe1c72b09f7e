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
