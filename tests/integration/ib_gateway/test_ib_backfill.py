"""Data service -> IB gateway -> fake TWS: a backfill that loses its connection midway is
stored without a hole and without a duplicate."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_data.app import SPEC as DATA
from ktrdr_runtime.testing import serve_in_process
from tests.faketws.market import intraday_bars
from tests.integration.ib_gateway.support import connected, ib_gateway, status

pytestmark = pytest.mark.integration


def _epoch(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp())


async def test_a_backfill_interrupted_by_a_disconnect_is_stored_whole(tws, tmp_path):
    tws.script.disconnect_after = 2  # TWS drops the connection on the second bar request
    async with (
        ib_gateway(tws.port) as ib,
        serve_in_process(DATA, home=tmp_path, ib_gateway_address=ib.address) as (_, channel),
    ):
        await connected(ib)
        data = data_pb2_grpc.DataServiceStub(channel)
        first_stored = (
            await data.GetDataInfo(
                data_pb2.GetDataInfoRequest(symbol="EURUSD", timeframe="1h"), timeout=10
            )
        ).series.first.ToDatetime(dt.UTC)
        loaded = await data.LoadData(
            data_pb2.LoadDataRequest(
                symbol="EURUSD",
                timeframe="1h",
                start_date="2017-01-01",
                end_date="2017-05-01",
                mode=data_pb2.LOAD_MODE_BACKFILL,
            ),
            timeout=60,
        )
        stored = await data.LoadData(
            data_pb2.LoadDataRequest(
                symbol="EURUSD", timeframe="1h", start_date="2017-01-01", end_date="2017-05-01"
            ),
            timeout=30,
        )
        state = await status(ib)
    assert loaded.provenance.complete and loaded.provenance.fetched_bars > 0
    assert [r.outcome for r in tws.historical_requests].count("disconnected") == 1
    assert state.reconnects == 1
    stamps = np.array([b.timestamp.seconds for b in stored.bars])
    assert (np.diff(stamps) > 0).all()  # sorted, no duplicate
    fetched = stamps[stamps < int(first_stored.timestamp())]
    eur = next(c for c in tws.contracts if c.local_symbol == "EUR.USD")
    expected = intraday_bars(
        eur, 3600, start=_epoch("2017-01-01"), end=int(first_stored.timestamp()), use_rth=False
    )
    assert fetched.tolist() == [int(s) for s in expected.stamps]  # no hole
