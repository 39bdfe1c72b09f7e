"""gRPC servicer of the neural service: thin, over ``ktrdr_neural.domain``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from grpc import aio

from ktrdr.neural.v1 import neural_pb2, neural_pb2_grpc
from ktrdr_core.dates import parse_date
from ktrdr_core.errors import ValidationError
from ktrdr_core.strategy.document import Strategy, find_strategy
from ktrdr_core.timeframes import parse_timeframe
from ktrdr_neural import convert
from ktrdr_neural.domain import errors as codes
from ktrdr_neural.domain.features import FeatureFrame, FeatureSource
from ktrdr_neural.domain.jobs import TrainingManager
from ktrdr_neural.domain.plan import plan_training
from ktrdr_neural.domain.registry import ModelRegistry, parse_model_name
from ktrdr_neural.domain.serving import ModelServer
from ktrdr_runtime.servicers import ConfigFirstStream

DESCRIPTOR = neural_pb2.DESCRIPTOR.services_by_name["NeuralService"]


class NeuralServiceServicer(neural_pb2_grpc.NeuralServiceServicer):
    def __init__(
        self,
        *,
        strategies_dir: Path,
        source: FeatureSource,
        registry: ModelRegistry,
        server: ModelServer,
        trainings: TrainingManager,
    ) -> None:
        self._dir = strategies_dir
        self._source = source
        self._registry = registry
        self._server = server
        self._trainings = trainings

    def _strategy(self, name: str) -> Strategy:
        return find_strategy(self._dir, name)

    async def TrainModel(
        self, request: neural_pb2.TrainModelRequest, context: aio.ServicerContext
    ) -> AsyncIterator[neural_pb2.TrainModelResponse]:
        """Prepare (every check), queue, then stream progress; the training outlives the call."""
        if not request.strategy:
            raise ValidationError(codes.BAD_CONFIG, "'strategy' is required.", field="strategy")
        train = convert.train_request(request)
        strategy = await asyncio.to_thread(self._strategy, request.strategy)
        job = await plan_training(self._source, strategy, train)
        status = await self._trainings.submit(job)
        async for update in self._trainings.watch(status.training_id):
            yield neural_pb2.TrainModelResponse(training=convert.training(update))

    async def GetTraining(
        self, request: neural_pb2.GetTrainingRequest, context: aio.ServicerContext
    ) -> neural_pb2.GetTrainingResponse:
        status = self._trainings.get(request.training_id)
        return neural_pb2.GetTrainingResponse(training=convert.training(status))

    async def CancelTraining(
        self, request: neural_pb2.CancelTrainingRequest, context: aio.ServicerContext
    ) -> neural_pb2.CancelTrainingResponse:
        status = await self._trainings.cancel(request.training_id)
        return neural_pb2.CancelTrainingResponse(training=convert.training(status))

    async def ListModels(
        self, request: neural_pb2.ListModelsRequest, context: aio.ServicerContext
    ) -> neural_pb2.ListModelsResponse:
        models = await asyncio.to_thread(self._registry.list, strategy=request.strategy)
        return neural_pb2.ListModelsResponse(
            models=[convert.model_info(m, full=False) for m in models]
        )

    async def GetModel(
        self, request: neural_pb2.GetModelRequest, context: aio.ServicerContext
    ) -> neural_pb2.GetModelResponse:
        ref = convert.model_ref(request.name, 0, field="name")
        model = await asyncio.to_thread(self._registry.get, ref)
        return neural_pb2.GetModelResponse(model=convert.model_info(model))

    async def DeleteModel(
        self, request: neural_pb2.DeleteModelRequest, context: aio.ServicerContext
    ) -> neural_pb2.DeleteModelResponse:
        ref = parse_model_name(request.name, field="name")
        deleted = await asyncio.to_thread(self._registry.delete, ref)
        self._server.forget(deleted)
        return neural_pb2.DeleteModelResponse(name=deleted.name)

    async def Predict(
        self, request: neural_pb2.PredictRequest, context: aio.ServicerContext
    ) -> neural_pb2.PredictResponse:
        ref = convert.model_ref(request.model, request.version, field="model")
        model = await asyncio.to_thread(self._server.load, ref)
        if request.rows and request.symbol:
            raise ValidationError(
                codes.BAD_PREDICT_REQUEST,
                "Give either 'rows' or a stored range ('symbol', dates), not both.",
                field="rows",
            )
        if request.symbol:
            frame = await self._range(request, model.metadata["timeframe"], ref.strategy)
            model.check_features(frame.names)
            stamps, values = frame.timestamps_us, frame.values
        else:
            if request.feature_names:
                model.check_features(list(request.feature_names))
            stamps, values = convert.rows_matrix(request.rows)
            if len(values):
                model.check_width(values.shape[1])
        batch = await asyncio.to_thread(model.predict, values)
        return neural_pb2.PredictResponse(
            predictions=convert.predictions(stamps, batch), model_name=model.name
        )

    async def _range(
        self, request: neural_pb2.PredictRequest, timeframe: str, strategy_name: str
    ) -> FeatureFrame:
        if request.timeframe and parse_timeframe(request.timeframe).code != timeframe:
            raise ValidationError(
                codes.BAD_PREDICT_REQUEST,
                f"The model works on {timeframe} bars, not {request.timeframe}.",
                field="timeframe",
            )
        strategy = await asyncio.to_thread(self._strategy, strategy_name)
        return await self._source.features(
            strategy,
            symbol=request.symbol,
            timeframe=timeframe,
            start=parse_date(request.start_date or None, "start_date"),
            end=parse_date(request.end_date or None, "end_date"),
        )

    async def StreamPredictions(
        self,
        request_iterator: AsyncIterator[neural_pb2.StreamPredictionsRequest],
        context: aio.ServicerContext,
    ) -> AsyncIterator[neural_pb2.StreamPredictionsResponse]:
        requests = ConfigFirstStream(
            request_iterator, code=codes.BAD_PREDICT_REQUEST, payload="features"
        )
        config = await requests.config()
        ref = convert.model_ref(config.model, config.version, field="config.model")
        model = await asyncio.to_thread(self._server.load, ref)
        stream = model.stream()
        regression = model.config.regression_head is not None
        async for batch in requests.batches():
            model.check_features([c.name for c in batch.columns])
            values = convert.feature_batch(batch, model.features)
            out = stream.update(values)
            yield convert.stream_response(
                batch.timestamps_us, out, model.name, regression=regression
            )
