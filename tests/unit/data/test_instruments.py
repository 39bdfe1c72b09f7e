from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktrdr_core.errors import ValidationError
from ktrdr_data.domain.instruments import (
    InstrumentType,
    get_instrument,
    validate_symbol,
)


@pytest.mark.parametrize("symbol", ["EURUSD", "GOOG", "BRK.B", "ES_Z4", "RDS-A", "7203"])
def test_whitelisted_symbols_are_accepted(symbol):
    assert validate_symbol(symbol) == symbol


@pytest.mark.parametrize(
    "symbol", ["", "eurusd", "../x", ".", "A B", "A/B", "X" * 33, "EUR$", "-ES", None, 42]
)
def test_bad_symbols_are_rejected_naming_the_field(symbol):
    with pytest.raises(ValidationError) as exc:
        validate_symbol(symbol, field="symbol")
    assert exc.value.code == "DATA-001" and exc.value.field == "symbol"


def test_lowercase_symbol_suggests_uppercase():
    with pytest.raises(ValidationError) as exc:
        validate_symbol("goog")
    assert exc.value.suggestions == ("GOOG",)


@given(st.text(max_size=40))
def test_accepted_symbols_are_filesystem_safe(text):
    try:
        validate_symbol(text)
    except ValidationError:
        return
    assert "/" not in text and text not in (".", "..") and text == text.upper()


def test_defaults_cover_fx_stocks_and_futures():
    eur = get_instrument("EURUSD")
    assert (eur.type, eur.calendar, eur.currency, eur.inferred) == (
        InstrumentType.FX,
        "fx_24_5",
        "USD",
        False,
    )
    goog = get_instrument("GOOG")
    assert (goog.type, goog.calendar, goog.timezone) == (
        InstrumentType.STK,
        "us_equity",
        "America/New_York",
    )
    es = get_instrument("ES")
    assert (es.type, es.exchange, es.calendar) == (InstrumentType.FUT, "CME", "cme_globex")


def test_iso_currency_pair_is_inferred_as_fx_and_flagged():
    sek = get_instrument("EURSEK")
    assert sek.type is InstrumentType.FX and sek.currency == "SEK" and sek.inferred


def test_unknown_symbol_gets_flagged_default():
    x = get_instrument("ZZZQ")
    assert x.inferred and x.type is InstrumentType.STK and x.calendar == "us_equity"
    assert get_instrument("ABCDEF").inferred  # not two ISO codes -> not FX
    assert get_instrument("ABCDEF").type is InstrumentType.STK
