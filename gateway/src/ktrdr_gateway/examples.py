"""One working example request per REST operation: the source of every example in docs/api.

Each example runs as written against a fresh local mesh (``ktrdr mesh up``) on the bundled
data — EURUSD 1h from 2017-04-19 to 2018-02-07, GOOG 1d from 2004-08-19 to 2013-03-01 — and
the strategies in ``strategies/``; ``tests/integration/test_api_examples.py`` sends each one
through the real edge. Examples run in the order below, so one may use what an earlier one
created (the import creates the ``EXAMPLE`` series).

``openapi`` puts them in ``docs/api/openapi.json`` (request body and parameter examples) and
renders each as a ``curl`` command in ``docs/api/README.md``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlencode

from ktrdr_gateway.contracts import HttpRoute

BASE_URL = "http://127.0.0.1:8080"
RANGE = {"startDate": "2017-06-01", "endDate": "2017-06-02"}
STRATEGY = "rsi_trend_eurusd_1h"
RSI_SYSTEM: dict[str, Any] = {
    "inputs": [
        {
            "name": "rsi",
            "minimum": 0,
            "maximum": 100,
            "terms": [
                {
                    "name": "oversold",
                    "type": "triangular",
                    "parameters": [0, 25, 40],
                    "shoulder": "left",
                },
                {
                    "name": "overbought",
                    "type": "triangular",
                    "parameters": [60, 75, 100],
                    "shoulder": "right",
                },
            ],
        }
    ],
    "output": {
        "name": "signal",
        "minimum": -1,
        "maximum": 1,
        "terms": [
            {"name": "sell", "type": "triangular", "parameters": [-1, -1, 0]},
            {"name": "buy", "type": "triangular", "parameters": [0, 1, 1]},
        ],
    },
    "rules": ["IF rsi IS oversold THEN signal IS buy", "IF rsi IS overbought THEN signal IS sell"],
    "method": "INFERENCE_METHOD_MAMDANI",
}


@dataclasses.dataclass(frozen=True)
class Started:
    """A REST stream an example starts first and leaves running (``POST path`` with ``body``).

    The stream's first message defines the shell variable ``variable`` (its JSON field
    ``field``); the stream is then closed, and the work it started goes on (a training outlives
    its TrainModel call), so the example acts on work still in progress.
    """

    path: str
    body: Mapping[str, Any]
    variable: str
    field: str

    def curl(self, *, base_url: str = BASE_URL) -> str:
        """The shell line that starts the stream and sets the variable from its first line."""
        body = shlex.quote(json.dumps(self.body))
        pick = shlex.quote(f's/.*"{self.field}": *"([^"]+)".*/\\1/')
        return (
            f'{self.variable}=$(curl -sN -H "x-api-key: $KEY" \\\n'
            f"     -H 'content-type: application/json' -d {body} \\\n"
            f'     "{base_url}{self.path}" | head -1 | sed -E {pick})'
        )


@dataclasses.dataclass(frozen=True)
class Example:
    """One example request: path parameters, query parameters and JSON body.

    ``needs`` says what else the example needs to succeed (shown in the docs), e.g. a
    connected TWS; the test then also accepts the service's "unavailable" answer.
    ``captures`` names shell variables taken from the answer (variable -> JSON field, found
    anywhere in the answer, the last message of a stream); later examples use them in path
    parameters as ``$VARIABLE``. ``starts`` is a stream started (and left running) just
    before the example, whose variable the example uses.
    """

    path: Mapping[str, str] = dataclasses.field(default_factory=dict)
    query: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    needs: str = ""
    captures: Mapping[str, str] = dataclasses.field(default_factory=dict)
    starts: Started | None = None


_EXAMPLES: dict[str, Example] = {
    # data
    "/ktrdr.data.v1.DataService/ListTimeframes": Example(),
    "/ktrdr.data.v1.DataService/ListSymbols": Example(),
    "/ktrdr.data.v1.DataService/GetDataInfo": Example(path={"symbol": "EURUSD", "timeframe": "1h"}),
    "/ktrdr.data.v1.DataService/LoadData": Example(
        body={"symbol": "EURUSD", "timeframe": "1h", **RANGE, "mode": "LOAD_MODE_LOCAL"}
    ),
    "/ktrdr.data.v1.DataService/StreamBars": Example(
        body={"symbol": "GOOG", "timeframe": "1d", "startDate": "2013-01-02", "batchSize": 20}
    ),
    "/ktrdr.data.v1.DataService/AnalyzeGaps": Example(
        path={"symbol": "EURUSD", "timeframe": "1h"},
        query={"startDate": "2017-06-01", "endDate": "2017-07-01", "includeExpected": True},
    ),
    "/ktrdr.data.v1.DataService/ExportBars": Example(
        path={"symbol": "GOOG", "timeframe": "1d"},
        query={"startDate": "2013-02-25", "endDate": "2013-03-02"},
    ),
    "/ktrdr.data.v1.DataService/ImportBars": Example(
        body={
            "symbol": "EXAMPLE",
            "timeframe": "1d",
            "csvContent": (
                "Date,Open,High,Low,Close,Volume\n"
                "2024-01-02,100.0,101.5,99.5,101.0,12000\n"
                "2024-01-03,101.0,102.0,100.2,100.8,9800\n"
                "2024-01-04,100.8,103.1,100.5,102.9,15100\n"
            ),
        }
    ),
    "/ktrdr.data.v1.DataService/GetSymbolMetadata": Example(path={"symbol": "EURUSD"}),
    "/ktrdr.data.v1.DataService/UpdateSymbolMetadata": Example(
        path={"symbol": "EXAMPLE"},
        body={
            "instrument": {
                "instrumentType": "INSTRUMENT_TYPE_STOCK",
                "exchange": "NYSE",
                "currency": "USD",
                "calendar": "us_equity",
            }
        },
    ),
    "/ktrdr.data.v1.DataService/ReplaceSeries": Example(
        path={"symbol": "EXAMPLE", "timeframe": "1d"},
        body={
            "csvContent": (
                "Date,Open,High,Low,Close,Volume\n"
                "2024-01-02,100.0,101.5,99.5,101.0,12000\n"
                "2024-01-03,101.0,102.0,100.2,100.8,9800\n"
            ),
        },
    ),
    "/ktrdr.data.v1.DataService/DeleteSeries": Example(
        path={"symbol": "EXAMPLE", "timeframe": "1d"}
    ),
    # indicators
    "/ktrdr.indicators.v1.IndicatorService/ListIndicators": Example(query={"category": "momentum"}),
    "/ktrdr.indicators.v1.IndicatorService/GetIndicatorInfo": Example(path={"name": "macd"}),
    "/ktrdr.indicators.v1.IndicatorService/CalculateIndicator": Example(
        body={
            "indicator": "rsi",
            "parameters": {"period": 14},
            "source": {"symbol": "EURUSD", "timeframe": "1h", **RANGE},
        }
    ),
    "/ktrdr.indicators.v1.IndicatorService/ValidateIndicator": Example(
        body={"indicator": "macd", "parameters": {"fast": 12, "slow": 26, "signal": 9}}
    ),
    # fuzzy
    "/ktrdr.fuzzy.v1.FuzzyService/ListFuzzySets": Example(query={"strategy": STRATEGY}),
    "/ktrdr.fuzzy.v1.FuzzyService/GetFuzzySets": Example(path={"symbol": "EURUSD"}),
    "/ktrdr.fuzzy.v1.FuzzyService/EvaluateMembership": Example(
        body={"strategy": STRATEGY, "fuzzySet": "rsi_14", "values": [20, 50, 80]}
    ),
    "/ktrdr.fuzzy.v1.FuzzyService/CalculateFuzzy": Example(
        body={"symbol": "EURUSD", "timeframe": "1h", "strategy": STRATEGY, **RANGE}
    ),
    "/ktrdr.fuzzy.v1.FuzzyService/Infer": Example(
        body={"system": RSI_SYSTEM, "inputs": {"rsi": 22}}
    ),
    # neural
    "/ktrdr.neural.v1.NeuralService/TrainModel": Example(
        body={
            "strategy": STRATEGY,
            "symbols": ["EURUSD"],
            "startDate": "2017-04-19",
            "endDate": "2017-12-01",
        },
        captures={"TRAINING_ID": "trainingId", "MODEL": "modelName"},
    ),
    "/ktrdr.neural.v1.NeuralService/GetTraining": Example(path={"training_id": "$TRAINING_ID"}),
    # The training above has ended: cancel one started (and left running) for the purpose.
    "/ktrdr.neural.v1.NeuralService/CancelTraining": Example(
        path={"training_id": "$RUNNING_TRAINING_ID"},
        body={},
        starts=Started(
            path="/api/v1/models/train",
            body={
                "strategy": STRATEGY,
                "symbols": ["EURUSD"],
                "startDate": "2017-04-19",
                "endDate": "2017-12-01",
                "config": {"epochs": 10_000, "early_stopping": False},
            },
            variable="RUNNING_TRAINING_ID",
            field="trainingId",
        ),
    ),
    "/ktrdr.neural.v1.NeuralService/ListModels": Example(query={"strategy": STRATEGY}),
    "/ktrdr.neural.v1.NeuralService/GetModel": Example(path={"name": "$MODEL"}),
    "/ktrdr.neural.v1.NeuralService/Predict": Example(
        body={"model": STRATEGY, "symbol": "EURUSD", "timeframe": "1h", **RANGE}
    ),
    # backtest
    "/ktrdr.backtest.v1.BacktestService/ListStrategies": Example(),
    "/ktrdr.backtest.v1.BacktestService/GetStrategy": Example(path={"strategy_id": STRATEGY}),
    "/ktrdr.backtest.v1.BacktestService/ValidateStrategy": Example(
        path={"strategy_id": STRATEGY}, body={}
    ),
    "/ktrdr.backtest.v1.BacktestService/RunBacktest": Example(
        path={"strategy_id": STRATEGY},
        body={
            "symbol": "EURUSD",
            "timeframe": "1h",
            "startDate": "2017-12-01",
            "endDate": "2018-02-01",
        },
        captures={"BACKTEST_ID": "backtestId"},
    ),
    "/ktrdr.backtest.v1.BacktestService/ListBacktests": Example(query={"strategyId": STRATEGY}),
    "/ktrdr.backtest.v1.BacktestService/GetBacktest": Example(path={"backtest_id": "$BACKTEST_ID"}),
    "/ktrdr.backtest.v1.BacktestService/ListTrades": Example(path={"backtest_id": "$BACKTEST_ID"}),
    "/ktrdr.backtest.v1.BacktestService/GetEquityCurve": Example(
        path={"backtest_id": "$BACKTEST_ID"}
    ),
    "/ktrdr.backtest.v1.BacktestService/GetStrategyPerformance": Example(
        path={"strategy_id": STRATEGY}
    ),
    # one rolling window: train on 1500 bars (2 epochs), skip the purge and embargo (the label
    # horizon, 20 bars, each), test on the next 500
    "/ktrdr.backtest.v1.BacktestService/RunWalkForward": Example(
        path={"strategy_id": STRATEGY},
        body={
            "symbol": "EURUSD",
            "startDate": "2017-04-19",
            "endDate": "2018-02-08",
            "mode": "WALK_FORWARD_MODE_ROLLING",
            "trainBars": 1500,
            "testBars": 500,
            "maxWindows": 1,
            "trainingOverrides": {"epochs": 2},
        },
        captures={"WALK_FORWARD_ID": "walkForwardId"},
    ),
    # deleting the model trained above comes after the backtest that may use it
    "/ktrdr.neural.v1.NeuralService/DeleteModel": Example(path={"name": "$MODEL"}),
    # ib_gateway (needs TWS / IB Gateway)
    "/ktrdr.ib_gateway.v1.IbGatewayService/GetStatus": Example(),
    "/ktrdr.ib_gateway.v1.IbGatewayService/GetHealth": Example(
        needs="a connected TWS or IB Gateway"
    ),
    "/ktrdr.ib_gateway.v1.IbGatewayService/QualifyContract": Example(
        body={"symbol": "EURUSD", "exchange": "IDEALPRO", "currency": "USD"},
        needs="a connected TWS or IB Gateway",
    ),
    "/ktrdr.ib_gateway.v1.IbGatewayService/GetHeadTimestamp": Example(
        query={"symbol": "EURUSD", "timeframe": "1h"}, needs="a connected TWS or IB Gateway"
    ),
}
EXAMPLES: Mapping[str, Example] = MappingProxyType(_EXAMPLES)


def grpc_path(route: HttpRoute) -> str:
    return f"/{route.grpc_service}/{route.rpc}"


def example_for(route: HttpRoute) -> Example:
    """The route's example; KeyError naming the route when there is none."""
    try:
        return EXAMPLES[grpc_path(route)]
    except KeyError:
        raise KeyError(f"no example for {route.verb} {route.path} ({grpc_path(route)})") from None


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def url_path(route: HttpRoute, example: Example, variables: Mapping[str, str] | None = None) -> str:
    """The route's path with the example's path parameters and query string filled in.

    ``$VARIABLE`` path values are replaced from ``variables`` when given (else kept, for docs).
    """

    def value(match: re.Match[str]) -> str:
        raw = example.path[match.group(1)]
        if variables is not None and raw.startswith("$"):
            return quote(variables.get(raw[1:], "unknown"), safe="")
        return raw

    path = re.sub(r"\{([^}]+)\}", value, route.path)
    if example.query:
        path += "?" + urlencode({k: _query_value(v) for k, v in example.query.items()})
    return path


def curl(route: HttpRoute, example: Example, *, base_url: str = BASE_URL) -> str:
    """The example as a shell command (``$KEY`` holds an API key), after the line starting
    its ``starts`` stream if it has one."""
    parts = ["curl -s"]
    if route.verb != "GET" and (route.verb != "POST" or example.body is None):
        parts.append(f"-X {route.verb}")
    parts.append('-H "x-api-key: $KEY"')
    lines = [" ".join(parts)]
    if example.body is not None:
        body = json.dumps(example.body)
        lines.append(f"-H 'content-type: application/json' -d {shlex.quote(body)}")
    lines.append(f'"{base_url}{url_path(route, example)}"')  # double quotes: $VARIABLEs expand
    command = " \\\n     ".join(lines)
    if example.starts is None:
        return command
    return f"{example.starts.curl(base_url=base_url)}\n{command}"


def captured(answer: Any, captures: Mapping[str, str]) -> dict[str, str]:
    """The variables an example's answer defines (see :class:`Example`)."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, val in node.items():
                for variable, field in captures.items():
                    if key == field and isinstance(val, str) and val:
                        found[variable] = val
                walk(val)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(answer)
    return found
