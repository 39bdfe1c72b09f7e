"""Breadth: the rest of pandas-ta-classic's catalogue behind the same API.

Discovery (``python -m ktrdr_indicators.domain.pta`` rewrites ``pta_catalogue.json``)
introspects every function in ``pandas_ta_classic.Category``: inputs from the signature
(open_/high/low/close/volume), parameter types from the annotations, defaults from the
docstrings (``Default: x``), outputs from the column names of a run at defaults. A function is
exposed only if, on the real GOOG sample, it runs, returns one numeric row per bar, is not all
NaN and is *causal* (computing on a prefix gives the same values as on the full series - this
rejects centred / look-ahead outputs). Functions the native catalogue already implements are
skipped; ``offset`` (shifting) and look-ahead switches are not exposed.

Streaming is by bounded-window recompute: the last ``lookback`` valid bars are kept and the
function is re-run on them for every bar (take the last row). For finite-memory indicators
(``window_exact`` in the JSON) this equals batch exactly; for recursive ones (EMA-like) it is
an approximation that converges with the window length (lookback = max(100, 4 x (warmup + 1))).
"""

from __future__ import annotations

import inspect
import json
import re
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from ktrdr_core.bars import Bars
from ktrdr_indicators.domain import errors as E
from ktrdr_indicators.domain.bars import random_walk_bars
from ktrdr_indicators.domain.metadata import (
    ENGINE_PTA,
    MAX_PERIOD,
    STREAM_WINDOW,
    IndicatorInfo,
    Params,
    ParamSpec,
)
from ktrdr_indicators.domain.streams import HandWritten, StreamingIndicator

Columns = Mapping[str, np.ndarray]

log = structlog.get_logger(__name__)

CATALOGUE_FILE = Path(__file__).with_name("pta_catalogue.json")
_INPUT_ARGS = {"open_": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"}
_HIDDEN = {"offset", "talib", "kwargs", "centered", "lookahead"}
_FORCED = {"centered": False, "lookahead": False}
_CATEGORY = {
    "overlap": "trend",
    "trend": "trend",
    "statistics": "volatility",
    "cycles": "momentum",
    "performance": "momentum",
    "volatility": "volatility",
    "volume": "volume",
    "candles": "trend",
    "momentum": "momentum",
}
#: pandas-ta names the native catalogue covers (same indicator) - not exposed twice.
_NATIVE_EQUIVALENT = {
    "sma",
    "ema",
    "wma",
    "rsi",
    "macd",
    "bbands",
    "atr",
    "stoch",
    "adx",
    "cci",
    "willr",
    "roc",
    "mom",
    "obv",
    "mfi",
    "vwap",
    "cmf",
    "ad",
    "kc",
    "donchian",
    "supertrend",
    "psar",
    "ichimoku",
    "aroon",
    "fisher",
    "rvgi",
}
#: pandas-ta names that collide with a *different* native indicator.
_RENAME = {"rvi": "rvi_volatility", "squeeze": "squeeze_ttm"}
_SKIP = {"cdl_pattern", "vp", "ma", "mavp", "long_run", "short_run", "tsignals", "xsignals"}


@dataclass(frozen=True)
class PtaDef:
    """A pandas-ta-classic function exposed through the catalogue."""

    info: IndicatorInfo
    function: str
    arg_inputs: tuple[tuple[str, str], ...]  # (pandas-ta argument, bar column)
    window_exact: bool

    def batch(self, bars: Bars, params: Params) -> list[np.ndarray]:
        """Every output over whole columns (the inputs it reads are all finite)."""
        return self.run({c: bars.column(c) for c in self.info.inputs}, params)

    def run(self, cols: Columns, params: Params) -> list[np.ndarray]:
        """The pandas-ta function over the input columns ``cols``, one array per output."""
        n = len(cols[self.info.inputs[0]])
        out = _call(self.function, self.arg_inputs, cols, params)
        k = len(self.info.outputs)
        if out is None:
            return [np.full(n, np.nan) for _ in range(k)]
        if out.shape[1] != k:
            raise E.ValidationError(
                E.ENGINE_REJECTED,
                f"pandas-ta-classic '{self.function}' returned {out.shape[1]} outputs for these "
                f"parameters instead of {k}.",
                field="parameters",
            )
        return [out[:, j].copy() for j in range(k)]

    def make_stream(self, params: Params) -> StreamingIndicator:
        """A fresh window-recompute streaming object for ``params``."""
        return _stream_class(self)(**params)


def _call(
    function: str, arg_inputs: tuple[tuple[str, str], ...], cols: Columns, params: Params
) -> np.ndarray | None:
    import pandas as pd
    import pandas_ta_classic as ta

    n = len(cols[arg_inputs[0][1]])
    index = pd.RangeIndex(n)
    args = {arg: pd.Series(cols[col], index=index, name=col) for arg, col in arg_inputs}
    kwargs = {**params, **{k: v for k, v in _FORCED.items() if k in _signature(function)}}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = getattr(ta, function)(**args, **kwargs)
    except Exception as exc:
        raise E.ValidationError(
            E.ENGINE_REJECTED,
            f"pandas-ta-classic '{function}' failed with parameters {dict(params)}: {exc}",
            field="parameters",
        ) from exc
    if res is None:
        return None
    frame = res.to_frame() if isinstance(res, pd.Series) else res
    if len(frame) != n:
        raise E.ValidationError(
            E.ENGINE_REJECTED,
            f"pandas-ta-classic '{function}' returned {len(frame)} rows for {n} bars.",
            field="parameters",
        )
    return frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)


@cache
def _signature(function: str) -> tuple[str, ...]:
    import pandas_ta_classic as ta

    return tuple(inspect.signature(getattr(ta, function)).parameters)


_STREAM_CLASSES: dict[str, type[_WindowRecompute]] = {}


def _stream_class(d: PtaDef) -> type[_WindowRecompute]:
    cls = _STREAM_CLASSES.get(d.info.name)
    if cls is None:
        name = "Pta" + "".join(p.capitalize() for p in d.info.name.split("_"))
        cls = type(name, (_WindowRecompute,), {"registration": d.info, "_def": d})
        _STREAM_CLASSES[d.info.name] = cls
    return cls


class _WindowRecompute(HandWritten):
    """Keeps the last ``lookback`` valid bars and recomputes the batch function on them."""

    _def: PtaDef

    def _reset(self) -> None:
        n = self.info.lookback(self.params)
        self._bars: dict[str, deque[float]] = {f: deque(maxlen=n) for f in self.info.inputs}

    def _step(self, o: float, h: float, lo: float, c: float, v: float) -> tuple[float, ...]:
        bar = {"open": o, "high": h, "low": lo, "close": c, "volume": v}
        for f, dq in self._bars.items():
            dq.append(bar[f])
        cols = {f: np.fromiter(dq, np.float64, len(dq)) for f, dq in self._bars.items()}
        outs = self._def.run(cols, self.params)
        vals = tuple(float(a[-1]) for a in outs)
        if not self.initialized and vals[0] == vals[0]:
            self.initialized = True
        return vals if self.initialized else self._nan


# ------------------------------------------------------------------------ catalogue loading
def _reference_bars(n: int) -> Columns:
    bars = random_walk_bars(n, seed=7, volatility=0.01, spread=0.005, min_volume=1_000)
    return {c: bars.column(c) for c in ("open", "high", "low", "close", "volume")}


def _make_warmup(
    function: str, arg_inputs: tuple[tuple[str, str], ...], default_warmup: int
) -> Callable[[Params], int]:
    @lru_cache(maxsize=256)
    def warm(items: tuple[tuple[str, Any], ...]) -> int:
        params = dict(items)
        n = max(400, 3 * max([v for v in params.values() if isinstance(v, int)] or [1]) + 100)
        try:
            out = _call(function, arg_inputs, _reference_bars(n), params)
        except E.ValidationError:
            return default_warmup
        if out is None:
            return n
        finite = np.flatnonzero(~np.isnan(out[:, 0]))
        return int(finite[0]) if len(finite) else n

    def warmup(params: Params) -> int:
        return warm(tuple(sorted(params.items())))

    return warmup


def _bounded(param: dict[str, Any]) -> float | None:
    """An int parameter's upper bound, capped at :data:`MAX_PERIOD` (ints size the work)."""
    if param["type"] != "int":
        return param.get("maximum")  # type: ignore[no-any-return]
    return min(param.get("maximum", MAX_PERIOD), MAX_PERIOD)  # type: ignore[no-any-return]


def _window_length(warmup: Callable[[Params], int]) -> Callable[[Params], int]:
    """Bars kept by window-recompute streaming: ``max(100, 4 * (warmup + 1))``."""

    def lookback(params: Params) -> int:
        return max(100, 4 * (warmup(params) + 1))

    return lookback


def _def_from_json(rec: dict[str, Any]) -> PtaDef:
    params = tuple(
        ParamSpec(
            p["name"],
            p["type"],
            p["default"],
            p.get("minimum"),
            _bounded(p),
            tuple(p.get("choices", ())),
            p.get("description", ""),
        )
        for p in rec["params"]
    )
    arg_inputs = tuple((a, c) for a, c in rec["arg_inputs"])
    warmup = _make_warmup(rec["function"], arg_inputs, rec["warmup"])
    exact = rec["window_exact"]
    desc = (
        f"{rec['description']} [pandas-ta-classic '{rec['function']}', group "
        f"'{rec['group']}'; window-recompute streaming is "
        f"{'exact' if exact else 'an approximation of batch (recursive indicator)'}.]"
    )
    info = IndicatorInfo(
        name=rec["name"],
        display_name=rec["display_name"],
        category=rec["category"],
        description=desc,
        params=params,
        outputs=tuple(rec["outputs"]),
        primary_output=rec["outputs"][0],
        inputs=tuple(rec["inputs"]),
        engine=ENGINE_PTA,
        streaming=STREAM_WINDOW,
        warmup_fn=warmup,
        lookback_fn=_window_length(warmup),
    )
    return PtaDef(info, rec["function"], arg_inputs, exact)


@lru_cache(maxsize=1)
def definitions() -> tuple[PtaDef, ...]:
    """The exposed pandas-ta-classic indicators (from ``pta_catalogue.json``)."""
    if not CATALOGUE_FILE.exists():
        log.warning("pta_catalogue_missing", path=str(CATALOGUE_FILE))
        return ()
    records = json.loads(CATALOGUE_FILE.read_text())
    return tuple(_def_from_json(r) for r in records)


# ------------------------------------------------------------------------------ discovery
_DOC_DEFAULT = re.compile(r"^\s*(\w+)\s*\(([^)]*)\):(.*?)Default:\s*([^\s,]+)", re.M | re.S)
_TYPES = {"int": "int", "float": "float", "str": "str", "bool": "bool"}


def _param_type(annotation: Any) -> str | None:
    text = str(annotation)
    for t in ("bool", "int", "float", "str"):
        if re.search(rf"\b{t}\b", text):
            return t
    return None


def _doc_defaults(doc: str) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for line in doc.splitlines():
        m = re.match(r"^\s*(\w+)\s*\(([^)]*)\):\s*(.*)$", line)
        if m:
            d = re.search(r"Default:\s*['\"]?([^\s'\",]+)", m.group(3))
            if d:
                out[m.group(1)] = (d.group(1).rstrip("."), m.group(3).split(". Default")[0])
    return out


def _convert(value: str, t: str) -> Any:
    if t == "bool":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(value)
    if t == "int":
        f = float(value)
        if not f.is_integer():
            raise ValueError(value)
        return int(f)
    if t == "float":
        return float(value)
    return value


def _output_names(columns: list[str]) -> list[str]:
    names: list[str] = []
    for col in columns:
        base = re.sub(r"_-?\d+(\.\d+)?", "", str(col))
        base = re.sub(r"[^0-9a-zA-Z]+", "_", base).strip("_")
        base = base.lower() or "value"
        while base in names:
            base += "_"
        names.append(base)
    return names


def discover(write: bool = True) -> list[dict[str, Any]]:
    """Introspect pandas-ta-classic and (optionally) rewrite ``pta_catalogue.json``."""
    import pandas_ta_classic as ta
    from backtesting.test import GOOG

    full = {k.lower(): GOOG[k].to_numpy(np.float64) for k in GOOG.columns}
    records: list[dict[str, Any]] = []
    for group, names in ta.Category.items():
        for fname in names:
            name = _RENAME.get(fname, fname)
            if fname in _NATIVE_EQUIVALENT or fname in _SKIP or not hasattr(ta, fname):
                continue
            rec = _introspect(ta, fname, name, group, full)
            if rec is not None:
                records.append(rec)
    records.sort(key=lambda r: r["name"])
    if write:
        CATALOGUE_FILE.write_text(json.dumps(records, indent=1) + "\n")
    log.info("pta_discovered", exposed=len(records))
    return records


def _introspect(ta, fname: str, name: str, group: str, full) -> dict[str, Any] | None:
    fn = getattr(ta, fname)
    sig = inspect.signature(fn)
    doc = fn.__doc__ or ""
    docs = _doc_defaults(doc)
    arg_inputs: list[tuple[str, str]] = []
    params: list[dict[str, Any]] = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in _HIDDEN:
            continue
        if p.name in _INPUT_ARGS:
            arg_inputs.append((p.name, _INPUT_ARGS[p.name]))
            continue
        t = _param_type(p.annotation)
        default = p.default if p.default is not inspect.Parameter.empty else None
        desc = ""
        if p.name in docs:
            raw, desc = docs[p.name]
            try:
                default = _convert(raw, t) if t else None
            except ValueError:
                default = default if default is not None else None
        if p.default is inspect.Parameter.empty and default is None:
            return None  # needs an extra series or a required argument
        if t is None or default is None or (t == "int" and isinstance(default, bool)):
            continue  # cannot describe it: leave pandas-ta's own default
        spec: dict[str, Any] = {
            "name": p.name,
            "type": t,
            "default": default,
            "description": desc.strip()[:200],
        }
        if t == "int":
            spec["minimum"], spec["maximum"] = (0 if default == 0 else 1), MAX_PERIOD
        params.append(spec)
    if not arg_inputs:
        return None
    inputs = tuple(dict.fromkeys(c for _, c in arg_inputs))
    arg_inputs_t = tuple(arg_inputs)
    defaults = {p["name"]: p["default"] for p in params}
    try:
        out = _call(fname, arg_inputs_t, full, defaults)
        if out is None or not np.isfinite(out).any():
            return None
        res = getattr(ta, fname)(
            **{a: __import__("pandas").Series(full[c]) for a, c in arg_inputs}, **defaults
        )
        columns = [res.name] if res.ndim == 1 else list(res.columns)
        # causality: a prefix must reproduce the full-series values
        for m in (300, 1100):
            pre = _call(fname, arg_inputs_t, {k: v[:m] for k, v in full.items()}, defaults)
            if pre is None or not np.allclose(pre, out[:m], rtol=1e-7, atol=1e-9, equal_nan=True):
                return None
    except Exception as exc:
        log.debug("pta_skip", function=fname, error=str(exc))
        return None
    primary = out[:, 0]
    finite = np.flatnonzero(~np.isnan(primary))
    if not len(finite):
        return None
    warm = int(finite[0])
    lookback = max(100, 4 * (warm + 1))
    # window-exact: recomputing on the last `lookback` bars reproduces batch at a few bars
    exact = True
    for at in (lookback + 50, 1500, len(primary) - 1):
        window = {k: v[at + 1 - lookback : at + 1] for k, v in full.items()}
        win = _call(fname, arg_inputs_t, window, defaults)
        if win is None or not np.allclose(win[-1], out[at], rtol=1e-9, atol=1e-12, equal_nan=True):
            exact = False
            break
    title = (doc.strip().splitlines() or [fname])[0].strip()
    return {
        "name": name,
        "function": fname,
        "group": group,
        "category": _CATEGORY[group],
        "display_name": title[:80],
        "description": title[:200],
        "inputs": list(inputs),
        "arg_inputs": [list(x) for x in arg_inputs],
        "params": params,
        "outputs": _output_names(columns),
        "warmup": warm,
        "window_exact": exact,
    }


if __name__ == "__main__":  # pragma: no cover
    recs = discover()
    import sys

    sys.stdout.write(f"{len(recs)} exposed\n")
