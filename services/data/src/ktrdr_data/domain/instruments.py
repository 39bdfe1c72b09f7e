"""Instrument whitelist and metadata.

Symbols must match :data:`SYMBOL_PATTERN`: 1-32 characters, uppercase ASCII letters and digits,
``.``, ``-`` and ``_``, starting with a letter or digit (so never ``.`` / ``..`` on disk).
Anything else is rejected with ``DATA-001`` naming the field (``symbol`` by default).

Metadata comes from :data:`DEFAULT_INSTRUMENTS`; a 6-letter symbol made of two ISO currency codes
is inferred to be an FX pair (``inferred=True``); any other unknown symbol gets a US-stock default
with ``inferred=True`` so callers can tell it is a guess.
"""

from __future__ import annotations

import dataclasses
import enum
import re

from ktrdr_core.errors import ValidationError
from ktrdr_data.domain import errors as codes

SYMBOL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")


class InstrumentType(enum.StrEnum):
    FX = "FX"
    STK = "STK"
    FUT = "FUT"
    IDX = "IDX"
    CRYPTO = "CRYPTO"


@dataclasses.dataclass(frozen=True, slots=True)
class Instrument:
    """Metadata for one symbol.

    ``calendar`` names a :mod:`ktrdr_core.calendars` calendar; ``trading_hours`` is a
    human-readable summary of it. ``inferred`` is True when the metadata was guessed.
    """

    symbol: str
    type: InstrumentType
    exchange: str
    currency: str
    timezone: str
    calendar: str
    trading_hours: str
    description: str = ""
    inferred: bool = False


ISO_CURRENCIES = frozenset(
    "USD EUR JPY GBP CHF AUD NZD CAD SEK NOK DKK HKD SGD CNH CNY MXN ZAR TRY PLN HUF CZK ILS "  # noqa: SIM905
    "KRW INR RUB BRL THB".split()
)

_FX_HOURS = "Sun 17:00 - Fri 17:00 America/New_York"
_STK_HOURS = "Mon-Fri 09:30-16:00 America/New_York, NYSE holidays"
_FUT_HOURS = "Sun 18:00 - Fri 17:00 America/New_York, daily break 17:00-18:00"


def _fx(symbol: str, inferred: bool = False) -> Instrument:
    return Instrument(
        symbol,
        InstrumentType.FX,
        "IDEALPRO",
        symbol[3:],
        "America/New_York",
        "fx_24_5",
        _FX_HOURS,
        f"{symbol[:3]}/{symbol[3:]}",
        inferred,
    )


def _stk(
    symbol: str, exchange: str = "NASDAQ", desc: str = "", inferred: bool = False
) -> Instrument:
    return Instrument(
        symbol,
        InstrumentType.STK,
        exchange,
        "USD",
        "America/New_York",
        "us_equity",
        _STK_HOURS,
        desc,
        inferred,
    )


def _fut(symbol: str, desc: str) -> Instrument:
    return Instrument(
        symbol,
        InstrumentType.FUT,
        "CME",
        "USD",
        "America/New_York",
        "cme_globex",
        _FUT_HOURS,
        desc,
    )


_DEFAULTS: list[Instrument] = [
    *(
        _fx(s)
        for s in (  # noqa: SIM905
            "EURUSD GBPUSD USDJPY USDCHF AUDUSD USDCAD NZDUSD EURGBP EURJPY GBPJPY EURCHF "
            "AUDJPY EURAUD"
        ).split()
    ),
    _stk("GOOG", desc="Alphabet Inc. Class C"),
    _stk("GOOGL", desc="Alphabet Inc. Class A"),
    _stk("AAPL", desc="Apple Inc."),
    _stk("MSFT", desc="Microsoft Corp."),
    _stk("AMZN", desc="Amazon.com Inc."),
    _stk("META", desc="Meta Platforms Inc."),
    _stk("NVDA", desc="NVIDIA Corp."),
    _stk("TSLA", desc="Tesla Inc."),
    _stk("IBM", "NYSE", "IBM Corp."),
    _stk("JPM", "NYSE", "JPMorgan Chase & Co."),
    _stk("SPY", "ARCA", "SPDR S&P 500 ETF"),
    _stk("QQQ", "NASDAQ", "Invesco QQQ Trust"),
    _fut("ES", "E-mini S&P 500"),
    _fut("MES", "Micro E-mini S&P 500"),
    _fut("NQ", "E-mini Nasdaq-100"),
    _fut("YM", "E-mini Dow"),
    Instrument(
        "SPX",
        InstrumentType.IDX,
        "CBOE",
        "USD",
        "America/New_York",
        "us_equity",
        _STK_HOURS,
        "S&P 500 Index",
    ),
    Instrument(
        "VIX",
        InstrumentType.IDX,
        "CBOE",
        "USD",
        "America/New_York",
        "us_equity",
        _STK_HOURS,
        "CBOE Volatility Index",
    ),
    Instrument(
        "BTCUSD",
        InstrumentType.CRYPTO,
        "PAXOS",
        "USD",
        "UTC",
        "crypto_24_7",
        "24/7",
        "Bitcoin",
    ),
    Instrument(
        "ETHUSD",
        InstrumentType.CRYPTO,
        "PAXOS",
        "USD",
        "UTC",
        "crypto_24_7",
        "24/7",
        "Ether",
    ),
]

DEFAULT_INSTRUMENTS: dict[str, Instrument] = {i.symbol: i for i in _DEFAULTS}


def validate_symbol(symbol: object, *, field: str = "symbol") -> str:
    """Return ``symbol`` if it passes the whitelist, else raise ``DATA-001``.

    Lower-case input is rejected (not silently upper-cased) but the upper-case form is suggested.
    """
    if isinstance(symbol, str) and SYMBOL_PATTERN.fullmatch(symbol):
        return symbol
    text = symbol if isinstance(symbol, str) else repr(symbol)
    hint = (
        [text.upper()] if isinstance(symbol, str) and SYMBOL_PATTERN.fullmatch(text.upper()) else []
    )
    raise ValidationError(
        codes.INVALID_SYMBOL,
        f"'{field}' {text[:40]!r} is not a valid symbol: use 1-32 characters A-Z, 0-9, '.', '-' "
        "or '_', starting with a letter or digit.",
        field=field,
        suggestions=hint,
    )


def is_fx_pair(symbol: str) -> bool:
    """True for 6-letter symbols made of two distinct ISO currency codes (e.g. ``EURSEK``)."""
    return (
        len(symbol) == 6
        and symbol[:3] in ISO_CURRENCIES
        and symbol[3:] in ISO_CURRENCIES
        and symbol[:3] != symbol[3:]
    )


class InstrumentRegistry:
    """Look up instrument metadata; unknown symbols get an inferred default."""

    def __init__(self, instruments: dict[str, Instrument] | None = None) -> None:
        self._known = dict(DEFAULT_INSTRUMENTS if instruments is None else instruments)

    def known_symbols(self) -> list[str]:
        return sorted(self._known)

    def register(self, instrument: Instrument) -> None:
        validate_symbol(instrument.symbol)
        self._known[instrument.symbol] = instrument

    def get(self, symbol: str) -> Instrument:
        """Metadata for ``symbol`` (validated); inferred defaults are flagged ``inferred=True``."""
        validate_symbol(symbol)
        if symbol in self._known:
            return self._known[symbol]
        if is_fx_pair(symbol):
            return _fx(symbol, inferred=True)
        return _stk(symbol, "SMART", "unknown symbol; US stock assumed", inferred=True)


DEFAULT_REGISTRY = InstrumentRegistry()


def get_instrument(symbol: str) -> Instrument:
    """Metadata for ``symbol`` from the default registry."""
    return DEFAULT_REGISTRY.get(symbol)
