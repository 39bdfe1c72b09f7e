"""The backtest domain's sources over the mesh: gRPC clients of the other services.

=====================  =================================  ==================================
class                  satisfies (``ktrdr_backtest.domain``)  calls
=====================  =================================  ==================================
GrpcBarFeed            ``run.BarFeed``                    data ``GetDataInfo``, ``StreamBars``
GrpcSignalSource       ``run.SignalSource``               indicators ``StreamIndicators`` ->
                                                          fuzzy ``StreamFuzzy`` -> neural
                                                          ``StreamPredictions``
GrpcModelCatalog       ``run.ModelCatalog``               neural ``GetModel``
GrpcTrainer            ``walkforward.Trainer``            neural ``TrainModel``
GrpcIndicatorCatalogue ``strategies.IndicatorCatalogue``  indicators ``ValidateIndicator``
=====================  =================================  ==================================

The signal stream pipes three bidirectional streams: a batch of bars goes to the indicator
service; two pump tasks pass each answer on (indicator values to the fuzzy service, features to
the neural service) as soon as it arrives, so the three services work on different batches at
the same time. A service that fails or dies mid-stream fails the run with its own error or
``UNAVAILABLE`` (``RUNTIME-002``) naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import grpc
import numpy as np
from google.protobuf import json_format
from grpc import aio

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr.fuzzy.v1 import fuzzy_pb2, fuzzy_pb2_grpc
from ktrdr.indicators.v1 import indicators_pb2, indicators_pb2_grpc
from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.run import Extent, ModelInfo, Step, majority_signal
from ktrdr_backtest.domain.strategies import IndicatorInfo
from ktrdr_core.bars import Bars
from ktrdr_core.calendars import TradingCalendar, get_calendar
from ktrdr_core.dates import to_us
from ktrdr_core.errors import FailedPreconditionError, KtrdrError, UnavailableError
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_runtime.bars import (
    bars_from_columns,
    bars_to_columns,
    parameters_struct,
    value_columns_to_frame,
)
from ktrdr_runtime.channels import wait_connected
from ktrdr_runtime.grpc_errors import from_rpc_error
from ktrdr_runtime.streams import feature_stream_config, indicator_stream_config

#: Bars per StreamBars message when reading history (the data service's maximum).
HISTORY_BATCH = 10_000
#: Catalogue answers kept (strategies repeat the same few indicators).
CATALOGUE_CACHE = 1024
_US = 1_000_000


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _us(ts: Any) -> int:
    return int(ts.seconds) * _US + int(ts.nanos) // 1000


class GrpcBarFeed:
    """Stored bars from the data service."""

    def __init__(self, channel: aio.Channel, *, stream_timeout_seconds: float) -> None:
        self._stub = data_pb2_grpc.DataServiceStub(channel)
        self._timeout = stream_timeout_seconds

    async def _info(self, symbol: str, timeframe: str) -> data_pb2.GetDataInfoResponse:
        try:
            return await self._stub.GetDataInfo(
                data_pb2.GetDataInfoRequest(symbol=symbol, timeframe=timeframe)
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="data") from exc

    async def extent(self, *, symbol: str, timeframe: str) -> Extent:
        series = (await self._info(symbol, timeframe)).series
        return Extent(_us(series.first), _us(series.last))

    async def calendar(self, *, symbol: str, timeframe: str) -> TradingCalendar:
        return get_calendar((await self._info(symbol, timeframe)).instrument.calendar)

    async def _read(
        self, symbol: str, timeframe: str, start: dt.datetime | None, end: dt.datetime, size: int
    ) -> AsyncIterator[Bars]:
        request = data_pb2.StreamBarsRequest(
            symbol=symbol,
            timeframe=timeframe,
            start_date=_iso(start),
            end_date=_iso(end),
            batch_size=size,
        )
        try:
            async for reply in self._stub.StreamBars(request, timeout=self._timeout):
                yield bars_from_columns(reply.bars)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="data") from exc

    async def history(self, *, symbol: str, timeframe: str, before: dt.datetime, bars: int) -> Bars:
        """The last ``bars`` bars before ``before``: read back from ``before`` over a span
        that doubles until it holds them or reaches the first stored bar."""
        extent = await self.extent(symbol=symbol, timeframe=timeframe)
        tf_seconds = parse_timeframe(timeframe).seconds
        span = dt.timedelta(seconds=bars * tf_seconds * 2 + 7 * 86_400)
        while True:
            start = before - span
            parts = [b async for b in self._read(symbol, timeframe, start, before, HISTORY_BATCH)]
            got = Bars.concat(parts) if parts else Bars.empty()
            if len(got) >= bars or to_us(start) <= extent.first_us:
                return got.take(slice(max(0, len(got) - bars), None))
            span *= 2

    async def range(
        self,
        *,
        symbol: str,
        timeframe: str,
        start: dt.datetime,
        end: dt.datetime,
        batch_size: int,
    ) -> AsyncIterator[Bars]:
        async for bars in self._read(symbol, timeframe, start, end, batch_size):
            yield bars


class GrpcIndicatorCatalogue:
    """The indicator service's ``ValidateIndicator`` (answers cached)."""

    def __init__(self, channel: aio.Channel) -> None:
        self._stub = indicators_pb2_grpc.IndicatorServiceStub(channel)
        self._cache: dict[str, IndicatorInfo] = {}

    async def describe(self, indicator: str, parameters: Mapping[str, Any]) -> IndicatorInfo:
        key = json.dumps([indicator, dict(parameters)], sort_keys=True, default=str)
        if key in self._cache:
            return self._cache[key]
        request = indicators_pb2.ValidateIndicatorRequest(
            indicator=indicator, parameters=parameters_struct(parameters)
        )
        try:
            reply = await self._stub.ValidateIndicator(request)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="indicators") from exc
        if len(self._cache) >= CATALOGUE_CACHE:
            self._cache.pop(next(iter(self._cache)))
        info = IndicatorInfo(tuple(reply.outputs), int(reply.warmup_bars))
        self._cache[key] = info
        return info


class GrpcModelCatalog:
    """Stored models from the neural service's ``GetModel``."""

    def __init__(self, channel: aio.Channel) -> None:
        self._stub = neural_pb2_grpc.NeuralServiceStub(channel)

    async def describe(self, name: str) -> ModelInfo:
        try:
            reply = await self._stub.GetModel(neural_pb2.GetModelRequest(name=name))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="neural") from exc
        model = reply.model
        meta = json_format.MessageToDict(model.metadata)
        window = int(meta.get("model", {}).get("sequence_length", 1))
        return ModelInfo(
            name=model.name,
            features=tuple(model.features),
            timeframe=model.timeframes[0] if model.timeframes else "",
            symbols=tuple(model.symbols),
            window=window,
            metrics=dict(model.metrics),
            majority_signal=majority_signal(meta),
        )


class GrpcTrainer:
    """Trains through the neural service's ``TrainModel`` (following it to the end)."""

    def __init__(self, channel: aio.Channel, *, timeout_seconds: float) -> None:
        self._stub = neural_pb2_grpc.NeuralServiceStub(channel)
        self._timeout = timeout_seconds

    async def train(
        self,
        strategy: Strategy,
        *,
        symbol: str,
        start: dt.datetime,
        end: dt.datetime,
        overrides: Mapping[str, Any],
    ) -> str:
        request = neural_pb2.TrainModelRequest(
            strategy=strategy.name,
            symbols=[symbol],
            config=parameters_struct(overrides),
            start_date=start.isoformat(),
            end_date=end.isoformat(),
        )
        last = None
        try:
            async for reply in self._stub.TrainModel(request, timeout=self._timeout):
                last = reply.training
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency="neural") from exc
        if last is None or last.state != neural_pb2.TRAINING_STATE_SUCCEEDED:
            why = last.error if last is not None else "the training stream ended without a result"
            raise FailedPreconditionError(
                "RUNTIME-004", f"The neural service's training failed: {why}"
            )
        return str(last.model_name)


class GrpcSignalSource:
    """Opens :class:`GrpcSignalStream` s over the indicator, fuzzy and neural channels."""

    def __init__(
        self,
        *,
        indicators: aio.Channel,
        fuzzy: aio.Channel,
        neural: aio.Channel,
        stream_timeout_seconds: float,
    ) -> None:
        self._channels = (indicators, fuzzy, neural)
        self._timeout = stream_timeout_seconds

    async def open(self, strategy: Strategy, *, symbol: str, model: str) -> GrpcSignalStream:
        ind_ch, fuz_ch, nn_ch = self._channels
        await wait_connected(self._channels)
        ind = indicators_pb2_grpc.IndicatorServiceStub(ind_ch).StreamIndicators(
            timeout=self._timeout
        )
        fuz = fuzzy_pb2_grpc.FuzzyServiceStub(fuz_ch).StreamFuzzy(timeout=self._timeout)
        nn = neural_pb2_grpc.NeuralServiceStub(nn_ch).StreamPredictions(timeout=self._timeout)
        stream = GrpcSignalStream(ind, fuz, nn)
        try:
            await stream.start(
                indicators_pb2.StreamIndicatorsRequest(
                    config=indicator_stream_config(strategy, symbol=symbol)
                ),
                fuzzy_pb2.StreamFuzzyRequest(config=feature_stream_config(strategy.name)),
                neural_pb2.StreamPredictionsRequest(
                    config=neural_pb2.StreamPredictionsConfig(model=model)
                ),
            )
        except BaseException:
            await stream.close()
            raise
        return stream


class GrpcSignalStream:
    """Bars -> ``StreamIndicators`` -> ``StreamFuzzy`` -> ``StreamPredictions``, pumped."""

    def __init__(self, indicators: Any, fuzzy: Any, neural: Any) -> None:
        self._ind = indicators
        self._fuz = fuzzy
        self._nn = neural
        self._features: asyncio.Queue[fuzzy_pb2.StreamFuzzyResponse] = asyncio.Queue()
        self._failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pumps: list[asyncio.Task[None]] = []

    async def start(self, *configs: Any) -> None:
        for call, config, name in zip(
            (self._ind, self._fuz, self._nn), configs, ("indicators", "fuzzy", "neural"),
            strict=True,
        ):  # fmt: skip
            await self._write(call, config, name)
        self._pumps = [
            asyncio.create_task(self._pump_values(), name="backtest-pump-indicators"),
            asyncio.create_task(self._pump_features(), name="backtest-pump-fuzzy"),
        ]

    async def _write(self, call: Any, message: Any, dependency: str) -> None:
        try:
            await call.write(message)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency=dependency) from exc
        except asyncio.InvalidStateError:
            raise await self._error(call, dependency) from None

    async def _read(self, call: Any, dependency: str) -> Any:
        try:
            reply = await call.read()
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, dependency=dependency) from exc
        if reply is aio.EOF:
            raise await self._error(call, dependency)
        return reply

    async def _error(self, call: Any, dependency: str) -> KtrdrError:
        """The error of a stream that ended early (its status, or RUNTIME-002)."""
        try:
            code = await call.code()
            details = await call.details()
        except Exception:  # the call's status itself is unreadable
            code, details = grpc.StatusCode.UNAVAILABLE, "the stream ended"
        if code in (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE, None):
            return UnavailableError(
                "RUNTIME-002",
                f"The {dependency} service is unavailable: its stream ended early "
                f"({details or 'no answer'}).",
                details={"dependency": dependency},
            )
        return UnavailableError(
            "RUNTIME-002",
            f"The {dependency} service is unavailable: {code.name}: {details}",
            details={"dependency": dependency},
        )

    def _fail(self, exc: BaseException) -> None:
        if not self._failed.done():
            self._failed.set_exception(exc)
            self._failed.exception()  # retrieved here: reported by receive()

    async def _pump_values(self) -> None:
        try:
            while True:
                values = await self._read(self._ind, "indicators")
                message = fuzzy_pb2.StreamFuzzyRequest(
                    values=fuzzy_pb2.IndicatorValues(
                        timestamps_us=values.timestamps_us, columns=values.columns
                    )
                )
                await self._write(self._fuz, message, "fuzzy")
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)

    async def _pump_features(self) -> None:
        try:
            while True:
                features = await self._read(self._fuz, "fuzzy")
                await self._features.put(features)
                batch = neural_pb2.FeatureBatch(
                    timestamps_us=features.timestamps_us, columns=features.columns
                )
                await self._write(
                    self._nn, neural_pb2.StreamPredictionsRequest(features=batch), "neural"
                )
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)

    async def send(self, bars: Bars) -> None:
        self._check()
        message = indicators_pb2.StreamIndicatorsRequest(bars=bars_to_columns(bars))
        await self._race(self._write(self._ind, message, "indicators"))

    async def receive(self) -> Step:
        features = await self._race(self._features.get())
        reply = await self._race(self._read(self._nn, "neural"))
        frame = value_columns_to_frame(features.timestamps_us, features.columns)
        probs = np.column_stack(
            [
                np.asarray(reply.buy_probabilities, dtype=np.float64),
                np.asarray(reply.hold_probabilities, dtype=np.float64),
                np.asarray(reply.sell_probabilities, dtype=np.float64),
            ]
        )
        ready = np.asarray(reply.ready, dtype=bool)
        if list(reply.timestamps_us) != list(features.timestamps_us) or len(ready) != len(frame):
            raise FailedPreconditionError(
                codes.OUT_OF_STEP,
                f"The neural service answered {len(ready)} rows for {len(frame)} feature rows: "
                "the services are out of step.",
            )
        return Step(frame, probs.reshape(len(frame), 3), ready)

    def _check(self) -> None:
        if self._failed.done():
            self._failed.result()  # raises the pump's error

    async def _race(self, work: Any) -> Any:
        """``work``'s result, or the first pump error when one fails first."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task, self._failed}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        self._check()
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        for pump in self._pumps:
            pump.cancel()
        for pump in self._pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
        for call in (self._ind, self._fuz, self._nn):
            with contextlib.suppress(Exception):
                await call.done_writing()
            call.cancel()
