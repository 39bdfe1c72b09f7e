"""The fake TWS of tests/faketws on a free loopback port, for the IB gateway tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: tests.*

from tests.faketws import FakeTws
from tests.integration.ib_gateway.support import SCALE


@pytest.fixture
async def tws() -> AsyncIterator[FakeTws]:
    fake = FakeTws(time_scale=SCALE)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
