"""gRPC servicer of the ib_gateway service."""

from __future__ import annotations

from ktrdr.ib_gateway.v1 import ib_gateway_pb2, ib_gateway_pb2_grpc
from ktrdr_runtime.servicers import fill_unimplemented

DESCRIPTOR = ib_gateway_pb2.DESCRIPTOR.services_by_name["IbGatewayService"]


@fill_unimplemented(DESCRIPTOR, "the IB connection is built in the IB gateway issue")
class IbGatewayServiceServicer(ib_gateway_pb2_grpc.IbGatewayServiceServicer):
    """Every RPC of this service is still to be built (see the reason in each error)."""
