"""Sync and async clients of the KTRDR REST API (through the Envoy edge).

The key comes from the ``api_key`` argument, else ``KTRDR_API_KEY``, else the local
development key file ``$KTRDR_HOME/gateway/dev-admin.key`` that ``ktrdr mesh up`` creates.
The base URL from ``base_url``, else ``KTRDR_API_URL``, else ``http://127.0.0.1:8080``.
503 answers are retried with exponential backoff (bounded); every other error raises the
matching class from :mod:`ktrdr_client.errors`.

Streams (newline-delimited JSON) raise too, never end quietly: an error before the first
message is the HTTP error; one after it arrives as a last ``{"error": status}`` line and
raises its class; a body cut off (the connection dropped, a line left unfinished) raises
:class:`~ktrdr_client.errors.StreamInterruptedError` (``CLIENT-002``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from ktrdr_client import models
from ktrdr_client.errors import (
    StreamInterruptedError,
    UnavailableError,
    error_from_response,
    error_from_status,
)

DEFAULT_URL = "http://127.0.0.1:8080"


def default_home() -> Path:
    return Path(os.environ.get("KTRDR_HOME") or Path.home() / ".ktrdr").expanduser()


def resolve_key(api_key: str | None = None, home: Path | None = None) -> str | None:
    """The API key to use: argument, ``KTRDR_API_KEY``, or the local dev key file."""
    if api_key:
        return api_key
    if os.environ.get("KTRDR_API_KEY"):
        return os.environ["KTRDR_API_KEY"]
    path = (home or default_home()) / "gateway" / "dev-admin.key"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _query(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v is None or v == "":
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else v
    return out


def proto_enum(prefix: str, value: str) -> str:
    """An enum value in the API's form: ``local`` or ``LOAD_MODE_LOCAL`` -> ``LOAD_MODE_LOCAL``.

    ``prefix`` is the enum's value prefix (``LOAD_MODE``); empty stays empty (the default).
    """
    if not value:
        return ""
    upper = value.strip().upper().replace("-", "_")
    return upper if upper.startswith(prefix + "_") else f"{prefix}_{upper}"


def _unreachable(base_url: httpx.URL, exc: httpx.TransportError) -> UnavailableError:
    """A transport failure (refused, reset, timed out) as the API's 503 error kind."""
    return UnavailableError(
        503,
        f"Cannot reach the KTRDR API at {base_url}: {exc}. Is the mesh up (`ktrdr mesh up`)?",
        code="CLIENT-001",
    )


_STATUS_KEYS = {"code", "message", "details"}


class _StreamReader:
    """Reads one NDJSON stream: each line a message, an error line or a cut-off raises."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.received = 0

    def item(self, line: str) -> Any:
        """One message of the stream; a ``{"error": status}`` line (or a bare status) raises."""
        try:
            item = json.loads(line)
        except ValueError:
            raise self.cut(f"an unfinished line ({len(line)} characters)") from None
        if isinstance(item, dict) and set(item) == {"error"}:
            raise error_from_status(item["error"])
        if isinstance(item, dict) and item and set(item) <= _STATUS_KEYS and "message" in item:
            raise error_from_status(item)
        self.received += 1
        return item

    def cut(self, why: object) -> StreamInterruptedError:
        return StreamInterruptedError(
            f"The stream from {self.path} was cut off after {self.received} message(s) "
            f"({why}); what arrived is not the whole answer.",
            received=self.received,
        )

    def failed(self, exc: httpx.TransportError, base_url: httpx.URL, started: bool) -> Exception:
        """A transport error: cut off once the answer had begun, else unreachable."""
        return self.cut(exc) if started else _unreachable(base_url, exc)


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code < 400:
        return
    try:
        body = resp.json()
    except ValueError:
        body = None
    raise error_from_response(resp.status_code, body, resp.text)


class _Base:
    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        timeout: float,
        retries: int,
        backoff: float,
        home: Path | None,
    ) -> None:
        self.base_url = (base_url or os.environ.get("KTRDR_API_URL") or DEFAULT_URL).rstrip("/")
        self._key = resolve_key(api_key, home)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff

    def _headers(self) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if self._key:
            headers["x-api-key"] = self._key
        return headers

    def _delay(self, attempt: int) -> float:
        return min(self.backoff * (2**attempt), 5.0)


def _identity(data: Any) -> Any:
    return data


def _many(key: str, cls: Any) -> Callable[[Any], list[Any]]:
    return lambda data: [cls.from_json(x) for x in (data or {}).get(key) or []]


def _one(key: str, cls: Any) -> Callable[[Any], Any]:
    return lambda data: cls.from_json((data or {}).get(key) or {})


def _page(key: str, cls: Any) -> Callable[[Any], models.Page]:
    def parse(data: Any) -> models.Page:
        data = data or {}
        return models.Page(
            [cls.from_json(x) for x in data.get(key) or []],
            data.get("nextPageToken", ""),
            int(data.get("totalSize") or 0),
        )

    return parse


@dataclasses.dataclass(frozen=True)
class Call:
    """One API operation: what to send and how to read the answer (``stream``: each item)."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    body: Any = None
    parse: Callable[[Any], Any] = _identity
    stream: bool = False


class _Operations(_Base):
    """Every API operation, defined once.

    On :class:`KtrdrClient` each returns its result (streams: an iterator); on
    :class:`AsyncKtrdrClient` each returns an awaitable (streams: an async iterator).
    """

    def _run(self, call: Call) -> Any:
        raise NotImplementedError

    # --- data -------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._run(Call("GET", "/api/v1/health"))

    def timeframes(self) -> list[models.Timeframe]:
        return self._run(
            Call("GET", "/api/v1/data/timeframes", parse=_many("timeframes", models.Timeframe))
        )

    def symbols(self) -> list[models.SymbolInfo]:
        return self._run(
            Call("GET", "/api/v1/data/symbols", parse=_many("symbols", models.SymbolInfo))
        )

    def load_data(
        self, symbol: str, timeframe: str, *, start: str = "", end: str = "", mode: str = ""
    ) -> models.LoadResult:
        body = _query(
            {
                "symbol": symbol,
                "timeframe": timeframe,
                "startDate": start,
                "endDate": end,
                "mode": proto_enum("LOAD_MODE", mode),
            }
        )
        return self._run(
            Call("POST", "/api/v1/data/load", body=body, parse=models.LoadResult.from_json)
        )

    def data_info(self, symbol: str, timeframe: str) -> models.DataInfo:
        return self._run(
            Call("GET", f"/api/v1/data/{symbol}/{timeframe}/info", parse=models.DataInfo.from_json)
        )

    def analyze_gaps(
        self,
        symbol: str,
        timeframe: str,
        *,
        start: str = "",
        end: str = "",
        include_expected: bool = False,
    ) -> models.GapReport:
        """Gaps of a stored series, classified; only unexpected ones unless asked."""
        return self._run(
            Call(
                "GET",
                f"/api/v1/data/{symbol}/{timeframe}/gaps",
                params={"startDate": start, "endDate": end, "includeExpected": include_expected},
                parse=models.GapReport.from_json,
            )
        )

    def import_bars(
        self, symbol: str, timeframe: str, *, csv_content: str, time_zone: str = ""
    ) -> models.ImportResult:
        """Import CSV text (Date/Datetime/Timestamp + Open/High/Low/Close/Volume); trade role."""
        body = _query(
            {
                "symbol": symbol,
                "timeframe": timeframe,
                "csvContent": csv_content,
                "timeZone": time_zone,
            }
        )
        return self._run(
            Call("POST", "/api/v1/data/import", body=body, parse=models.ImportResult.from_json)
        )

    def export_bars(
        self, symbol: str, timeframe: str, *, start: str = "", end: str = ""
    ) -> models.ExportResult:
        """A stored range as CSV text."""
        return self._run(
            Call(
                "GET",
                f"/api/v1/data/{symbol}/{timeframe}/export",
                params={"startDate": start, "endDate": end},
                parse=models.ExportResult.from_json,
            )
        )

    def stream_bars(
        self,
        symbol: str,
        timeframe: str,
        *,
        start: str = "",
        end: str = "",
        batch_size: int = 0,
        replay_speed: float = 0.0,
    ) -> Iterator[dict[str, Any]]:
        """Stored bars in time order: one columnar batch (timestampsUs, open, ...) per item.

        ``replay_speed`` paces the stream as if live (1.0 real time, 60 sixty times faster).
        """
        body = _query(
            {
                "symbol": symbol,
                "timeframe": timeframe,
                "startDate": start,
                "endDate": end,
                "batchSize": batch_size,
                "replaySpeed": replay_speed,
            }
        )
        return self._run(
            Call(
                "POST",
                "/api/v1/data/stream",
                body=body,
                parse=lambda item: item.get("bars") or {},
                stream=True,
            )
        )

    # --- indicators ---------------------------------------------------------------------
    def indicators(self, category: str = "") -> list[models.IndicatorInfo]:
        return self._run(
            Call(
                "GET",
                "/api/v1/indicators",
                params={"category": category},
                parse=_many("indicators", models.IndicatorInfo),
            )
        )

    def indicator_info(self, name: str) -> models.IndicatorInfo:
        return self._run(
            Call(
                "GET",
                f"/api/v1/indicators/{name}/info",
                parse=_one("indicator", models.IndicatorInfo),
            )
        )

    def calculate_indicator(
        self,
        indicator: str,
        *,
        symbol: str,
        timeframe: str,
        start: str = "",
        end: str = "",
        parameters: Mapping[str, Any] | None = None,
        compute_timeframe: str = "",
    ) -> models.ColumnsResult:
        """One indicator over a stored range (``compute_timeframe``: computed there, aligned)."""
        body = {
            "indicator": indicator,
            "parameters": dict(parameters or {}),
            "source": _query(
                {"symbol": symbol, "timeframe": timeframe, "startDate": start, "endDate": end}
            ),
        }
        if compute_timeframe:
            body["computeTimeframe"] = compute_timeframe
        return self._run(
            Call(
                "POST",
                "/api/v1/indicators/calculate",
                body=body,
                parse=models.ColumnsResult.from_json,
            )
        )

    # --- fuzzy --------------------------------------------------------------------------
    def fuzzy_sets(self, *, strategy: str = "", symbol: str = "") -> list[models.FuzzySet]:
        """Fuzzy sets defined by the strategies (optionally one strategy or symbol)."""
        return self._run(
            Call(
                "GET",
                "/api/v1/fuzzy/sets",
                params={"strategy": strategy, "symbol": symbol},
                parse=_many("fuzzySets", models.FuzzySet),
            )
        )

    def symbol_fuzzy_sets(self, symbol: str, *, strategy: str = "") -> models.SymbolFuzzySets:
        """The fuzzy sets of the strategies that trade ``symbol``."""
        return self._run(
            Call(
                "GET",
                f"/api/v1/fuzzy/{symbol}",
                params={"strategy": strategy},
                parse=models.SymbolFuzzySets.from_json,
            )
        )

    def infer(self, system: Mapping[str, Any], inputs: Mapping[str, float]) -> models.InferResult:
        """Run a fuzzy rule system (the API's ``RuleSystem`` JSON) on crisp inputs."""
        body = {"system": dict(system), "inputs": {k: float(v) for k, v in inputs.items()}}
        return self._run(
            Call("POST", "/api/v1/fuzzy/infer", body=body, parse=models.InferResult.from_json)
        )

    def fuzzy_membership(
        self,
        values: list[float],
        *,
        memberships: list[dict[str, Any]] | None = None,
        strategy: str = "",
        fuzzy_set: str = "",
    ) -> list[models.MembershipDegrees]:
        body = _query(
            {
                "values": values,
                "memberships": memberships or [],
                "strategy": strategy,
                "fuzzySet": fuzzy_set,
            }
        )
        return self._run(
            Call(
                "POST",
                "/api/v1/fuzzy/membership",
                body=body,
                parse=_many("memberships", models.MembershipDegrees),
            )
        )

    def fuzzy_calculate(
        self,
        symbol: str,
        timeframe: str = "",
        *,
        strategy: str = "",
        fuzzy_sets: list[str] | None = None,
        start: str = "",
        end: str = "",
    ) -> models.ColumnsResult:
        body = _query(
            {
                "symbol": symbol,
                "timeframe": timeframe,
                "strategy": strategy,
                "fuzzySets": fuzzy_sets or [],
                "startDate": start,
                "endDate": end,
            }
        )
        return self._run(
            Call("POST", "/api/v1/fuzzy/calculate", body=body, parse=models.ColumnsResult.from_json)
        )

    # --- strategies and backtests -----------------------------------------------------
    def strategies(self) -> list[models.StrategySummary]:
        return self._run(
            Call("GET", "/api/v1/strategies", parse=_many("strategies", models.StrategySummary))
        )

    def run_backtest(self, strategy_id: str, **fields: Any) -> Iterator[models.Backtest]:
        """Start a backtest and iterate over its progress; the last item is the result."""
        return self._run(
            Call(
                "POST",
                f"/api/v1/strategies/{strategy_id}/backtest",
                body=_query(fields),
                parse=_one("backtest", models.Backtest),
                stream=True,
            )
        )

    def strategy(self, strategy_id: str) -> models.StrategyDetail:
        """A stored strategy: summary, file text, resolved features, warm-up."""
        return self._run(
            Call("GET", f"/api/v1/strategies/{strategy_id}", parse=models.StrategyDetail.from_json)
        )

    def validate_strategy(self, strategy_id: str, yaml: str = "") -> models.StrategyValidation:
        """Every problem of a stored strategy, or of ``yaml`` (named ``strategy_id``) at once."""
        return self._run(
            Call(
                "POST",
                f"/api/v1/strategies/{strategy_id}:validate",
                body={"yaml": yaml} if yaml else {},
                parse=models.StrategyValidation.from_json,
            )
        )

    def stream_backtest(self, strategy_id: str, **fields: Any) -> Iterator[models.BacktestUpdate]:
        """Run a backtest (trade role) and iterate over its progress (percent, bars, equity,
        trades so far); the last update is ``done`` and carries the stored result. ``fields``
        are RunBacktestRequest's in snake_case (``start_date``, ``end_date``, ``symbol``,
        ``model``, ``initial_capital``, ``commission_settings``, ``spread_bps``,
        ``slippage_bps``, ``sizing``, ``fill_timing``, ``confidence_threshold`` ...)."""
        return self._run(
            Call(
                "POST",
                f"/api/v1/strategies/{strategy_id}/backtest",
                body=_query(fields),
                parse=models.BacktestUpdate.from_json,
                stream=True,
            )
        )

    def walk_forward(self, strategy_id: str, **fields: Any) -> Iterator[models.WalkForwardUpdate]:
        """Run a walk-forward (admin role: it trains); the last update has every window and
        the aggregate. ``fields`` are RunWalkForwardRequest's in snake_case (``start_date``,
        ``end_date``, ``mode``, ``train_bars``, ``test_bars``, ``step_bars``, ``purge_bars``,
        ``embargo_bars``, ``training_overrides``, ``backtest``, ``max_windows``)."""
        return self._run(
            Call(
                "POST",
                f"/api/v1/strategies/{strategy_id}/walk-forward",
                body=_query(fields),
                parse=models.WalkForwardUpdate.from_json,
                stream=True,
            )
        )

    def trades_page(
        self, backtest_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> models.Page:
        """One page of a run's trades (each with its entry/exit decision trace)."""
        return self._run(
            Call(
                "GET",
                f"/api/v1/backtests/{backtest_id}/trades",
                params={"pageSize": page_size, "pageToken": page_token},
                parse=_page("trades", models.Trade),
            )
        )

    def equity_page(
        self, backtest_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> models.Page:
        """One page of a run's equity curve (page_size up to 100,000 points)."""
        return self._run(
            Call(
                "GET",
                f"/api/v1/backtests/{backtest_id}/equity",
                params={"pageSize": page_size, "pageToken": page_token},
                parse=_page("points", models.EquityPoint),
            )
        )

    def strategy_performance(self, strategy_id: str) -> dict[str, Any]:
        """A strategy's runs summarised (best, worst and mean return, the latest metrics)."""
        return self._run(Call("GET", f"/api/v1/strategies/{strategy_id}/performance"))

    def backtests(self, strategy_id: str = "") -> list[models.Backtest]:
        return self._run(
            Call(
                "GET",
                "/api/v1/backtests",
                params={"strategyId": strategy_id},
                parse=_many("backtests", models.Backtest),
            )
        )

    def backtest(self, backtest_id: str) -> models.Backtest:
        return self._run(
            Call("GET", f"/api/v1/backtests/{backtest_id}", parse=_one("backtest", models.Backtest))
        )

    def trades(self, backtest_id: str) -> list[models.Trade]:
        return self._run(
            Call(
                "GET",
                f"/api/v1/backtests/{backtest_id}/trades",
                parse=_many("trades", models.Trade),
            )
        )

    def equity_curve(self, backtest_id: str) -> list[models.EquityPoint]:
        return self._run(
            Call(
                "GET",
                f"/api/v1/backtests/{backtest_id}/equity",
                parse=_many("points", models.EquityPoint),
            )
        )

    # --- IB gateway ---------------------------------------------------------------------
    def ib_status(self) -> dict[str, Any]:
        """Connection to TWS, circuit breaker, pacing budget, farms and last error."""
        return self._run(Call("GET", "/api/v1/ib/status"))

    def ib_health(self) -> dict[str, Any]:
        """A round trip to TWS: ``healthy``, ``message``, ``roundTripMs``."""
        return self._run(Call("GET", "/api/v1/ib/health"))

    # --- models -------------------------------------------------------------------------
    def train_model(
        self, strategy: str, symbols: list[str], **fields: Any
    ) -> Iterator[models.Training]:
        """Start a training (admin) and iterate over its progress; the last item is final."""
        body = _query({"strategy": strategy, "symbols": symbols, **fields})
        return self._run(
            Call(
                "POST",
                "/api/v1/models/train",
                body=body,
                parse=_one("training", models.Training),
                stream=True,
            )
        )

    def delete_model(self, name: str) -> dict[str, Any]:
        return self._run(Call("DELETE", f"/api/v1/models/{name}"))


class KtrdrClient(_Operations):
    """Blocking client. Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
        home: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, retries, backoff, home)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers(), timeout=timeout, transport=transport
        )

    def __enter__(self) -> KtrdrClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        """Call any API path; returns the decoded JSON (raises KtrdrApiError subclasses)."""
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.request(method, path, params=_query(params or {}), json=json_body)
            except httpx.TransportError as exc:
                if attempt < self.retries:
                    time.sleep(self._delay(attempt))
                    continue
                raise _unreachable(self._http.base_url, exc) from exc
            if resp.status_code == 503 and attempt < self.retries:
                time.sleep(self._delay(attempt))
                continue
            _raise_for(resp)
            return resp.json()
        raise AssertionError("unreachable")

    def stream(self, method: str, path: str, *, json_body: Any = None) -> Iterator[Any]:
        """Iterate over a server stream (newline-delimited JSON), one object per message.

        Raises
        ------
        KtrdrApiError
            The error class of a failure before or during the stream;
            ``StreamInterruptedError`` when the answer was cut off.
        """
        reader, started = _StreamReader(path), False
        try:
            with self._http.stream(method, path, json=json_body, timeout=None) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    _raise_for(resp)
                started = True
                for line in resp.iter_lines():
                    if line.strip():
                        yield reader.item(line)
        except httpx.TransportError as exc:
            raise reader.failed(exc, self._http.base_url, started) from exc

    def _run(self, call: Call) -> Any:
        if call.stream:
            return (
                call.parse(item)
                for item in self.stream(call.method, call.path, json_body=call.body)
            )
        return call.parse(
            self.request(call.method, call.path, params=call.params, json_body=call.body)
        )


class AsyncKtrdrClient(_Operations):
    """asyncio client with the same calls as :class:`KtrdrClient` (awaitable)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
        home: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout, retries, backoff, home)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers(),
            timeout=timeout,
            transport=transport,
            limits=limits or httpx.Limits(),
        )

    async def __aenter__(self) -> AsyncKtrdrClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        for attempt in range(self.retries + 1):
            try:
                resp = await self._http.request(
                    method, path, params=_query(params or {}), json=json_body
                )
            except httpx.TransportError as exc:
                if attempt < self.retries:
                    await asyncio.sleep(self._delay(attempt))
                    continue
                raise _unreachable(self._http.base_url, exc) from exc
            if resp.status_code == 503 and attempt < self.retries:
                await asyncio.sleep(self._delay(attempt))
                continue
            _raise_for(resp)
            return resp.json()
        raise AssertionError("unreachable")

    async def stream(self, method: str, path: str, *, json_body: Any = None) -> AsyncIterator[Any]:
        """Iterate over a server stream; raises as :meth:`KtrdrClient.stream` does."""
        reader, started = _StreamReader(path), False
        try:
            async with self._http.stream(method, path, json=json_body, timeout=None) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    _raise_for(resp)
                started = True
                async for line in resp.aiter_lines():
                    if line.strip():
                        yield reader.item(line)
        except httpx.TransportError as exc:
            raise reader.failed(exc, self._http.base_url, started) from exc

    def _run(self, call: Call) -> Any:
        if call.stream:
            return self._stream_call(call)
        return self._unary_call(call)

    async def _unary_call(self, call: Call) -> Any:
        return call.parse(
            await self.request(call.method, call.path, params=call.params, json_body=call.body)
        )

    async def _stream_call(self, call: Call) -> AsyncIterator[Any]:
        async for item in self.stream(call.method, call.path, json_body=call.body):
            yield call.parse(item)
