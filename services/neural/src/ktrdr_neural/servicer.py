"""gRPC servicer of the neural service."""

from __future__ import annotations

from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_runtime.servicers import fill_unimplemented

DESCRIPTOR = neural_pb2.DESCRIPTOR.services_by_name["NeuralService"]


@fill_unimplemented(DESCRIPTOR, "training and inference are built in the neural-network issue")
class NeuralServiceServicer(neural_pb2_grpc.NeuralServiceServicer):
    """Every RPC of this service is still to be built (see the reason in each error)."""
