"""Unbuilt services answer UNIMPLEMENTED with a message (in-process servers)."""

from __future__ import annotations

from typing import ClassVar

import grpc
import pytest
from google.protobuf import message_factory

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_runtime.grpc_errors import error_detail_of
from ktrdr_runtime.server import ServiceSpec, create_server
from ktrdr_runtime.servicers import fill_unimplemented
from ktrdr_runtime.settings import ServiceSettings

DATA = data_pb2.DESCRIPTOR.services_by_name["DataService"]


class _Settings(ServiceSettings):
    SERVICE: ClassVar[str] = "unbuilt"


# Every service is built today; this stand-in is how a service added before its behaviour
# looks: the contract's servicer with every RPC filled in by ``fill_unimplemented``.
@fill_unimplemented(DATA, "the stand-in builds nothing (see its issue)")
class _Unbuilt(data_pb2_grpc.DataServiceServicer):
    pass


async def _setup(server, settings):
    data_pb2_grpc.add_DataServiceServicer_to_server(_Unbuilt(), server)


UNBUILT: list[ServiceSpec] = [ServiceSpec("unbuilt", _Settings, [DATA], _setup)]
# RPCs of those services that are built (tested with their service).
BUILT: set[str] = set()
CASES = [
    (spec, m) for spec in UNBUILT for s in spec.services for m in s.methods if m.name not in BUILT
]


@pytest.mark.parametrize(("spec", "method"), CASES, ids=[f"{s.name}.{m.name}" for s, m in CASES])
async def test_every_rpc_answers_unimplemented_with_a_message(spec, method, tmp_path):
    settings = spec.settings_cls.from_env({}, home=tmp_path)
    running = await create_server(spec, settings, address="127.0.0.1:0")
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    path = f"/{method.containing_service.full_name}/{method.name}"
    kwargs = {
        "request_serializer": request_cls.SerializeToString,
        "response_deserializer": response_cls.FromString,
    }
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                if method.client_streaming:
                    factory = (
                        channel.stream_stream if method.server_streaming else channel.stream_unary
                    )
                    call = factory(path, **kwargs)(iter([request_cls()]), timeout=5)
                else:
                    factory = (
                        channel.unary_stream if method.server_streaming else channel.unary_unary
                    )
                    call = factory(path, **kwargs)(request_cls(), timeout=5)
                if method.server_streaming:
                    async for _ in call:
                        pass
                else:
                    await call
    finally:
        await running.stop()
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    detail = error_detail_of(info.value)
    assert detail.code == "RUNTIME-005"
    assert method.name in info.value.details() and "issue" in info.value.details()
