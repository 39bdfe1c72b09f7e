"""Shared fixtures: the real GOOG (daily) and EURUSD (hourly) samples as core Bars."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from backtesting.test import EURUSD, GOOG

from ktrdr_core.bars import Bars

sys.path.insert(0, str(Path(__file__).parent))

from indicator_testutil import bars_of


@pytest.fixture(scope="session", params=["GOOG", "EURUSD"])
def real_bars(request) -> Bars:
    return bars_of(GOOG if request.param == "GOOG" else EURUSD)


@pytest.fixture(scope="session")
def goog() -> Bars:
    return bars_of(GOOG)


@pytest.fixture(scope="session")
def eurusd() -> Bars:
    return bars_of(EURUSD)
