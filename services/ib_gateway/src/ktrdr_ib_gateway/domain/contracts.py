"""What to ask IB for: a symbol resolved to a contract specification, and qualified contracts.

Resolution rules (``resolve``):

* **FX** (``CASH``): a 6-letter pair of ISO currencies (``EURUSD``) or one written ``EUR.USD`` /
  ``EUR/USD``, or any symbol with ``instrument_type=FX``: symbol = base currency, currency = quote
  currency, exchange ``IDEALPRO``. IB has no TRADES for FX: ``what_to_show`` defaults to
  ``MIDPOINT`` (``BID``, ``ASK`` or ``BID_ASK`` also work).
* **Futures** (``FUT``): a known root (``ES``, ``NQ``, ``CL`` ...) or ``instrument_type=FUTURE``;
  exchange from :data:`FUTURE_EXCHANGES` unless given; ``contract_month`` ``YYYYMM`` or
  ``YYYYMMDD``; without it the front month (the earliest last trade date not before today) is
  chosen among IB's candidates.
* **Stocks** (``STK``): anything else, on ``SMART`` in ``USD`` unless given.
* **Indices** (``IND``) only when asked for explicitly.

Bounds: a symbol is 1-32 characters ``A-Z 0-9 . - _ /`` starting with a letter or digit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Sequence

from ktrdr_core.errors import ValidationError, suggest
from ktrdr_ib_gateway.domain import errors as codes

SYMBOL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,31}$")
MONTH_PATTERN = re.compile(r"^\d{6}(\d{2})?$")
EXCHANGE_PATTERN = re.compile(r"^[A-Z0-9.]{0,16}$")

ISO_CURRENCIES = frozenset(
    "USD EUR JPY GBP CHF AUD NZD CAD SEK NOK DKK HKD SGD CNH MXN ZAR TRY PLN HUF CZK ILS KRW "  # noqa: SIM905
    "RUB".split()
)
# Futures roots the gateway recognises without an explicit instrument type, with their exchange.
FUTURE_EXCHANGES: dict[str, str] = {
    "ES": "CME",
    "MES": "CME",
    "NQ": "CME",
    "MNQ": "CME",
    "RTY": "CME",
    "YM": "CBOT",
    "MYM": "CBOT",
    "ZN": "CBOT",
    "ZB": "CBOT",
    "CL": "NYMEX",
    "NG": "NYMEX",
    "GC": "COMEX",
    "SI": "COMEX",
    "6E": "CME",
}
WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK")


class SecType(enum.StrEnum):
    """IB security types the gateway serves."""

    STK = "STK"
    CASH = "CASH"
    FUT = "FUT"
    IND = "IND"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ContractSpec:
    """What IB is asked to qualify: IB's own field names and meanings."""

    symbol: str
    sec_type: SecType
    exchange: str
    currency: str
    contract_month: str = ""

    @property
    def display(self) -> str:
        """``EUR.USD (CASH on IDEALPRO)`` - used in every message about the contract."""
        name = f"{self.symbol}.{self.currency}" if self.sec_type is SecType.CASH else self.symbol
        month = f" {self.contract_month}" if self.contract_month else ""
        return f"{name}{month} ({self.sec_type} on {self.exchange}, {self.currency})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QualifiedContract:
    """A contract IB confirmed, with what the gateway needs from its details."""

    con_id: int
    spec: ContractSpec
    local_symbol: str = ""
    long_name: str = ""
    time_zone: str = ""
    trading_hours: str = ""
    last_trade_date: str = ""
    primary_exchange: str = ""

    @property
    def pacing_id(self) -> str:
        """The contract as IB's per-contract pacing rule sees it (conId and exchange)."""
        return f"{self.con_id}@{self.spec.exchange}"


def _invalid(message: str, field: str, suggestions: Sequence[str] = ()) -> ValidationError:
    return ValidationError(codes.INVALID_CONTRACT, message, field=field, suggestions=suggestions)


def _fx_parts(symbol: str) -> tuple[str, str] | None:
    bare = symbol.replace(".", "").replace("/", "")
    base, quote = bare[:3], bare[3:]
    if len(bare) == 6 and base in ISO_CURRENCIES and quote in ISO_CURRENCIES and base != quote:
        return base, quote
    return None


def infer_sec_type(symbol: str) -> SecType:
    """FX for a pair of ISO currencies, FUT for a known root, else STK."""
    if _fx_parts(symbol):
        return SecType.CASH
    if symbol in FUTURE_EXCHANGES:
        return SecType.FUT
    return SecType.STK


def _check_symbol(symbol: str) -> None:
    if not SYMBOL_PATTERN.fullmatch(symbol):
        hint = [symbol.upper()] if SYMBOL_PATTERN.fullmatch(symbol.upper()) else []
        raise _invalid(
            f"'symbol' {symbol[:40]!r} is not a valid symbol: use 1-32 characters A-Z, 0-9, "
            "'.', '/', '-' or '_', starting with a letter or digit.",
            "symbol",
            hint,
        )


def _check_fields(exchange: str, currency: str, contract_month: str) -> None:
    if not EXCHANGE_PATTERN.fullmatch(exchange):
        raise _invalid(f"'exchange' {exchange[:20]!r} is not an IB exchange code.", "exchange")
    if currency and currency not in ISO_CURRENCIES:
        raise _invalid(
            f"'currency' {currency[:10]!r} is not a supported ISO currency.",
            "currency",
            suggest(currency.upper(), ISO_CURRENCIES),
        )
    if contract_month and not MONTH_PATTERN.fullmatch(contract_month):
        raise _invalid(
            f"'contract_month' {contract_month[:12]!r} must be YYYYMM or YYYYMMDD.",
            "contract_month",
        )


def resolve(
    symbol: str,
    sec_type: SecType | None = None,
    *,
    exchange: str = "",
    currency: str = "",
    contract_month: str = "",
) -> ContractSpec:
    """The contract specification for a request (see the module docstring).

    Raises
    ------
    ValidationError
        ``IB-010`` naming the field at fault.
    """
    _check_symbol(symbol)
    _check_fields(exchange, currency, contract_month)
    kind = sec_type or infer_sec_type(symbol)
    if contract_month and kind is not SecType.FUT:
        raise _invalid(
            f"'contract_month' applies to futures only; {symbol} is {kind}.", "contract_month"
        )
    if kind is SecType.CASH:
        parts = _fx_parts(symbol)
        if parts is None:
            raise _invalid(
                f"FX symbol {symbol!r} must be a pair of ISO currencies such as EURUSD.", "symbol"
            )
        return ContractSpec(
            symbol=parts[0],
            sec_type=kind,
            exchange=exchange or "IDEALPRO",
            currency=currency or parts[1],
        )
    if kind is SecType.FUT:
        return ContractSpec(
            symbol=symbol,
            sec_type=kind,
            exchange=exchange or FUTURE_EXCHANGES.get(symbol, "CME"),
            currency=currency or "USD",
            contract_month=contract_month,
        )
    return ContractSpec(
        symbol=symbol, sec_type=kind, exchange=exchange or "SMART", currency=currency or "USD"
    )


def default_what_to_show(sec_type: SecType) -> str:
    """MIDPOINT for FX (IB has no FX trades), TRADES otherwise."""
    return "MIDPOINT" if sec_type is SecType.CASH else "TRADES"


def check_what_to_show(value: str, sec_type: SecType) -> str:
    """``value`` or the default for ``sec_type``; ``IB-010`` naming ``what_to_show`` if bad."""
    if not value:
        return default_what_to_show(sec_type)
    if value not in WHAT_TO_SHOW:
        raise _invalid(
            f"'what_to_show' {value[:20]!r} is not one of {', '.join(WHAT_TO_SHOW)}.",
            "what_to_show",
            suggest(value, WHAT_TO_SHOW),
        )
    if sec_type is SecType.CASH and value == "TRADES":
        raise _invalid(
            "IB has no TRADES for FX; use MIDPOINT, BID, ASK or BID_ASK.",
            "what_to_show",
            ["MIDPOINT", "BID_ASK"],
        )
    return value


def front_month(candidates: Sequence[QualifiedContract], today: dt.date) -> QualifiedContract:
    """The futures contract with the earliest last trade date not before ``today``.

    Falls back to the latest one when every candidate has expired.
    """
    if not candidates:
        raise ValueError("front_month needs at least one candidate")
    stamp = today.strftime("%Y%m%d")
    ordered = sorted(candidates, key=lambda c: c.last_trade_date)
    live = [c for c in ordered if c.last_trade_date[:8] >= stamp]
    return live[0] if live else ordered[-1]
