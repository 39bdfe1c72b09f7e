"""Catalogue metadata, instance naming and parameter validation."""

from __future__ import annotations

import numpy as np
import pytest
from indicator_testutil import FIELDS, head, replace, rows

from ktrdr_core.errors import NotFoundError, ValidationError
from ktrdr_indicators.domain.catalogue import create, get_info, list_indicators
from ktrdr_indicators.domain.metadata import CATEGORIES, MAX_PERIOD
from ktrdr_indicators.domain.registry import native_definitions
from ktrdr_indicators.domain.volatility import BollingerBands

NATIVE = native_definitions()

REQUIRED = {
    "sma",
    "ema",
    "wma",
    "rsi",
    "macd",
    "bollinger_bands",
    "bollinger_width",
    "atr",
    "stochastic",
    "adx",
    "cci",
    "williams_r",
    "roc",
    "momentum",
    "obv",
    "mfi",
    "vwap",
    "cmf",
    "ad",
    "keltner_channels",
    "donchian_channels",
    "supertrend",
    "psar",
    "ichimoku",
    "aroon",
    "fisher_transform",
    "rvi",
    "zigzag",
    "volume_ratio",
    "distance_from_ma",
    "squeeze_intensity",
}


def test_native_catalogue_covers_the_required_indicators():
    assert {d.info.name for d in NATIVE} == REQUIRED


def test_every_native_info_is_consistent():
    for d in NATIVE:
        info = d.info
        assert info.category in CATEGORIES
        assert info.primary_output in info.outputs
        assert info.name == info.name.lower()
        assert info.streaming == "incremental"
        assert info.engine in ("ta-lib", "native")
        assert info.warmup() >= 0
        for p in info.params:
            assert p.type in ("int", "float", "str", "bool")
            assert p.coerce(p.default) == p.default


def test_list_filters_by_category_and_rejects_unknown_category():
    vols = list_indicators("volume")
    assert vols and all(i.category == "volume" for i in vols)
    assert {"obv", "mfi", "vwap"} <= {i.name for i in vols}
    with pytest.raises(ValidationError) as exc:
        list_indicators("volumes")
    assert exc.value.field == "category" and "volume" in exc.value.suggestions


def test_aliases_resolve_to_the_canonical_indicator():
    assert get_info("bbands").name == "bollinger_bands"
    assert get_info("BBANDS").name == "bollinger_bands"
    assert create("stoch").name == "stochastic_14_3_3"


def test_instance_names_use_declared_parameter_order():
    assert create("rsi", {"period": 14}).name == "rsi_14"
    macd = create("macd", {"signal": 9, "slow": 26, "fast": 12})
    assert macd.name == "macd_12_26_9"
    assert macd.columns == ("macd_12_26_9.line", "macd_12_26_9.signal", "macd_12_26_9.histogram")
    assert create("rsi").columns == ("rsi_14",)
    assert create("bbands", {"std": 2}).name == "bollinger_bands_20_2"
    assert create("distance_from_ma", {"ma_type": "ema"}).name == "distance_from_ma_20_ema"


def test_unknown_indicator_suggests_close_matches():
    with pytest.raises(NotFoundError) as exc:
        create("rsii")
    assert exc.value.code == "IND-001"
    assert exc.value.field == "indicator"
    assert exc.value.suggestions[0] == "rsi"


def test_unknown_parameter_is_named_with_suggestions():
    with pytest.raises(ValidationError) as exc:
        create("rsi", {"peroid": 14})
    assert exc.value.code == "IND-002"
    assert exc.value.field == "parameters.peroid"
    assert exc.value.suggestions == ("period",)
    assert "Did you mean 'period'?" in exc.value.message


@pytest.mark.parametrize("name", ["bollinger_bands", "rsi", "adx", "supertrend"])
def test_streaming_constructors_validate_like_create(name):
    definition = next(d for d in NATIVE if d.info.name == name)
    with pytest.raises(ValidationError) as exc:
        definition.make_stream({"period": 0})
    assert exc.value.code == "IND-004" and exc.value.field == "parameters.period"
    assert f"[{definition.info.params[0].minimum:g}, {MAX_PERIOD}]" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        definition.make_stream({"peroid": 5})
    assert exc.value.code == "IND-002" and exc.value.suggestions == ("period",)


def test_a_streaming_class_constructed_directly_rejects_period_zero():
    with pytest.raises(ValidationError) as exc:
        BollingerBands(period=0)
    assert exc.value.code == "IND-004" and "[2, 10000]" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        BollingerBands(period=20, stdd=2.0)
    assert "Did you mean 'std'?" in exc.value.message
    assert repr(BollingerBands(period=5)) == "bollinger_bands(period=5, std=2.0, source='close')"


def test_every_int_parameter_is_bounded_by_max_period():
    # Ints size windows and buffers: every one has an upper bound, at most MAX_PERIOD.
    for info in list_indicators():
        for p in info.params:
            if p.type == "int":
                assert p.maximum is not None and p.maximum <= MAX_PERIOD, (info.name, p.name)
    with pytest.raises(ValidationError) as exc:
        create("dema", {"length": MAX_PERIOD + 1})
    assert exc.value.code == "IND-004" and exc.value.field == "parameters.length"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (2.5, "IND-003"),
        ("x", "IND-003"),
        (True, "IND-003"),
        (0, "IND-004"),
        (-3, "IND-004"),
        (float("nan"), "IND-003"),
    ],
)
def test_bad_int_parameter_names_field_and_bounds(value, code):
    with pytest.raises(ValidationError) as exc:
        create("sma", {"period": value})
    assert exc.value.code == code
    assert exc.value.field == "parameters.period"
    assert "[1, 10000]" in exc.value.message


def test_period_above_the_bound_is_refused_naming_the_range():
    with pytest.raises(ValidationError) as exc:
        create("sma", {"period": 10_001})
    assert exc.value.code == "IND-004" and exc.value.field == "parameters.period"
    assert "[1, 10000]" in exc.value.message and "10001" in exc.value.message


def test_integral_float_is_accepted_for_int_parameter():
    ind = create("sma", {"period": 20.0})
    assert ind.params["period"] == 20 and isinstance(ind.params["period"], int)
    assert ind.name == "sma_20"


def test_str_choice_and_cross_parameter_checks():
    with pytest.raises(ValidationError) as exc:
        create("distance_from_ma", {"ma_type": "emaa"})
    assert exc.value.code == "IND-005" and exc.value.suggestions == ("ema",)
    with pytest.raises(ValidationError) as exc:
        create("macd", {"fast": 30, "slow": 26})
    assert exc.value.code == "IND-006" and exc.value.field == "parameters.fast"
    with pytest.raises(ValidationError):
        create("psar", {"acceleration": 0.3, "maximum": 0.2})


def test_warmup_is_a_function_of_parameters():
    assert create("macd", {"fast": 5, "slow": 10, "signal": 3}).warmup == 11
    assert create("ichimoku").warmup == 51 + 26
    assert create("adx", {"period": 7}).warmup == 13
    assert create("vwap").warmup == 0 and create("vwap", {"period": 5}).warmup == 4


def test_instance_names_never_contain_a_dot_so_outputs_stay_addressable():
    for name, params, expected in [
        ("psar", {}, "psar_0p02_0p2"),
        ("bbands", {"std": 2.5}, "bollinger_bands_20_2p5"),
        ("supertrend", {}, "supertrend_10_3"),
    ]:
        indicator = create(name, params)
        assert indicator.name == expected
        assert all(c.split(".", 1)[0] == expected for c in indicator.columns)


SOURCE_SERIES = {
    "open": lambda b: b["open"],
    "high": lambda b: b["high"],
    "low": lambda b: b["low"],
    "hl2": lambda b: (b["high"] + b["low"]) / 2.0,
    "hlc3": lambda b: (b["high"] + b["low"] + b["close"]) / 3.0,
    "ohlc4": lambda b: (b["open"] + b["high"] + b["low"] + b["close"]) / 4.0,
}
SINGLE_SERIES = ["sma", "ema", "wma", "rsi", "macd", "bollinger_bands", "roc", "momentum"]


@pytest.mark.parametrize("source", list(SOURCE_SERIES))
@pytest.mark.parametrize("name", SINGLE_SERIES)
def test_source_reads_another_price_in_both_modes(name, source):
    from backtesting.test import EURUSD
    from indicator_testutil import bars_of

    sample = head(bars_of(EURUSD), 800)
    high = sample.high.copy()
    high[100] = np.nan  # a bad bar: skipped in both modes when the source reads it
    bars = replace(sample, high=high)
    columns = {f: bars.column(f) for f in FIELDS}
    indicator = create(name, {"source": source})
    assert indicator.name.endswith(f"_{source}")
    # Independent reference: the default (close) indicator on bars whose close is the source.
    as_close = replace(bars, close=SOURCE_SERIES[source](columns))
    reference = create(name).compute(as_close)
    got = indicator.compute(bars)
    for column, ref_column in zip(indicator.columns, create(name).columns, strict=True):
        np.testing.assert_allclose(got[column], reference[ref_column], rtol=1e-12, equal_nan=True)
    stream = indicator.stream()
    streamed = np.array([stream.update(*r) for r in rows(bars)])
    for j, column in enumerate(indicator.columns):
        np.testing.assert_allclose(
            streamed[:, j], got[column], rtol=1e-9, atol=1e-12, equal_nan=True
        )


def test_default_source_keeps_the_plain_name_and_bad_source_is_refused():
    assert create("rsi", {"period": 14, "source": "close"}).name == "rsi_14"
    with pytest.raises(ValidationError) as info:
        create("rsi", {"source": "hl3"})
    assert info.value.field == "parameters.source"
    assert "hlc3" in info.value.suggestions
    with pytest.raises(ValidationError):
        create("atr", {"source": "hl2"})  # reads high, low and close: no single source
