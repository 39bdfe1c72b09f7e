"""Helpers shared by the data-domain tests (put on sys.path by conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

import grpc
import numpy as np
import pandas as pd
import pytest

from ktrdr_core import bars as bars_mod


def make_bars(start: str, n: int, freq: str = "1h", seed: int = 0) -> pd.DataFrame:
    """Valid OHLCV bars on a regular grid (test helper)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = close + rng.normal(0, 0.5, n)
    high = np.maximum(open_, close) + rng.uniform(0, 1, n)
    low = np.minimum(open_, close) - rng.uniform(0, 1, n)
    vol = rng.integers(1, 1000, n)
    return bars_mod.from_columns(bars_mod.index_to_us(idx), open_, high, low, close, vol)


async def rpc_error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    """The error a unary call ends with (fails the test when it succeeds)."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


async def stream_error(call: AsyncIterator[object]) -> grpc.aio.AioRpcError:
    """The error a server stream ends with (fails the test when it completes)."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    return info.value
