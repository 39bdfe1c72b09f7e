"""Fuzzy service benchmark: vectorized fuzzification, streaming per bar, rule inference vs skfuzzy.

Run: ``.venv/bin/python -m bench fuzzy``. Goals: <= 100 ns per membership value
(vectorized), <= 2 us per bar for 15 memberships (streaming one bar per update; a batch of bars
in one message is fuzzified vectorised), inference >= 50x faster than skfuzzy's
ControlSystemSimulation on the same rules. The per-membership-call baseline (one comprehension
over the memberships' scalar functions per bar, the floor of ``update`` without generated code)
is measured in the same run.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import structlog

from bench._report import table, write_section
from ktrdr_core.strategy.fuzzy_sets import parse_fuzzy_sets
from ktrdr_fuzzy.domain.engine import VECTOR_MIN_BARS, FuzzyEngine
from ktrdr_fuzzy.domain.inference import FuzzyInference, build_inference_system

log = structlog.get_logger(__name__)

_KINDS = [
    lambda i: {
        "low": {"type": "triangular", "parameters": [0, 20, 40], "shoulder": "left"},
        "mid": [30, 50, 70],
        "high": {"type": "triangular", "parameters": [60, 80, 100], "shoulder": "right"},
    },
    lambda i: {
        "low": {"type": "trapezoidal", "parameters": [0, 10, 25, 40]},
        "mid": {"type": "gaussian", "parameters": [50, 12]},
        "high": {"type": "sigmoid", "parameters": [0.2, 70]},
    },
    lambda i: {
        "low": {"type": "gbell", "parameters": [15, 2, 20]},
        "mid": [30, 50, 70],
        "high": {"type": "gaussian", "parameters": [80, 10], "shoulder": "right"},
    },
]


def _sets(n: int) -> dict:
    return parse_fuzzy_sets(
        {f"ind_{i}": {"indicator": f"ind_{i}", **_KINDS[i % 3](i)} for i in range(n)}
    )


def _best(fn, repeat: int) -> float:
    """Best of ``repeat`` runs in CPU seconds of this thread (other processes do not count)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t0)
    return best


def bench_vectorized(n_bars: int = 1_000_000, n_sets: int = 15) -> tuple[int, float]:
    engine = FuzzyEngine(_sets(n_sets))
    rng = np.random.default_rng(0)
    values = {c: rng.uniform(-10, 110, n_bars) for c in engine.input_columns}
    n_values = n_bars * len(engine.column_names)
    seconds = _best(lambda: engine.fuzzify(values), 3)
    return len(engine.column_names), seconds / n_values * 1e9


def bench_streaming(
    n_bars: int = 50_000, batches: tuple[int, ...] = (100, 1000)
) -> tuple[float, float, list[float]]:
    """us per bar: one ``update`` per bar, the per-membership-call baseline, and
    ``update_many`` on messages of each of ``batches`` bars."""
    engine = FuzzyEngine(_sets(5))  # 5 sets x 3 = 15 memberships
    stream = engine.stream()
    rng = np.random.default_rng(1)
    arr = rng.uniform(-10, 110, (n_bars, 5))
    rows = arr.tolist()
    plan = [
        (engine.input_columns.index(fs.indicator), m.function.scalar)
        for fs in engine.fuzzy_sets.values()
        for m in fs.memberships
    ]

    def run() -> None:
        for row in rows:
            stream.update(row)

    def run_calls() -> None:
        for row in rows:
            xs = [float(v) for v in row]
            [f(xs[i]) for i, f in plan]

    def run_many(batch: int) -> float:
        messages = [
            dict(zip(engine.input_columns, arr[i : i + batch].T, strict=True))
            for i in range(0, n_bars, batch)
        ]

        def run_messages() -> None:
            for message in messages:
                stream.update_many(message)

        return _best(run_messages, 3) * per_bar

    per_bar = 1e6 / n_bars
    many = [run_many(batch) for batch in batches]
    return _best(run, 3) * per_bar, _best(run_calls, 3) * per_bar, many


def _inference_config() -> dict:
    return {
        "type": "mamdani",
        "inputs": {
            "rsi": {
                "universe": [0, 100],
                "terms": {"low": [0, 0, 50], "mid": [25, 50, 75], "high": [50, 100, 100]},
            },
            "trend": {
                "universe": [-1, 1],
                "terms": {"down": [-1, -1, 0], "flat": [-0.5, 0, 0.5], "up": [0, 1, 1]},
            },
        },
        "outputs": {
            "signal": {
                "universe": [-1, 1],
                "resolution": 201,
                "terms": {"sell": [-1, -1, 0], "hold": [-0.5, 0, 0.5], "buy": [0, 1, 1]},
            }
        },
        "rules": [
            "IF rsi IS low AND trend IS up THEN signal IS buy",
            "IF rsi IS high OR trend IS down THEN signal IS sell WITH 0.7",
            "IF rsi IS mid AND NOT trend IS down THEN signal IS hold",
            "IF rsi IS low AND trend IS flat THEN signal IS buy WITH 0.5",
        ],
    }


def bench_inference(n_eval: int = 300) -> tuple[float, float, float]:
    import skfuzzy as fuzz
    from skfuzzy import control as ctrl

    cfg = _inference_config()
    engine = FuzzyInference(build_inference_system(cfg))
    rsi = ctrl.Antecedent(np.linspace(0, 100, 1001), "rsi")
    trend = ctrl.Antecedent(np.linspace(-1, 1, 201), "trend")
    sig = ctrl.Consequent(np.linspace(-1, 1, 201), "signal")
    for var, key in ((rsi, "rsi"), (trend, "trend")):
        for k, p in cfg["inputs"][key]["terms"].items():
            var[k] = fuzz.trimf(var.universe, p)
    for k, p in cfg["outputs"]["signal"]["terms"].items():
        sig[k] = fuzz.trimf(sig.universe, p)
    sim = ctrl.ControlSystemSimulation(
        ctrl.ControlSystem(
            [
                ctrl.Rule(rsi["low"] & trend["up"], sig["buy"]),
                ctrl.Rule(rsi["high"] | trend["down"], sig["sell"] % 0.7),
                ctrl.Rule(rsi["mid"] & ~trend["down"], sig["hold"]),
                ctrl.Rule(rsi["low"] & trend["flat"], sig["buy"] % 0.5),
            ]
        ),
        cache=False,
    )  # repeated timing passes must not hit skfuzzy's result cache
    rng = np.random.default_rng(2)
    pts = list(
        zip(rng.uniform(0, 100, n_eval).tolist(), rng.uniform(-1, 1, n_eval).tolist(), strict=True)
    )

    def run_sk() -> None:
        for r, t in pts:
            sim.input["rsi"] = r
            sim.input["trend"] = t
            sim.compute()

    def run_ours() -> None:
        for r, t in pts:
            engine.infer({"rsi": r, "trend": t})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sk = _best(run_sk, 2) / n_eval * 1e6
    ours = _best(run_ours, 3) / n_eval * 1e6
    arr = np.array(pts)
    many = _best(lambda: engine.infer_many({"rsi": arr[:, 0], "trend": arr[:, 1]}), 3)
    return sk, ours, many / n_eval * 1e6


def _mode(bars: int) -> str:
    return "vectorised" if bars >= VECTOR_MIN_BARS else "row by row"


def main() -> None:
    n_mf, ns_per_value = bench_vectorized()
    us_per_bar, us_calls, (us_many_100, us_many_1000) = bench_streaming()
    sk_us, ours_us, many_us = bench_inference()
    ratio = sk_us / ours_us
    rows = [
        [
            f"vectorized fuzzify, 15 sets / {n_mf} memberships x 1M bars",
            "ns per value",
            f"{ns_per_value:.1f}",
            "<= 100",
            "yes" if ns_per_value <= 100 else "no",
        ],
        [
            "streaming update, 15 memberships, one bar per update",
            "us per bar",
            f"{us_per_bar:.2f}",
            "<= 2",
            "yes" if us_per_bar <= 2 else "no",
        ],
        [
            "baseline: a comprehension over the 15 scalar functions",
            "us per bar",
            f"{us_calls:.2f}",
            "",
            f"update takes {us_per_bar / us_calls:.2f}x the baseline",
        ],
        [
            f"streaming update_many, 15 memberships, 100 bars per message ({_mode(100)})",
            "us per bar",
            f"{us_many_100:.2f}",
            "<= 2",
            "yes" if us_many_100 <= 2 else "no",
        ],
        [
            f"streaming update_many, 15 memberships, 1000 bars per message ({_mode(1000)})",
            "us per bar",
            f"{us_many_1000:.2f}",
            "<= 2",
            "yes" if us_many_1000 <= 2 else "no",
        ],
        ["skfuzzy ControlSystemSimulation (4 rules)", "us per evaluation", f"{sk_us:.0f}", "", ""],
        [
            "FuzzyInference.infer (same rules)",
            "us per evaluation",
            f"{ours_us:.1f}",
            ">= 50x faster",
            f"{ratio:.0f}x {'yes' if ratio >= 50 else 'no'}",
        ],
        [
            "FuzzyInference.infer_many (vectorized)",
            "us per evaluation",
            f"{many_us:.2f}",
            "",
            f"{sk_us / many_us:.0f}x",
        ],
    ]
    body = table(["case", "unit", "value", "goal", "met"], rows)
    sys.stdout.write(body + "\n")
    log.info("bench_fuzzy", ns_per_value=ns_per_value, us_per_bar=us_per_bar, inference_ratio=ratio)
    write_section("fuzzy", "Fuzzy service", body, "python -m bench fuzzy")


if __name__ == "__main__":
    main()
