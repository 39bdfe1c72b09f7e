"""Client-side load balancing: one name, several servers, calls on all of them.

In Kubernetes a headless Service name resolves to one address per ready pod. Here two real
servers (the runtime's bootstrap) listen on 127.0.0.1 and 127.0.0.2 with the same port, and a
small DNS server answers the name with their addresses: the only fake is at the wire, where
cluster DNS cannot exist. The channel asks that DNS server through the target's authority
(``dns://127.0.0.1:<port>/name:port``), as a pod asks cluster DNS with ``dns:///name:port``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import struct
import time
import typing
from collections import Counter
from collections.abc import AsyncIterator
from typing import ClassVar

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from grpc import aio

from ktrdr_runtime.channels import open_channel
from ktrdr_runtime.server import RunningServer, ServiceSpec, StartupError, create_server
from ktrdr_runtime.settings import ServiceSettings

NAME = "pods.ktrdr.test"
WHO = "/ktrdr.test.Who/Name"


class FakeDns(asyncio.DatagramProtocol):
    """Answers A queries for ``NAME`` with ``addresses`` (TTL 1 s); anything else is empty."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query_id = struct.unpack(">H", data[:2])[0]
        end, labels = 12, []
        while data[end]:
            labels.append(data[end + 1 : end + 1 + data[end]].decode())
            end += 1 + data[end]
        qtype = struct.unpack(">H", data[end + 1 : end + 3])[0]
        question = data[12 : end + 5]
        found = self.addresses if qtype == 1 and ".".join(labels) == NAME else []
        answers = b"".join(
            struct.pack(">HHHIH", 0xC00C, 1, 1, 1, 4) + socket.inet_aton(a) for a in found
        )
        header = struct.pack(">HHHHHH", query_id, 0x8180, 1, len(found), 0, 0)
        assert self.transport is not None
        self.transport.sendto(header + question + answers, addr)


@dataclasses.dataclass(frozen=True, kw_only=True)
class WhoSettings(ServiceSettings):
    SERVICE: ClassVar[str] = "who"


def who_spec(address: str) -> ServiceSpec[WhoSettings]:
    """A service answering its own address, on the runtime's bootstrap."""

    async def setup(server: aio.Server, settings: WhoSettings) -> None:
        async def name(request: StringValue, context: aio.ServicerContext) -> StringValue:
            return StringValue(value=address)

        async def slow_name(request: StringValue, context: aio.ServicerContext) -> StringValue:
            await asyncio.sleep(float(request.value))
            return StringValue(value=address)

        handlers = {
            rpc: grpc.unary_unary_rpc_method_handler(
                method,
                request_deserializer=StringValue.FromString,
                response_serializer=StringValue.SerializeToString,
            )
            for rpc, method in (("Name", name), ("SlowName", slow_name))
        }
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("ktrdr.test.Who", handlers),)
        )

    return ServiceSpec("who", WhoSettings, [], setup)


async def two_pods(age_seconds: float) -> list[RunningServer]:
    """Servers on 127.0.0.1:P and 127.0.0.2:P (P free on the first, tried again if taken)."""
    settings = WhoSettings.from_env({"KTRDR_MAX_CONNECTION_AGE_SECONDS": str(age_seconds)})
    for _ in range(5):
        first = await create_server(who_spec("127.0.0.1"), settings, address="127.0.0.1:0")
        try:
            second = await create_server(
                who_spec("127.0.0.2"), settings, address=f"127.0.0.2:{first.port}"
            )
        except StartupError:
            await first.stop()
            continue
        return [first, second]
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


@contextlib.asynccontextmanager
async def mesh(
    addresses: list[str], *, age_seconds: float = 300
) -> AsyncIterator[tuple[str, FakeDns]]:
    """The target naming both servers, and the DNS server (its answers can change)."""
    dns = FakeDns(addresses)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: dns, local_addr=("127.0.0.1", 0))
    servers = await two_pods(age_seconds)
    dns_port = transport.get_extra_info("sockname")[1]
    try:
        yield f"dns://127.0.0.1:{dns_port}/{NAME}:{servers[0].port}", dns
    finally:
        for server in servers:
            await server.stop()
        transport.close()


def stub(channel: aio.Channel, method: str) -> aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(
        method,
        request_serializer=StringValue.SerializeToString,
        response_deserializer=StringValue.FromString,
    )


async def answers(channel: aio.Channel, calls: int) -> Counter[str]:
    who = stub(channel, WHO)
    return Counter([(await who(StringValue(), timeout=10)).value for _ in range(calls)])


async def test_calls_through_the_channel_factory_spread_over_every_pod_behind_one_name():
    async with mesh(["127.0.0.1", "127.0.0.2"]) as (target, _dns):
        async with open_channel(target) as channel:
            spread = await answers(channel, 40)
        # gRPC's default policy (pick_first) pins every call to one pod: the problem solved.
        async with aio.insecure_channel(target) as plain:
            pinned = await answers(plain, 40)
    assert set(spread) == {"127.0.0.1", "127.0.0.2"}
    assert min(spread.values()) >= 10
    assert len(pinned) == 1


@pytest.mark.slow
async def test_a_pod_added_later_gets_calls_once_connections_age_out():
    async with (
        mesh(["127.0.0.1"], age_seconds=1) as (target, dns),
        open_channel(target) as channel,
    ):
        before = await answers(channel, 10)
        dns.addresses = ["127.0.0.1", "127.0.0.2"]  # a replica is scheduled
        who, seen = stub(channel, WHO), set()
        deadline = time.monotonic() + 60  # expected within ~6 s: age 1 s, re-resolve 5 s
        while "127.0.0.2" not in seen and time.monotonic() < deadline:
            seen.add((await who(StringValue(), timeout=10)).value)
            await asyncio.sleep(0.05)
    assert set(before) == {"127.0.0.1"}
    assert "127.0.0.2" in seen, "the new pod never received a call"


async def test_a_call_outliving_the_connection_age_still_completes():
    async with (
        mesh(["127.0.0.1", "127.0.0.2"], age_seconds=1) as (target, _dns),
        open_channel(target) as channel,
    ):
        slow = stub(channel, "/ktrdr.test.Who/SlowName")
        answer = await slow(StringValue(value="2.5"), timeout=30)
    assert answer.value in {"127.0.0.1", "127.0.0.2"}
