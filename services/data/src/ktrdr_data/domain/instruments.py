"""Instrument whitelist and metadata.

Symbols must match :data:`SYMBOL_PATTERN`: 1-32 characters, uppercase ASCII letters and digits,
``.``, ``-`` and ``_``, starting with a letter or digit (so never ``.`` / ``..`` on disk).
Anything else is rejected with ``DATA-001`` naming the field (``symbol`` by default).

Metadata of a symbol, first match wins: what a user declared (on import or with the
symbol-metadata route, kept by an :class:`InstrumentStore`); :data:`DEFAULT_INSTRUMENTS`; a 6-letter
symbol made of two ISO currency codes is inferred to be an FX pair (``inferred=True``); any other
unknown symbol gets a US-stock default with ``inferred=True`` so callers can tell it is a guess.

Declaring (:meth:`InstrumentRegistry.declare`): the instrument type, exchange (``A-Z 0-9 . _ -``,
1-16 characters), currency (three letters A-Z), calendar (a :mod:`ktrdr_core.calendars` name) and
time zone (IANA). A field left out keeps its current value, except that a new instrument type
brings that type's defaults (FX: IDEALPRO, fx_24_5; stock: SMART, us_equity; future: CME,
cme_globex; index: CBOE, us_equity; crypto: PAXOS, crypto_24_7) for the fields not given. The
time zone follows the calendar unless given; the trading hours are the calendar's description.
Invalid values are ``DATA-024`` naming the field (``DATA-011``/``DATA-019`` for an unknown
calendar/time zone, with suggestions).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import zoneinfo
from typing import Any, Protocol

from ktrdr_core.calendars import get_calendar
from ktrdr_core.errors import ValidationError, suggest
from ktrdr_data.domain import errors as codes

SYMBOL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
EXCHANGE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,15}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


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


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# Longer than any IANA name (the longest is 32 characters): refused without a file lookup.
MAX_TIME_ZONE_CHARS = 64


def check_time_zone(tz: str, *, field: str = "time_zone") -> str:
    """Return ``tz`` if it is an IANA time zone name, else raise ``DATA-019`` with suggestions."""
    if len(tz) <= MAX_TIME_ZONE_CHARS:
        try:
            zoneinfo.ZoneInfo(tz)
            return tz
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            pass
    short = len(tz) <= MAX_TIME_ZONE_CHARS
    raise ValidationError(
        codes.UNKNOWN_TIME_ZONE,
        f"'{field}' {tz[:60]!r} is not an IANA time zone name (e.g. America/New_York, "
        "Europe/London, UTC).",
        field=field,
        suggestions=suggest(tz, _zone_names(), cutoff=0.5) if short else (),
    )


class InstrumentStore(Protocol):
    """Where declared instrument metadata is kept (the Parquet store implements it)."""

    def read_instrument(self, symbol: str) -> dict[str, Any] | None: ...

    def write_instrument(self, symbol: str, metadata: dict[str, Any]) -> None: ...


# type -> (exchange, calendar) defaults when a type is declared
_TYPE_DEFAULTS: dict[InstrumentType, tuple[str, str]] = {
    InstrumentType.FX: ("IDEALPRO", "fx_24_5"),
    InstrumentType.STK: ("SMART", "us_equity"),
    InstrumentType.FUT: ("CME", "cme_globex"),
    InstrumentType.IDX: ("CBOE", "us_equity"),
    InstrumentType.CRYPTO: ("PAXOS", "crypto_24_7"),
}


def _checked(value: str, pattern: re.Pattern[str], field: str, what: str) -> str:
    if pattern.fullmatch(value):
        return value
    raise ValidationError(
        codes.INVALID_INSTRUMENT,
        f"'{field}' {value[:40]!r} is not a valid {what}.",
        field=field,
        suggestions=[value.upper()] if pattern.fullmatch(value.upper()) else [],
    )


def _stored(symbol: str, data: dict[str, Any], base: Instrument) -> Instrument:
    calendar = get_calendar(str(data.get("calendar", base.calendar)))
    return dataclasses.replace(
        base,
        type=InstrumentType(data.get("type", base.type)),
        exchange=str(data.get("exchange", base.exchange)),
        currency=str(data.get("currency", base.currency)),
        calendar=calendar.name,
        timezone=str(data.get("timezone", calendar.tz)),
        trading_hours=calendar.description,
        inferred=False,
    )


class InstrumentRegistry:
    """Look up instrument metadata; unknown symbols get an inferred default.

    Parameters
    ----------
    instruments
        The built-in metadata (default :data:`DEFAULT_INSTRUMENTS`).
    store
        Where declared metadata is read from and written to; without one nothing can be
        declared.
    """

    def __init__(
        self,
        instruments: dict[str, Instrument] | None = None,
        *,
        store: InstrumentStore | None = None,
    ) -> None:
        self._known = dict(DEFAULT_INSTRUMENTS if instruments is None else instruments)
        self._store = store

    def declare(
        self,
        symbol: str,
        *,
        instrument_type: InstrumentType | None = None,
        exchange: str | None = None,
        currency: str | None = None,
        calendar: str | None = None,
        timezone: str | None = None,
        field: str = "instrument",
        save: bool = True,
    ) -> Instrument:
        """Declare (part of) the metadata of ``symbol``; store it unless ``save`` is False.

        Returns the metadata as it reads after the declaration (a dry run with ``save=False``
        checks the values and changes nothing).

        Raises
        ------
        ValidationError
            ``DATA-024``/``DATA-011``/``DATA-019`` naming ``{field}.<name>``.
        """
        current = self.get(symbol)
        stored = self._store.read_instrument(symbol) if self._store is not None else None
        data: dict[str, Any] = dict(stored or {})
        if instrument_type is not None and instrument_type != current.type:
            data["type"] = instrument_type.value
            data["exchange"], data["calendar"] = _TYPE_DEFAULTS[instrument_type]
            data.pop("timezone", None)
            if instrument_type is InstrumentType.FX and is_fx_pair(symbol):
                data["currency"] = symbol[3:]
        if exchange:
            data["exchange"] = _checked(exchange, EXCHANGE_PATTERN, f"{field}.exchange", "exchange")
        if currency:
            data["currency"] = _checked(
                currency, CURRENCY_PATTERN, f"{field}.currency", "currency code"
            )
        if calendar:
            data["calendar"] = get_calendar(calendar, field=f"{field}.calendar").name
            data.pop("timezone", None)
        if timezone:
            data["timezone"] = check_time_zone(timezone, field=f"{field}.time_zone")
        if not data:
            return current
        data.setdefault("type", current.type.value)
        result = _stored(symbol, data, current)
        if save and self._store is None:
            self.register(result)
        elif save and self._store is not None:
            self._store.write_instrument(symbol, data)
        return result

    def known_symbols(self) -> list[str]:
        return sorted(self._known)

    def register(self, instrument: Instrument) -> None:
        validate_symbol(instrument.symbol)
        self._known[instrument.symbol] = instrument

    def get(self, symbol: str) -> Instrument:
        """Metadata for ``symbol`` (validated); inferred defaults are flagged ``inferred=True``."""
        validate_symbol(symbol)
        if symbol in self._known:
            base = self._known[symbol]
        elif is_fx_pair(symbol):
            base = _fx(symbol, inferred=True)
        else:
            base = _stk(symbol, "SMART", "unknown symbol; US stock assumed", inferred=True)
        declared = self._store.read_instrument(symbol) if self._store is not None else None
        return _stored(symbol, declared, base) if declared else base


DEFAULT_REGISTRY = InstrumentRegistry()


def get_instrument(symbol: str) -> Instrument:
    """Metadata for ``symbol`` from the default registry."""
    return DEFAULT_REGISTRY.get(symbol)
