"""Streams through the client never end quietly: every failure raises its typed error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from ktrdr_client import AsyncKtrdrClient, KtrdrClient
from ktrdr_client.errors import (
    NotFoundError,
    ServerError,
    StreamInterruptedError,
    UnavailableError,
    ValidationError,
)

BARS = {"bars": {"timestampsUs": ["1"], "open": [1.0]}}


def _status(grpc_code: int, code: str, message: str, field: str = "") -> dict:
    return {
        "code": grpc_code,
        "message": f"[{code}] {message}",
        "details": [
            {
                "@type": "type.googleapis.com/ktrdr.common.v1.ErrorDetail",
                "code": code,
                "message": "",
                "field": field,
                "suggestions": [],
                "metadata": {"dependency": "data"},
            }
        ],
    }


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in pieces, optionally cut off (the connection drops) at the end."""

    def __init__(self, chunks: list[bytes], *, cut: bool = False) -> None:
        self.chunks = chunks
        self.cut = cut

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.cut:
            raise httpx.RemoteProtocolError("peer closed connection: incomplete chunked read")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


def _client(response: httpx.Response) -> KtrdrClient:
    return KtrdrClient("http://edge", "k", transport=httpx.MockTransport(lambda _: response))


def _lines(*items: dict) -> bytes:
    return b"".join(json.dumps(i).encode() + b"\n" for i in items)


def test_complete_stream_yields_every_batch():
    body = _lines(BARS, BARS)
    with _client(httpx.Response(200, stream=_Chunks([body]))) as client:
        assert len(list(client.stream_bars("EURUSD", "1h"))) == 2


def test_error_before_the_first_message_raises_the_http_error_without_the_code_prefix():
    body = _status(5, "DATA-002", "No stored data for 'NOPE'.", "symbol")
    client = _client(httpx.Response(404, json=body))
    with client, pytest.raises(NotFoundError) as info:
        list(client.stream_bars("NOPE", "1h"))
    assert (info.value.code, info.value.field) == ("DATA-002", "symbol")
    assert info.value.message == "No stored data for 'NOPE'."


def test_error_line_after_messages_raises_its_class_with_code_field_and_metadata():
    body = _lines(BARS, {"error": _status(14, "RUNTIME-002", "The data service is unavailable.")})
    got = []
    client = _client(httpx.Response(200, stream=_Chunks([body])))
    with client, pytest.raises(UnavailableError) as info:
        for batch in client.stream_bars("EURUSD", "1h"):
            got.append(batch)
    assert len(got) == 1
    assert info.value.code == "RUNTIME-002"
    assert info.value.metadata["dependency"] == "data"
    assert not isinstance(info.value, StreamInterruptedError)


def test_corrupt_file_mid_stream_is_a_server_error_not_an_empty_batch():
    body = _lines({"error": _status(15, "DATA-004", "The stored file is corrupt.", "symbol")})
    client = _client(httpx.Response(200, stream=_Chunks([body])))
    with client, pytest.raises(ServerError) as info:
        list(client.stream_bars("EURUSD", "1h"))
    assert info.value.code == "DATA-004" and info.value.status == 500


def test_a_bare_status_object_in_a_200_stream_raises_instead_of_yielding_an_empty_batch():
    body = _lines(_status(3, "COMMON-002", "Unknown timeframe '7h'.", "timeframe"))
    client = _client(httpx.Response(200, stream=_Chunks([body])))
    with client, pytest.raises(ValidationError) as info:
        list(client.stream_bars("EURUSD", "7h"))
    assert info.value.field == "timeframe"


@pytest.mark.parametrize(
    "chunks",
    [
        [_lines(BARS), b'{"bars": {"timesta'],  # the body ends inside a line
        [_lines(BARS, BARS)],  # the connection drops between lines
    ],
)
def test_a_body_cut_off_raises_stream_interrupted_with_what_arrived(chunks):
    cut = len(chunks) == 1
    client = _client(httpx.Response(200, stream=_Chunks(chunks, cut=cut)))
    with client, pytest.raises(StreamInterruptedError) as info:
        list(client.stream_bars("EURUSD", "1h"))
    assert info.value.code == "CLIENT-002"
    assert info.value.received == (2 if cut else 1)
    assert "/api/v1/data/stream" in info.value.message


async def test_async_client_raises_the_same_errors():
    body = _lines(BARS, {"error": _status(15, "DATA-004", "The stored file is corrupt.")})
    transport = httpx.MockTransport(lambda _: httpx.Response(200, stream=_Chunks([body])))
    async with AsyncKtrdrClient("http://edge", "k", transport=transport) as client:
        with pytest.raises(ServerError) as info:
            async for _ in client.stream_bars("EURUSD", "1h"):
                pass
    assert info.value.code == "DATA-004"
    transport = httpx.MockTransport(lambda _: httpx.Response(200, stream=_Chunks([], cut=True)))
    async with AsyncKtrdrClient("http://edge", "k", transport=transport) as client:
        with pytest.raises(StreamInterruptedError):
            async for _ in client.stream_bars("EURUSD", "1h"):
                pass
