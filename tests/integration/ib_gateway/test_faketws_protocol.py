"""The real, unmodified ib_async client against the fake TWS: the fake speaks IB's protocol."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from ib_async import IB, Forex, RequestError, Stock

from tests.faketws import PACING_TEXT, FakeContract, FakeTws

pytestmark = pytest.mark.integration


async def _connect(tws: FakeTws, **kwargs) -> IB:
    ib = IB()
    ib.RaiseRequestErrors = True
    await ib.connectAsync("127.0.0.1", tws.port, clientId=11, timeout=5, **kwargs)
    return ib


async def test_full_start_up_synchronises_without_a_single_timeout(tws):
    # raiseSyncErrors: any start-up request the fake left unanswered would raise here.
    ib = await _connect(tws, raiseSyncErrors=True)
    try:
        assert ib.client.serverVersion() == 176
        assert ib.client.getAccounts() == ["DU1234567"]
        sent = {fields[0] for fields in tws.received}
        assert {"71", "61", "5", "99", "6", "76", "7"} <= sent
    finally:
        ib.disconnect()


async def test_contract_details_and_unknown_contracts(tws):
    ib = await _connect(tws)
    try:
        [details] = await ib.reqContractDetailsAsync(Stock("AAPL", "SMART", "USD"))
        assert (details.contract.conId, details.contract.primaryExchange) == (265598, "NASDAQ")
        assert details.longName == "APPLE INC"
        with pytest.raises(RequestError) as info:
            await ib.reqContractDetailsAsync(Stock("NOPE", "SMART", "USD"))
        assert info.value.code == 200
    finally:
        ib.disconnect()


async def test_bars_arrive_stamped_like_ib_stamps_them(tws):
    ib = await _connect(tws)
    try:
        [eur] = await ib.qualifyContractsAsync(Forex("EURUSD"))
        end = dt.datetime(2024, 1, 10, tzinfo=dt.UTC)
        minutes = await ib.reqHistoricalDataAsync(eur, end, "1 D", "1 min", "MIDPOINT", False, 2)
        assert len(minutes) == 1440  # a Tuesday: FX trades the whole UTC day
        assert minutes[0].date == dt.datetime(2024, 1, 9, tzinfo=dt.UTC)
        assert minutes[0].volume == -1  # quotes have no volume, as on IB
        weeks = await ib.reqHistoricalDataAsync(eur, end, "1 Y", "1 week", "MIDPOINT", False, 2)
        assert all(type(b.date) is dt.date and b.date.weekday() == 4 for b in weeks)  # Fridays
        head = await ib.reqHeadTimeStampAsync(eur, "MIDPOINT", False, 2)
        assert head == dt.datetime(2005, 1, 3, tzinfo=dt.UTC)
    finally:
        ib.disconnect()


async def test_the_fake_enforces_ibs_limits_with_ibs_errors(tws):
    ib = await _connect(tws)
    try:
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        with pytest.raises(RequestError, match="Time length exceed max"):
            await ib.reqHistoricalDataAsync(aapl, "", "2 D", "1 min", "TRADES", False, 2)
        ends = [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in range(2, 10)]
        requests = [
            ib.reqHistoricalDataAsync(aapl, e, "1 D", "1 hour", "TRADES", False, 2) for e in ends
        ]
        answers = await asyncio.gather(*requests, return_exceptions=True)
        refused = [a for a in answers if isinstance(a, RequestError)]
        assert refused and all(a.code == 162 and a.message == PACING_TEXT for a in refused)
        assert tws.pacing.violations == len(refused)
    finally:
        ib.disconnect()


async def test_live_bars_update_and_real_time_bars_arrive():
    contracts = [FakeContract(1, "BTC", "CASH", "IDEALPRO", "USD", "always", base_price=50.0)]
    async with FakeTws(contracts, time_scale=0.002) as tws:
        ib = await _connect(tws)
        try:
            [btc] = await ib.qualifyContractsAsync(Forex("BTCUSD"))
            bars = await ib.reqHistoricalDataAsync(
                btc, "", "1 D", "1 min", "MIDPOINT", False, 2, keepUpToDate=True
            )
            first = bars[-1].date
            realtime = ib.reqRealTimeBars(btc, 5, "MIDPOINT", False)
            for _ in range(200):
                if bars[-1].date > first + dt.timedelta(minutes=1) and len(realtime) >= 3:
                    break
                await asyncio.sleep(0.02)
            assert bars[-1].date > first  # new one-minute bars kept coming
            stamps = [b.time for b in realtime]
            steps = {b - a for a, b in itertools.pairwise(stamps)}
            assert len(stamps) >= 3 and steps == {dt.timedelta(seconds=5)}
        finally:
            ib.disconnect()
