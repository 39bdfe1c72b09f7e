"""The only module that knows both the protobuf messages and the domain types."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from ktrdr.common.v1 import common_pb2
from ktrdr.ib_gateway.v1 import ib_gateway_pb2 as pb
from ktrdr_core.errors import ValidationError
from ktrdr_ib_gateway.domain import ContractRequest, GatewayStatus, HealthReport
from ktrdr_ib_gateway.domain.bars import BarBatch
from ktrdr_ib_gateway.domain.connection import (
    BreakerState,
    ConnectionState,
    FarmState,
    IbErrorInfo,
)
from ktrdr_ib_gateway.domain.contracts import QualifiedContract, SecType
from ktrdr_runtime.bars import arrays_to_columns, timestamp_us

_SEC_TYPES = {
    common_pb2.INSTRUMENT_TYPE_UNSPECIFIED: None,
    common_pb2.INSTRUMENT_TYPE_FX: SecType.CASH,
    common_pb2.INSTRUMENT_TYPE_STOCK: SecType.STK,
    common_pb2.INSTRUMENT_TYPE_FUTURE: SecType.FUT,
    common_pb2.INSTRUMENT_TYPE_INDEX: SecType.IND,
}
_INSTRUMENT_TYPES = {v: k for k, v in _SEC_TYPES.items() if v is not None}
_CALENDARS = {SecType.CASH: "fx_24_5", SecType.FUT: "cme_globex"}
_CONNECTION = {
    ConnectionState.DISCONNECTED: pb.CONNECTION_STATE_DISCONNECTED,
    ConnectionState.CONNECTING: pb.CONNECTION_STATE_CONNECTING,
    ConnectionState.CONNECTED: pb.CONNECTION_STATE_CONNECTED,
}
_BREAKER = {
    BreakerState.CLOSED: pb.BREAKER_STATE_CLOSED,
    BreakerState.OPEN: pb.BREAKER_STATE_OPEN,
    BreakerState.HALF_OPEN: pb.BREAKER_STATE_HALF_OPEN,
}
_FARM = {
    FarmState.OK: pb.FARM_STATE_OK,
    FarmState.BROKEN: pb.FARM_STATE_BROKEN,
    FarmState.INACTIVE: pb.FARM_STATE_INACTIVE,
}


def contract_request(request: Any) -> ContractRequest:
    """The contract fields every IB request shares (symbol, instrument_type, exchange ...)."""
    kind = request.instrument_type
    if kind not in _SEC_TYPES:
        known = kind in common_pb2.InstrumentType.values()
        name = common_pb2.InstrumentType.Name(kind) if known else str(kind)
        raise ValidationError(
            "IB-010",
            f"'instrument_type' {name} is not served by the IB gateway; use FX, STOCK, FUTURE "
            "or INDEX.",
            field="instrument_type",
        )
    return ContractRequest(
        symbol=request.symbol,
        sec_type=_SEC_TYPES[kind],
        exchange=request.exchange,
        currency=request.currency,
        contract_month=request.contract_month,
    )


def _ts(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value.astimezone(dt.UTC).replace(tzinfo=None))
    return out


def timestamp(value: dt.datetime) -> Timestamp:
    out = _ts(value)
    assert out is not None
    return out


def bar_columns(batch: BarBatch) -> common_pb2.BarColumns:
    return arrays_to_columns(
        batch.timestamps_us, batch.open, batch.high, batch.low, batch.close, batch.volume
    )


def qualified(contract: QualifiedContract) -> pb.QualifyContractResponse:
    spec = contract.spec
    symbol = f"{spec.symbol}{spec.currency}" if spec.sec_type is SecType.CASH else spec.symbol
    return pb.QualifyContractResponse(
        instrument=common_pb2.Instrument(
            symbol=symbol,
            exchange=contract.primary_exchange or spec.exchange,
            instrument_type=_INSTRUMENT_TYPES[spec.sec_type],
            currency=spec.currency,
            time_zone=contract.time_zone,
            calendar=_CALENDARS.get(spec.sec_type, "us_equity"),
            trading_hours=contract.trading_hours,
        ),
        con_id=contract.con_id,
        sec_type=str(spec.sec_type),
        local_symbol=contract.local_symbol,
        long_name=contract.long_name,
        last_trade_date=contract.last_trade_date,
    )


def status(state: GatewayStatus) -> pb.GetStatusResponse:
    c, p = state.connection, state.pacing
    return pb.GetStatusResponse(
        connected=c.connected,
        host=c.host,
        port=c.port,
        client_id=c.client_id,
        server_version=c.server_version,
        connected_since=_ts(c.connected_since),
        trading_mode=c.trading_mode,
        pacing_requests_window=p.requests_in_window,
        state=_CONNECTION[c.state],
        breaker_state=_BREAKER[c.breaker],
        consecutive_failures=c.consecutive_failures,
        next_attempt_at=_ts(c.next_attempt_at),
        pacing=pb.PacingBudget(
            requests_in_window=p.requests_in_window,
            window_limit=p.window_limit,
            window_seconds=p.window_seconds,
            open_requests=p.open_requests,
            max_open_requests=p.max_open_requests,
            requests_total=p.requests_total,
            violations_total=p.violations_total,
            waited_seconds_total=p.waited_seconds_total,
            time_scale=p.time_scale,
        ),
        farms=[
            pb.FarmStatus(
                name=f.name,
                kind=f.kind,
                state=_FARM[f.state],
                code=f.code,
                updated_at=_ts(f.updated_at),
            )
            for f in c.farms
        ],
        last_error=_error(c.last_error),
        live_subscriptions=[
            pb.LiveSubscription(
                symbol=s.symbol,
                timeframe=s.timeframe,
                last_bar=timestamp_us(s.last_bar_us) if s.last_bar_us is not None else None,
                stalled=s.stalled,
                resubscriptions=s.resubscriptions,
            )
            for s in state.live
        ],
        reconnects=c.reconnects,
        ib_servers_reachable=c.ib_servers_reachable,
    )


def _error(error: IbErrorInfo | None) -> pb.IbError | None:
    if error is None:
        return None
    return pb.IbError(code=error.code, message=error.message, at=_ts(error.at))


def health(report: HealthReport) -> pb.GetHealthResponse:
    return pb.GetHealthResponse(
        healthy=report.healthy,
        message=report.message,
        round_trip_ms=report.round_trip_ms,
        breaker_state=_BREAKER[report.breaker],
    )
