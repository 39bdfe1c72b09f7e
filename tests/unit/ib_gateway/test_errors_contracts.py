"""IB error codes become the right gRPC status with a message a user can act on; symbols
resolve to the contracts IB expects."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from ktrdr_core.errors import ValidationError
from ktrdr_ib_gateway.domain.contracts import (
    ContractSpec,
    QualifiedContract,
    SecType,
    check_what_to_show,
    front_month,
    resolve,
)
from ktrdr_ib_gateway.domain.errors import IbRequestError, timeout_error, to_domain_error
from ktrdr_runtime.grpc_errors import grpc_code

HMDS = "Historical Market Data Service error message:"
CASES = [
    (162, HMDS + "Historical data request pacing violation", "RESOURCE_EXHAUSTED", "IB-004"),
    (162, HMDS + "HMDS query returned no data: AAPL@SMART Trades", "NOT_FOUND", "IB-005"),
    (366, "No historical data query found for ticker id:5", "NOT_FOUND", "IB-005"),
    (200, "No security definition has been found for the request", "NOT_FOUND", "IB-006"),
    (1100, "Connectivity between IB and Trader Workstation has been lost.", "UNAVAILABLE",
     "IB-003"),
    (504, "Not connected", "UNAVAILABLE", "IB-003"),
    (326, "Unable to connect as the client id is already in use.", "FAILED_PRECONDITION",
     "IB-012"),
    (321, "Error validating request.-'bP' : cause - Historical data bar size setting is invalid.",
     "INVALID_ARGUMENT", "IB-013"),
    (354, "Requested market data is not subscribed.", "FAILED_PRECONDITION", "IB-013"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "text", "status", "ours"), CASES)
def test_ib_errors_map_to_grpc_statuses_quoting_ib(code, text, status, ours):
    error = to_domain_error(IbRequestError(code, text), contract="AAPL (STK on SMART, USD)",
                            what="historical bars")  # fmt: skip
    assert grpc_code(error) == getattr(grpc.StatusCode, status)
    assert error.code == ours
    assert f"IB error {code}: {text}" in error.message


def test_no_security_definition_names_the_contract():
    error = to_domain_error(
        IbRequestError(200, "No security definition has been found for the request"),
        contract="XXXX (STK on SMART, USD)",
        what="contract details",
    )
    assert "XXXX (STK on SMART, USD)" in error.message and error.field == "symbol"


def test_a_timeout_is_deadline_exceeded_never_no_data():
    error = timeout_error(contract="EUR.USD (CASH on IDEALPRO, USD)", what="1h bars", seconds=60)
    assert grpc_code(error) == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error.code == "IB-009" and "60 s" in error.message


@pytest.mark.parametrize(
    ("symbol", "kind", "expected"),
    [
        (
            "EURUSD",
            None,
            ContractSpec(symbol="EUR", sec_type=SecType.CASH, exchange="IDEALPRO", currency="USD"),
        ),
        (
            "EUR.USD",
            None,
            ContractSpec(symbol="EUR", sec_type=SecType.CASH, exchange="IDEALPRO", currency="USD"),
        ),
        (
            "USDJPY",
            SecType.CASH,
            ContractSpec(symbol="USD", sec_type=SecType.CASH, exchange="IDEALPRO", currency="JPY"),
        ),
        (
            "AAPL",
            None,
            ContractSpec(symbol="AAPL", sec_type=SecType.STK, exchange="SMART", currency="USD"),
        ),
        (
            "ES",
            None,
            ContractSpec(symbol="ES", sec_type=SecType.FUT, exchange="CME", currency="USD"),
        ),
        (
            "YM",
            SecType.FUT,
            ContractSpec(symbol="YM", sec_type=SecType.FUT, exchange="CBOT", currency="USD"),
        ),
        (
            "SPX",
            SecType.IND,
            ContractSpec(symbol="SPX", sec_type=SecType.IND, exchange="SMART", currency="USD"),
        ),
    ],
)
def test_symbols_resolve_to_ib_contract_specs(symbol, kind, expected):
    assert resolve(symbol, kind) == expected


def test_a_future_month_is_kept_and_only_futures_take_one():
    assert resolve("ES", contract_month="202612").contract_month == "202612"
    with pytest.raises(ValidationError) as info:
        resolve("AAPL", contract_month="202612")
    assert info.value.field == "contract_month"


@pytest.mark.parametrize(
    ("kwargs", "field", "hint"),
    [
        ({"symbol": "eurusd"}, "symbol", "EURUSD"),
        ({"symbol": "AAPL", "currency": "USX"}, "currency", "USD"),
        ({"symbol": "ES", "contract_month": "Dec26"}, "contract_month", None),
        ({"symbol": "ABCDEF", "sec_type": SecType.CASH}, "symbol", None),
    ],
)
def test_bad_contract_fields_are_named(kwargs, field, hint):
    symbol = kwargs.pop("symbol")
    with pytest.raises(ValidationError) as info:
        resolve(symbol, kwargs.pop("sec_type", None), **kwargs)
    assert info.value.code == "IB-010" and info.value.field == field
    if hint:
        assert hint in info.value.suggestions


def test_fx_defaults_to_midpoint_and_refuses_trades():
    assert check_what_to_show("", SecType.CASH) == "MIDPOINT"
    assert check_what_to_show("BID_ASK", SecType.CASH) == "BID_ASK"
    assert check_what_to_show("", SecType.STK) == "TRADES"
    with pytest.raises(ValidationError) as info:
        check_what_to_show("TRADES", SecType.CASH)
    assert "MIDPOINT" in info.value.suggestions
    with pytest.raises(ValidationError) as info:
        check_what_to_show("MIDPIONT", SecType.STK)
    assert info.value.suggestions == ("MIDPOINT",)


def test_front_month_is_the_first_contract_not_yet_expired():
    spec = ContractSpec(symbol="ES", sec_type=SecType.FUT, exchange="CME", currency="USD")
    months = [
        QualifiedContract(con_id=3, spec=spec, local_symbol="ESM7", last_trade_date="20270618"),
        QualifiedContract(con_id=1, spec=spec, local_symbol="ESZ6", last_trade_date="20261218"),
        QualifiedContract(con_id=2, spec=spec, local_symbol="ESH7", last_trade_date="20270319"),
    ]
    assert front_month(months, dt.date(2026, 11, 29)).local_symbol == "ESZ6"
    assert front_month(months, dt.date(2026, 12, 19)).local_symbol == "ESH7"
    assert front_month(months, dt.date(2028, 1, 1)).local_symbol == "ESM7"
