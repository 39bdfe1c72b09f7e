"""Error codes of the neural domain.

Every error raised by :mod:`ktrdr_neural.domain` is a :class:`ktrdr_core.errors.KtrdrError`
with one of the stable codes below (``field`` names the config path or request field at fault,
``suggestions`` holds close matches of a misspelt name).

==========  =========================  ======================================================
Code        Exception                  Condition
==========  =========================  ======================================================
NEURAL-001  ValidationError            The strategy's ``model``/``training`` sections (or the
                                       request's overrides) are invalid: unknown or misplaced
                                       keys, wrong types, values out of bounds. Every problem
                                       is listed in one message (raised by the core's
                                       ``ktrdr_core.strategy.training``, which defines it).
NEURAL-002  NotFoundError              No stored model matches the name (close matches given).
NEURAL-003  ValidationError            A model name is malformed.
NEURAL-004  FailedPreconditionError    The features sent differ from the model's schema
                                       (count, name or order); the first difference is named.
NEURAL-005  FailedPreconditionError    Too little data for the split, or a class absent from
                                       the training split: raised before training starts.
NEURAL-006  FailedPreconditionError    A symbol of the strategy has no stored bars; the
                                       message says how to load them.
NEURAL-007  NotFoundError              No training with this id (trainings are kept in
                                       memory by the service that runs them).
NEURAL-008  FailedPreconditionError    The training cannot be cancelled any more (finished,
                                       or its model is being stored).
NEURAL-009  ResourceExhaustedError     The training queue is full.
NEURAL-010  DataLossError              A stored model is unreadable or its weights do not
                                       match their digest.
NEURAL-011  ValidationError            A prediction request is malformed (rows of different
                                       lengths, too many rows, bad range).
NEURAL-012  FailedPreconditionError    The feature source returned columns other than the
                                       strategy's resolved features (services out of step).
NEURAL-013  InternalError              The training worker failed; the message says why.
NEURAL-014  FailedPreconditionError    The model version exists already (versions are
                                       immutable) or the registry cannot be written.
==========  =========================  ======================================================
"""

from __future__ import annotations

from ktrdr_core.strategy.training import BAD_CONFIG as BAD_TRAINING_CONFIG

BAD_CONFIG = BAD_TRAINING_CONFIG  # NEURAL-001, defined with the parser in the core
MODEL_NOT_FOUND = "NEURAL-002"
BAD_MODEL_NAME = "NEURAL-003"
SCHEMA_MISMATCH = "NEURAL-004"
NOT_ENOUGH_DATA = "NEURAL-005"
SYMBOL_NOT_STORED = "NEURAL-006"
TRAINING_NOT_FOUND = "NEURAL-007"
NOT_CANCELLABLE = "NEURAL-008"
QUEUE_FULL = "NEURAL-009"
CORRUPT_MODEL = "NEURAL-010"
BAD_PREDICT_REQUEST = "NEURAL-011"
FEATURE_SOURCE_MISMATCH = "NEURAL-012"
WORKER_FAILED = "NEURAL-013"
REGISTRY_CONFLICT = "NEURAL-014"

ALL_CODES: tuple[str, ...] = tuple(f"NEURAL-{n:03d}" for n in range(1, 15))
