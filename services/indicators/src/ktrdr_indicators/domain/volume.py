"""Volume indicators: OBV, MFI, A/D line and volume ratio (TA-Lib) and VWAP and Chaikin money
flow (hand-written)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import talib

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain.metadata import MAX_PERIOD, Params, ParamSpec
from ktrdr_indicators.domain.registry import (
    HLCV,
    call,
    hand_written,
    period,
    talib_indicator,
    talib_period_indicator,
)
from ktrdr_indicators.domain.rolling import WinSum, ratio_or
from ktrdr_indicators.domain.streams import HandWritten, UpdateFn
from ktrdr_indicators.domain.talib_engine import TalibStream

talib_indicator(
    "obv",
    display="On-Balance Volume",
    category="volume",
    description="Cumulative signed volume; starts at the first bar's volume (TA-Lib).",
    params=(),
    calls=(call("OBV", ("close", "volume")),),
)
talib_period_indicator(
    "mfi",
    function="MFI",
    inputs=HLCV,
    display="Money Flow Index",
    category="volume",
    description="Volume-weighted RSI of typical price (0 when total flow < 1, a TA-Lib "
    "convention).",
    default=14,
)
talib_indicator(
    "ad",
    display="Accumulation/Distribution Line",
    category="volume",
    description="Cumulative close-location value x volume (TA-Lib AD).",
    params=(),
    calls=(call("AD", HLCV),),
    aliases=("adl", "accumulation_distribution"),
)


def _volume_ratio_update(stream: TalibStream, updates: Sequence[Callable[..., Any]]) -> UpdateFn:
    """Steady-state update: the operations of the ``assemble`` below (``talib_engine.Steady``)."""
    (average,) = updates
    nan = stream._nan

    def update(o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        if v - v == 0.0:
            mean = average(v)
            vals = stream._values = (v / mean if mean != 0.0 else 1.0,)
            return vals
        return nan

    return update


talib_indicator(
    "volume_ratio",
    display="Volume Ratio",
    category="volume",
    description="volume / SMA(volume, period) (average includes the current bar; 1 when the "
    "average is 0).",
    params=(period(20),),
    calls=(call("SMA", ("volume",), timeperiod="period"),),
    assemble=lambda r, o, h, lo, c, v, p: (v / r[0] if r[0] != 0.0 else 1.0,),
    assemble_batch=lambda r, bars, p: [ratio_or(bars.volume, r[0], 1.0)],
    steady=_volume_ratio_update,
)


# ------------------------------------------------------------------------------------ VWAP
def _vwap_batch(bars: Bars, *, period: int) -> list[np.ndarray]:
    tp = (bars.high + bars.low + bars.close) / 3
    v = bars.volume
    pv = tp * v
    if period == 0:
        spv, sv = np.cumsum(pv), np.cumsum(v)
    else:
        spv, sv = talib.SUM(pv, period), talib.SUM(v, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sv != 0.0, spv / sv, tp)
    out[np.isnan(spv)] = np.nan
    return [out]


@hand_written(
    "vwap",
    display="Volume Weighted Average Price",
    category="volume",
    description="sum(tp x volume) / sum(volume) over `period` bars, cumulative when period = 0; "
    "typical price when the volume sum is 0.",
    params=(
        ParamSpec(
            "period",
            "int",
            0,
            0,
            MAX_PERIOD,
            description="Rolling window in bars; 0 = cumulative.",
        ),
    ),
    inputs=HLCV,
    warmup=lambda p: max(p["period"] - 1, 0),
    batch=_vwap_batch,
)
class VWAP(HandWritten):
    """Volume-weighted average of typical price (h+lo+c)/3 over the last ``period`` bars, or
    cumulative since the first bar when ``period`` is 0. Zero volume -> typical price."""

    def _configure(self, params: Params) -> None:
        self._period: int = params["period"]

    def _reset(self) -> None:
        n = max(self._period, 1)
        self._pv = WinSum(n)
        self._v = WinSum(n)
        self._cpv = self._cv = 0.0

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        tp = (h + lo + c) / 3
        if self._period > 0:
            spv = self._pv.push(tp * v)
            sv = self._v.push(v)
            if spv != spv:
                return self._nan
        else:
            self._cpv = spv = self._cpv + tp * v
            self._cv = sv = self._cv + v
        self.initialized = True
        return (spv / sv if sv != 0.0 else tp,)


# ------------------------------------------------------------------------ Chaikin money flow
def _cmf_batch(bars: Bars, *, period: int) -> list[np.ndarray]:
    h, lo, c, v = bars.high, bars.low, bars.close, bars.volume
    r = h - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        mfv = np.where(r > 0.0, (((c - lo) - (h - c)) / r) * v, 0.0)
        smf, sv = talib.SUM(mfv, period), talib.SUM(v, period)
        out = np.where(sv != 0.0, smf / sv, 0.0)
    out[np.isnan(smf)] = np.nan
    return [out]


@hand_written(
    "cmf",
    display="Chaikin Money Flow",
    category="volume",
    description="sum(money-flow volume) / sum(volume) over `period` bars.",
    params=(period(20),),
    inputs=HLCV,
    warmup=lambda p: p["period"] - 1,
    batch=_cmf_batch,
    aliases=("chaikin_money_flow",),
)
class CMF(HandWritten):
    """Chaikin money flow: sum(money-flow volume) / sum(volume) over ``period`` (0 when the
    volume sum is 0; a flat bar's multiplier is 0)."""

    def _configure(self, params: Params) -> None:
        self._period: int = params["period"]

    def _reset(self) -> None:
        self._mf = WinSum(self._period)
        self._v = WinSum(self._period)

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        r = h - lo
        mfv = (((c - lo) - (h - c)) / r) * v if r > 0.0 else 0.0
        smf = self._mf.push(mfv)
        sv = self._v.push(v)
        if smf != smf:
            return self._nan
        self.initialized = True
        return (smf / sv if sv != 0.0 else 0.0,)
