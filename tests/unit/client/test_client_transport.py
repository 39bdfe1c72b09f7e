"""The REST client turns transport failures into its 503 error kind with an actionable message."""

from __future__ import annotations

import socket

import pytest

from ktrdr_client import AsyncKtrdrClient, KtrdrClient
from ktrdr_client.errors import UnavailableError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_is_unavailable_after_bounded_retries():
    url = f"http://127.0.0.1:{_closed_port()}"
    with KtrdrClient(url, "k", retries=1) as client, pytest.raises(UnavailableError) as info:
        client.timeframes()
    assert info.value.code == "CLIENT-001"
    assert url in info.value.message and "ktrdr mesh up" in info.value.message


def test_refused_stream_is_unavailable():
    url = f"http://127.0.0.1:{_closed_port()}"
    with KtrdrClient(url, "k", retries=0) as client, pytest.raises(UnavailableError):
        list(client.stream_bars("EURUSD", "1h"))


async def test_async_client_refused_connection_is_unavailable():
    async with AsyncKtrdrClient(f"http://127.0.0.1:{_closed_port()}", "k", retries=0) as client:
        with pytest.raises(UnavailableError) as info:
            await client.timeframes()
    assert info.value.code == "CLIENT-001"
