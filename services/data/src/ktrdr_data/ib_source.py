"""The IB gateway service as the data loader's historical source (a gRPC client)."""

from __future__ import annotations

import grpc
import numpy as np
import pandas as pd

from ktrdr.ib_gateway.v1 import ib_gateway_pb2, ib_gateway_pb2_grpc
from ktrdr_core.bars import frame_from_arrays
from ktrdr_core.errors import UnavailableError
from ktrdr_runtime.bars import columns_to_arrays, concat_arrays
from ktrdr_runtime.channels import open_channel

IB_SERVICE = ib_gateway_pb2.DESCRIPTOR.services_by_name["IbGatewayService"]


class IbGatewaySource:
    """Fetches historical bars through ``IbGatewayService.StreamHistoricalBars``.

    Any failure of the gateway (down, too slow, not able to fetch yet) becomes
    ``UnavailableError`` so the loader returns the local part with the reason.
    """

    def __init__(self, address: str, *, timeout_seconds: float) -> None:
        self._address = address
        self._channel = open_channel(
            address, services=[IB_SERVICE], timeout_seconds=timeout_seconds
        )
        self._stub = ib_gateway_pb2_grpc.IbGatewayServiceStub(self._channel)

    async def fetch(
        self, symbol: str, timeframe: str, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        request = ib_gateway_pb2.StreamHistoricalBarsRequest(
            symbol=symbol,
            timeframe=timeframe,
            start_date=start.isoformat(),
            end_date=end.isoformat(),
        )
        parts: list[dict[str, np.ndarray]] = []
        try:
            async for reply in self._stub.StreamHistoricalBars(request):
                parts.append(columns_to_arrays(reply.bars))
        except grpc.aio.AioRpcError as exc:
            raise UnavailableError(
                "DATA-006",
                f"IB gateway at {self._address} could not supply {symbol} {timeframe}: "
                f"{exc.code().name}: {exc.details()}",
                details={"dependency": "ib_gateway"},
            ) from exc
        return frame_from_arrays(concat_arrays(parts))

    async def close(self) -> None:
        await self._channel.close()
