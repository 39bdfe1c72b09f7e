"""The native catalogue: metadata + batch function + streaming class per indicator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ktrdr_indicators.domain import batch as B
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain import streaming as S
from ktrdr_indicators.domain.metadata import (
    ENGINE_NATIVE,
    ENGINE_TALIB,
    IndicatorInfo,
    ParamSpec,
)

MAX_PERIOD = 100_000


@dataclass(frozen=True)
class NativeDef:
    """A native indicator: its metadata, batch function and streaming class."""

    info: IndicatorInfo
    batch: B.BatchFn
    stream_cls: type[S.StreamingIndicator]

    def make_stream(self, params: Mapping[str, Any]) -> S.StreamingIndicator:
        return self.stream_cls(**params)


def _period(default: int, minimum: int = 1, desc: str = "Look-back window in bars.") -> ParamSpec:
    return ParamSpec("period", "int", default, minimum, MAX_PERIOD, description=desc)


def _int(name: str, default: int, minimum: int = 1, desc: str = "") -> ParamSpec:
    return ParamSpec(name, "int", default, minimum, MAX_PERIOD, description=desc)


def _float(name: str, default: float, lo: float, hi: float, desc: str = "") -> ParamSpec:
    return ParamSpec(name, "float", default, lo, hi, description=desc)


def _less(a: str, b: str):
    def check(p: Mapping[str, Any]) -> None:
        if not p[a] < p[b]:
            raise E.ValidationError(
                E.PARAMETER_CONFLICT,
                f"Parameter '{a}' ({p[a]}) must be smaller than '{b}' ({p[b]}).",
                field=f"parameters.{a}",
            )

    return check


def _le(a: str, b: str):
    def check(p: Mapping[str, Any]) -> None:
        if not p[a] <= p[b]:
            raise E.ValidationError(
                E.PARAMETER_CONFLICT,
                f"Parameter '{a}' ({p[a]}) must not exceed '{b}' ({p[b]}).",
                field=f"parameters.{a}",
            )

    return check


C = ("close",)
HL = ("high", "low")
HLC = ("high", "low", "close")
HLCV = ("high", "low", "close", "volume")


def _d(
    name: str,
    display: str,
    category: str,
    desc: str,
    params: tuple[ParamSpec, ...],
    outputs: tuple[str, ...],
    primary: str,
    inputs: tuple[str, ...],
    engine: str,
    warmup,
    batch: B.BatchFn,
    cls: type[S.StreamingIndicator],
    aliases: tuple[str, ...] = (),
    check=None,
) -> NativeDef:
    assert cls.outputs == outputs or outputs == ("value",), name
    assert cls.inputs == inputs, name
    assert outputs[cls.primary] == primary, name
    info = IndicatorInfo(
        name=name,
        display_name=display,
        category=category,
        description=desc,
        params=params,
        outputs=outputs,
        primary_output=primary,
        inputs=inputs,
        aliases=aliases,
        engine=engine,
        warmup_fn=warmup,
        check_fn=check,
    )
    return NativeDef(info, batch, cls)


V = ("value",)
_STD = _float("std", 2.0, 0.0, 100.0, "Band width in standard deviations.")

NATIVE: tuple[NativeDef, ...] = (
    _d(
        "sma",
        "Simple Moving Average",
        "trend",
        "Arithmetic mean of the last `period` closes.",
        (_period(20),),
        V,
        "value",
        C,
        ENGINE_TALIB,
        lambda p: p["period"] - 1,
        B.sma,
        S.SMA,
    ),
    _d(
        "ema",
        "Exponential Moving Average",
        "trend",
        "EMA with k = 2/(period+1), seeded by the SMA of the first `period` closes (TA-Lib "
        "convention; pandas' ewm(adjust=False) seeds with the first close instead).",
        (_period(20),),
        V,
        "value",
        C,
        ENGINE_TALIB,
        lambda p: p["period"] - 1,
        B.ema,
        S.EMA,
    ),
    _d(
        "wma",
        "Weighted Moving Average",
        "trend",
        "Linearly weighted mean (weights 1..period).",
        (_period(20),),
        V,
        "value",
        C,
        ENGINE_TALIB,
        lambda p: p["period"] - 1,
        B.wma,
        S.WMA,
    ),
    _d(
        "rsi",
        "Relative Strength Index",
        "momentum",
        "Wilder RSI in [0, 100]; seed = mean gain/loss of the first `period` changes.",
        (_period(14, 2),),
        V,
        "value",
        C,
        ENGINE_TALIB,
        lambda p: p["period"],
        B.rsi,
        S.RSI,
    ),
    _d(
        "macd",
        "MACD",
        "momentum",
        "EMA(fast) - EMA(slow), signal EMA and histogram. TA-Lib seeding: the fast EMA starts "
        "at bar slow-1 from the SMA of the preceding `fast` closes; all outputs start together.",
        (
            _int("fast", 12, 2, "Fast EMA period."),
            _int("slow", 26, 2, "Slow EMA period."),
            _int("signal", 9, 1, "Signal EMA period."),
        ),
        ("line", "signal", "histogram"),
        "line",
        C,
        ENGINE_TALIB,
        lambda p: p["slow"] + p["signal"] - 2,
        B.macd,
        S.MACD,
        check=_less("fast", "slow"),
    ),
    _d(
        "bollinger_bands",
        "Bollinger Bands",
        "volatility",
        "SMA(period) +- std x population standard deviation (equals TA-Lib BBANDS; "
        "mean of squares minus squared mean like TA-Lib, so precision degrades when "
        "stddev / price < ~1e-7).",
        (_period(20, 2), _STD),
        ("upper", "middle", "lower"),
        "middle",
        C,
        ENGINE_NATIVE,
        lambda p: p["period"] - 1,
        B.bbands,
        S.BollingerBands,
        aliases=("bbands", "bb"),
    ),
    _d(
        "bollinger_width",
        "Bollinger Band Width",
        "volatility",
        "(upper - lower) / middle of the Bollinger Bands (0 if middle is 0).",
        (_period(20, 2), _STD),
        V,
        "value",
        C,
        ENGINE_NATIVE,
        lambda p: p["period"] - 1,
        B.bbwidth,
        S.BollingerWidth,
        aliases=("bbwidth", "bb_width"),
    ),
    _d(
        "atr",
        "Average True Range",
        "volatility",
        "Wilder ATR; first value = mean of true ranges of bars 1..period.",
        (_period(14),),
        V,
        "value",
        HLC,
        ENGINE_TALIB,
        lambda p: p["period"],
        B.atr,
        S.ATR,
    ),
    _d(
        "stochastic",
        "Stochastic Oscillator",
        "momentum",
        "Slow stochastic: %K = SMA(k_smooth) of fast %K over k_period, %D = SMA(d_period) of %K "
        "(TA-Lib STOCH with SMA smoothing; fast %K is 0 on a flat window).",
        (
            _int("k_period", 14, 1, "Fast %K window."),
            _int("k_smooth", 3, 1, "%K smoothing."),
            _int("d_period", 3, 1, "%D smoothing."),
        ),
        ("k", "d"),
        "k",
        HLC,
        ENGINE_TALIB,
        lambda p: p["k_period"] + p["k_smooth"] + p["d_period"] - 3,
        B.stoch,
        S.Stochastic,
        aliases=("stoch",),
    ),
    _d(
        "adx",
        "Average Directional Index",
        "trend",
        "Wilder ADX with +DI/-DI (TA-Lib). +DI/-DI are withheld until ADX is ready so all "
        "outputs share one warm-up of 2*period-1 bars.",
        (_period(14, 2),),
        ("adx", "plus_di", "minus_di"),
        "adx",
        HLC,
        ENGINE_TALIB,
        lambda p: 2 * p["period"] - 1,
        B.adx,
        S.ADX,
        aliases=("dmi",),
    ),
    _d(
        "cci",
        "Commodity Channel Index",
        "momentum",
        "(tp - SMA(tp)) / (0.015 x mean deviation), tp = (h+l+c)/3.",
        (_period(20, 2),),
        V,
        "value",
        HLC,
        ENGINE_TALIB,
        lambda p: p["period"] - 1,
        B.cci,
        S.CCI,
    ),
    _d(
        "williams_r",
        "Williams %R",
        "momentum",
        "Position of close in the high-low range, [-100, 0].",
        (_period(14),),
        V,
        "value",
        HLC,
        ENGINE_TALIB,
        lambda p: p["period"] - 1,
        B.willr,
        S.WilliamsR,
        aliases=("willr", "wr"),
    ),
    _d(
        "roc",
        "Rate of Change",
        "momentum",
        "(close / close[period] - 1) x 100.",
        (_period(10),),
        V,
        "value",
        C,
        ENGINE_TALIB,
        lambda p: p["period"],
        B.roc,
        S.ROC,
    ),
    _d(
        "momentum",
        "Momentum",
        "momentum",
        "close - close[period].",
        (_period(10),),
        V,
        "value",
        C,
        ENGINE_TALIB,
        lambda p: p["period"],
        B.mom,
        S.Momentum,
        aliases=("mom",),
    ),
    _d(
        "obv",
        "On-Balance Volume",
        "volume",
        "Cumulative signed volume; starts at the first bar's volume (TA-Lib).",
        (),
        V,
        "value",
        ("close", "volume"),
        ENGINE_TALIB,
        lambda p: 0,
        B.obv,
        S.OBV,
    ),
    _d(
        "mfi",
        "Money Flow Index",
        "volume",
        "Volume-weighted RSI of typical price (0 when total flow < 1, a TA-Lib convention).",
        (_period(14),),
        V,
        "value",
        HLCV,
        ENGINE_TALIB,
        lambda p: p["period"],
        B.mfi,
        S.MFI,
    ),
    _d(
        "vwap",
        "Volume Weighted Average Price",
        "volume",
        "sum(tp x volume) / sum(volume) over `period` bars, cumulative when period = 0; typical "
        "price when the volume sum is 0.",
        (
            ParamSpec(
                "period",
                "int",
                0,
                0,
                MAX_PERIOD,
                description="Rolling window in bars; 0 = cumulative.",
            ),
        ),
        V,
        "value",
        HLCV,
        ENGINE_NATIVE,
        lambda p: max(p["period"] - 1, 0),
        B.vwap,
        S.VWAP,
    ),
    _d(
        "cmf",
        "Chaikin Money Flow",
        "volume",
        "sum(money-flow volume) / sum(volume) over `period` bars.",
        (_period(20),),
        V,
        "value",
        HLCV,
        ENGINE_NATIVE,
        lambda p: p["period"] - 1,
        B.cmf,
        S.CMF,
        aliases=("chaikin_money_flow",),
    ),
    _d(
        "ad",
        "Accumulation/Distribution Line",
        "volume",
        "Cumulative close-location value x volume (TA-Lib AD).",
        (),
        V,
        "value",
        HLCV,
        ENGINE_TALIB,
        lambda p: 0,
        B.ad,
        S.AD,
        aliases=("adl", "accumulation_distribution"),
    ),
    _d(
        "keltner_channels",
        "Keltner Channels",
        "volatility",
        "EMA(period) of close +- multiplier x ATR(atr_period).",
        (
            _period(20),
            _float("multiplier", 2.0, 0.0, 100.0, "ATR multiple."),
            _int("atr_period", 10, 1, "ATR window."),
        ),
        ("upper", "middle", "lower"),
        "middle",
        HLC,
        ENGINE_NATIVE,
        lambda p: max(p["period"] - 1, p["atr_period"]),
        B.keltner,
        S.Keltner,
        aliases=("keltner", "kc"),
    ),
    _d(
        "donchian_channels",
        "Donchian Channels",
        "volatility",
        "Highest high / lowest low over `period` bars and their midpoint.",
        (_period(20),),
        ("upper", "middle", "lower"),
        "middle",
        HL,
        ENGINE_NATIVE,
        lambda p: p["period"] - 1,
        B.donchian,
        S.Donchian,
        aliases=("donchian",),
    ),
    _d(
        "supertrend",
        "SuperTrend",
        "trend",
        "HL2 +- multiplier x ATR(period) trailing bands; direction +1 bullish / -1 bearish, "
        "+1 on the first ready bar.",
        (_period(10), _float("multiplier", 3.0, 0.0, 100.0, "ATR multiple.")),
        ("trend", "direction"),
        "trend",
        HLC,
        ENGINE_NATIVE,
        lambda p: p["period"],
        B.supertrend,
        S.SuperTrend,
    ),
    _d(
        "psar",
        "Parabolic SAR",
        "trend",
        "Wilder stop-and-reverse (TA-Lib SAR). acceleration must not exceed maximum.",
        (
            _float("acceleration", 0.02, 0.0, 1.0, "AF step."),
            _float("maximum", 0.2, 0.0, 1.0, "AF cap."),
        ),
        V,
        "value",
        HL,
        ENGINE_TALIB,
        lambda p: 1,
        B.psar,
        S.ParabolicSAR,
        aliases=("sar", "parabolic_sar"),
        check=_le("acceleration", "maximum"),
    ),
    _d(
        "ichimoku",
        "Ichimoku Cloud",
        "trend",
        "Causal Ichimoku: senkou_a/senkou_b at bar t are the spans computed `displacement` bars "
        "earlier (the cloud drawn at t); chikou at t is the close at t. No output uses data "
        "after t.",
        (
            _int("tenkan", 9),
            _int("kijun", 26),
            _int("senkou", 52),
            _int("displacement", 26, 0, "Cloud displacement in bars."),
        ),
        ("tenkan", "kijun", "senkou_a", "senkou_b", "chikou"),
        "kijun",
        HLC,
        ENGINE_NATIVE,
        lambda p: max(p["tenkan"], p["kijun"], p["senkou"]) - 1 + p["displacement"],
        B.ichimoku,
        S.Ichimoku,
    ),
    _d(
        "aroon",
        "Aroon",
        "trend",
        "Aroon up/down over period+1 bars (ties -> most recent) and oscillator up - down.",
        (_period(14),),
        ("up", "down", "oscillator"),
        "oscillator",
        HL,
        ENGINE_TALIB,
        lambda p: p["period"],
        B.aroon,
        S.Aroon,
    ),
    _d(
        "fisher_transform",
        "Fisher Transform",
        "momentum",
        "Ehlers Fisher transform of HL2 over `period`; signal = fisher `signal` bars ago.",
        (_period(9, 2), _int("signal", 1, 1, "Signal lag in bars.")),
        ("fisher", "signal"),
        "fisher",
        HL,
        ENGINE_NATIVE,
        lambda p: p["period"] - 1 + p["signal"],
        B.fisher,
        S.FisherTransform,
        aliases=("fisher",),
    ),
    _d(
        "rvi",
        "Relative Vigor Index",
        "momentum",
        "Ehlers RVI: SWMA(close-open) summed over period / SWMA(high-low) summed; signal = "
        "SWMA(rvi). Not the Relative Volatility Index.",
        (_period(10),),
        ("rvi", "signal"),
        "rvi",
        ("open", "high", "low", "close"),
        ENGINE_NATIVE,
        lambda p: p["period"] + 5,
        B.rvi,
        S.RVI,
        aliases=("rvgi", "relative_vigor_index"),
    ),
    _d(
        "zigzag",
        "ZigZag (causal)",
        "trend",
        "Last *confirmed* swing pivot price and direction. A pivot is confirmed only once price "
        "reverses `deviation` percent from it, so it is reported with a lag (unbounded, data "
        "dependent); warm-up lasts until the first confirmation (0 bars is the minimum).",
        (_float("deviation", 5.0, 0.001, 100.0, "Reversal in percent."),),
        ("value", "direction"),
        "value",
        HL,
        ENGINE_NATIVE,
        lambda p: 0,
        B.zigzag,
        S.ZigZag,
    ),
    _d(
        "volume_ratio",
        "Volume Ratio",
        "volume",
        "volume / SMA(volume, period) (average includes the current bar).",
        (_period(20),),
        V,
        "value",
        ("volume",),
        ENGINE_TALIB,
        lambda p: p["period"] - 1,
        B.volume_ratio,
        S.VolumeRatio,
    ),
    _d(
        "distance_from_ma",
        "Distance from Moving Average",
        "trend",
        "(close - MA) / MA x 100 with an SMA or EMA (TA-Lib conventions).",
        (
            _period(20),
            ParamSpec(
                "ma_type", "str", "sma", choices=("sma", "ema"), description="Moving average type."
            ),
        ),
        V,
        "value",
        C,
        ENGINE_TALIB,
        lambda p: p["period"] - 1,
        B.distance_from_ma,
        S.DistanceFromMA,
        aliases=("ma_distance",),
    ),
    _d(
        "squeeze_intensity",
        "Squeeze Intensity",
        "volatility",
        "max(0, 1 - BB width / Keltner width): 0 = no squeeze, towards 1 = bands tightly "
        "inside the channel. BB: SMA/population stddev; KC width: 2 x multiplier x ATR.",
        (
            _int("bb_period", 20, 2),
            _float("bb_std", 2.0, 0.0, 100.0),
            _int("kc_period", 20, 1),
            _float("kc_multiplier", 1.5, 0.0, 100.0),
        ),
        V,
        "value",
        HLC,
        ENGINE_NATIVE,
        lambda p: max(p["bb_period"] - 1, p["kc_period"]),
        B.squeeze_intensity,
        S.SqueezeIntensity,
        aliases=("squeeze",),
    ),
)
