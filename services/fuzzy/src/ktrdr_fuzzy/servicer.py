"""gRPC servicer of the fuzzy service."""

from __future__ import annotations

from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr_runtime.servicers import fill_unimplemented

DESCRIPTOR = fuzzy_pb2.DESCRIPTOR.services_by_name["FuzzyService"]


@fill_unimplemented(DESCRIPTOR, "fuzzy sets and inference are built in the fuzzy-service issue")
class FuzzyServiceServicer(fuzzy_pb2_grpc.FuzzyServiceServicer):
    """Every RPC of this service is still to be built (see the reason in each error)."""
