"""Shared fixtures: the real GOOG (daily) and EURUSD (hourly) samples as float64 columns."""

from __future__ import annotations

import numpy as np
import pytest
from backtesting.test import EURUSD, GOOG

FIELDS = ("open", "high", "low", "close", "volume")


def _cols(df) -> dict[str, np.ndarray]:
    return {k.lower(): df[k].to_numpy(np.float64).copy() for k in df.columns}


@pytest.fixture(scope="session", params=["GOOG", "EURUSD"])
def real_bars(request) -> dict[str, np.ndarray]:
    return _cols(GOOG if request.param == "GOOG" else EURUSD)


@pytest.fixture(scope="session")
def goog() -> dict[str, np.ndarray]:
    return _cols(GOOG)


@pytest.fixture(scope="session")
def eurusd() -> dict[str, np.ndarray]:
    return _cols(EURUSD)
