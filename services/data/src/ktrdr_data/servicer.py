"""gRPC servicer of the data service."""

from __future__ import annotations

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_runtime.servicers import fill_unimplemented

DESCRIPTOR = data_pb2.DESCRIPTOR.services_by_name["DataService"]


@fill_unimplemented(DESCRIPTOR, "storage and loading are built in the data-service issue")
class DataServiceServicer(data_pb2_grpc.DataServiceServicer):
    """Every RPC of this service is still to be built (see the reason in each error)."""
