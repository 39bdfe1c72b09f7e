"""gRPC servicer of the indicators service."""

from __future__ import annotations

from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr_runtime.servicers import fill_unimplemented

DESCRIPTOR = indicators_pb2.DESCRIPTOR.services_by_name["IndicatorService"]


@fill_unimplemented(DESCRIPTOR, "the catalogue is built in the indicator-service issue")
class IndicatorServiceServicer(indicators_pb2_grpc.IndicatorServiceServicer):
    """Every RPC of this service is still to be built (see the reason in each error)."""
