"""The neural and backtest domains in-process: the sources their Protocols declare, backed by
the other domains (no network). The mesh's counterparts are the gRPC clients of
``ktrdr_backtest.mesh`` and ``ktrdr_neural.feature_client``; both give the same answers.

=====================  =====================================  =================================
class                  satisfies                              backed by
=====================  =====================================  =================================
DomainFeatureSource    neural ``FeatureSource``               the fuzzy domain (CalculateFuzzy)
                                                              and the data store
StoreBarFeed           backtest ``BarFeed``                   the data store
LocalSignalSource      backtest ``SignalSource``              the strategy feature stream and
                                                              the neural domain's model stream
LocalModelCatalog      backtest ``ModelCatalog``              the neural registry
LocalTrainer           backtest walk-forward ``Trainer``      the neural domain (training in a
                                                              worker thread)
=====================  =====================================  =================================
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from safetensors.numpy import save as save_safetensors

from ktrdr_backtest.domain.run import Extent, ModelInfo, Step, majority_signal
from ktrdr_core.bars import Bars
from ktrdr_core.calendars import TradingCalendar
from ktrdr_core.dates import to_us
from ktrdr_core.offload import Offload
from ktrdr_core.strategy.document import Strategy
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_data.domain.instruments import validate_symbol
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_fuzzy.domain.features import FeatureRequest
from ktrdr_neural.domain.features import FeatureFrame, PriceBars, StoredRange
from ktrdr_neural.domain.jobs import publish, summary_metrics
from ktrdr_neural.domain.plan import TrainRequest, plan_training
from ktrdr_neural.domain.registry import ModelRegistry, parse_model_name
from ktrdr_neural.domain.serving import ModelServer, PredictionStream
from ktrdr_neural.domain.training import run_training
from ktrdr_pipeline.sources import StoreBarSource

if TYPE_CHECKING:
    from ktrdr_pipeline.pipeline import Pipeline, StrategyStream


def _stamp(value: dt.datetime | None) -> pd.Timestamp | None:
    return pd.Timestamp(value) if value is not None else None


class DomainFeatureSource:
    """The neural domain's ``FeatureSource``: what the fuzzy service's ``CalculateFuzzy`` and
    the data service's ``GetDataInfo``/``StreamBars`` answer, in-process."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def stored_range(self, *, symbol: str, timeframe: str) -> StoredRange:
        store = self._pipeline.store
        tf = parse_timeframe(timeframe)
        info = await self._pipeline.offload(store.info, validate_symbol(symbol), tf)
        if info is None or info.first is None or info.last is None:
            raise store.not_found(validate_symbol(symbol), tf)
        return StoredRange(to_us(info.first), to_us(info.last), info.bars)

    async def features(
        self,
        strategy: Strategy,
        *,
        symbol: str,
        timeframe: str,
        start: dt.datetime | None,
        end: dt.datetime | None,
    ) -> FeatureFrame:
        request = FeatureRequest(symbol, parse_timeframe(timeframe), start, end)
        result = await self._pipeline.calculate_fuzzy(strategy, request)
        frame = result.values
        return FeatureFrame(frame.timestamps_us, frame.names, frame.values)

    async def bars(
        self, *, symbol: str, timeframe: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> PriceBars:
        read = self._pipeline.store.read
        frame = await self._pipeline.offload(
            read, validate_symbol(symbol), timeframe, _stamp(start), _stamp(end)
        )
        b = Bars.from_frame(frame)
        return PriceBars(b.timestamps_us, b.open, b.high, b.low, b.close)


class StoreBarFeed:
    """The backtest domain's ``BarFeed`` over the data store (what the data service's
    ``GetDataInfo`` and ``StreamBars`` answer)."""

    def __init__(self, store: ParquetBarStore, *, offload: Offload = asyncio.to_thread) -> None:
        self._store = store
        self._offload = offload
        self._source = StoreBarSource(store, offload=offload)

    async def extent(self, *, symbol: str, timeframe: str) -> Extent:
        symbol, tf = validate_symbol(symbol), parse_timeframe(timeframe)
        info = await self._offload(self._store.info, symbol, tf)
        if info is None:
            raise self._store.not_found(symbol, tf)
        if info.first is None or info.last is None:
            await self._offload(self._store.read, symbol, tf)  # raises DATA-005 naming it
            raise self._store.not_found(symbol, tf)
        return Extent(to_us(info.first), to_us(info.last))

    async def history(self, *, symbol: str, timeframe: str, before: dt.datetime, bars: int) -> Bars:
        read = self._store.read
        frame = await self._offload(read, validate_symbol(symbol), timeframe, None, _stamp(before))
        got = Bars.from_frame(frame)
        return got.take(slice(max(0, len(got) - bars), None))

    async def range(
        self,
        *,
        symbol: str,
        timeframe: str,
        start: dt.datetime,
        end: dt.datetime,
        batch_size: int,
    ) -> AsyncIterator[Bars]:
        read = self._store.read
        frame = await self._offload(
            read, validate_symbol(symbol), timeframe, _stamp(start), _stamp(end)
        )
        bars = Bars.from_frame(frame)
        for lo in range(0, len(bars), batch_size):
            yield bars.take(slice(lo, lo + batch_size))

    async def calendar(self, *, symbol: str, timeframe: str) -> TradingCalendar:
        return await self._source.calendar(symbol=symbol, timeframe=parse_timeframe(timeframe))


class LocalSignalStream:
    """The strategy's feature stream into the model's prediction stream, batch by batch."""

    def __init__(
        self, features: StrategyStream, predictions: PredictionStream, offload: Offload
    ) -> None:
        self._features = features
        self._predictions = predictions
        self._offload = offload
        self._out: collections.deque[Step] = collections.deque()

    def _step(self, bars: Bars) -> Step:
        frame = self._features.update(bars)
        batch = self._predictions.update(frame.values)
        return Step(frame, batch.probabilities, batch.ready)

    async def send(self, bars: Bars) -> None:
        self._out.append(await self._offload(self._step, bars))

    async def receive(self) -> Step:
        return self._out.popleft()

    async def close(self) -> None:
        self._out.clear()


class LocalSignalSource:
    """Opens :class:`LocalSignalStream` s: the pipeline's strategy stream and a stored model."""

    def __init__(self, pipeline: Pipeline, server: ModelServer) -> None:
        self._pipeline = pipeline
        self._server = server

    async def open(self, strategy: Strategy, *, symbol: str, model: str) -> LocalSignalStream:
        loaded = await self._pipeline.offload(self._server.load, parse_model_name(model))
        features = await self._pipeline.strategy_stream(strategy, symbol=symbol)
        loaded.check_features(features.names)
        return LocalSignalStream(features, loaded.stream(), self._pipeline.offload)


class LocalModelCatalog:
    """Stored models from the neural registry (what ``GetModel`` answers)."""

    def __init__(self, registry: ModelRegistry, *, offload: Offload = asyncio.to_thread) -> None:
        self._registry = registry
        self._offload = offload

    async def describe(self, name: str) -> ModelInfo:
        ref = parse_model_name(name, field="model")
        stored = await self._offload(self._registry.get, ref)
        meta = stored.metadata
        return ModelInfo(
            name=stored.ref.name,
            features=tuple(f["name"] for f in meta["features"]),
            timeframe=str(meta["timeframe"]),
            symbols=tuple(meta["symbols"]),
            window=int(meta["model"]["sequence_length"]),
            metrics=summary_metrics(meta),
            majority_signal=majority_signal(meta),
        )


class LocalTrainer:
    """Trains with the neural domain in a worker thread and stores the model in the registry
    (what the neural service's ``TrainModel`` does in its worker process)."""

    def __init__(
        self,
        pipeline: Pipeline,
        registry: ModelRegistry,
        *,
        threads: int = 1,
        code_version: Mapping[str, str] | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._registry = registry
        self._threads = threads
        self._code_version = dict(code_version or {"ktrdr_pipeline": "in-process"})

    async def train(
        self,
        strategy: Strategy,
        *,
        symbol: str,
        start: dt.datetime,
        end: dt.datetime,
        overrides: Mapping[str, Any],
    ) -> str:
        source = DomainFeatureSource(self._pipeline)
        job = await plan_training(
            source, strategy, TrainRequest((symbol,), dict(overrides), start, end)
        )
        weights, summary = await asyncio.to_thread(
            run_training,
            job.dataset.arrays(),
            job.spec,
            window=job.dataset.window,
            threads=self._threads,
        )
        ref = await asyncio.to_thread(
            publish,
            self._registry,
            job,
            summary,
            weights=save_safetensors(weights),
            code_version=self._code_version,
        )
        return ref.name
