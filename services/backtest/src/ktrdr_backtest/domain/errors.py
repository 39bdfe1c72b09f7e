"""Error codes of the backtest service.

Every error raised by :mod:`ktrdr_backtest` is a :class:`ktrdr_core.errors.KtrdrError` carrying
one of the stable codes below. ``field`` is a config path such as ``decisions.stop_loss.atr`` or a
request field; ``suggestions`` holds close matches of a misspelt name.

============  ========================  ======================================================
Code          Exception                 Condition
============  ========================  ======================================================
BACKTEST-001  ConfigProblems            A strategy's ``decisions:`` mapping is invalid; the
                                        error lists every problem (``problems``), each with its
                                        field and "did you mean" suggestions.
BACKTEST-002  ConfigProblems            Engine settings invalid (cash, costs, sizing, fills).
BACKTEST-003  ValidationError           A batch of bars is malformed (column lengths, times not
                                        increasing or not after the previous batch, prices not
                                        finite and positive, high below low).
BACKTEST-004  ValidationError           Model output malformed (signal values, probabilities
                                        shape or range, length different from the bars).
BACKTEST-005  FailedPreconditionError   Used out of order: an engine fed after ``finish`` or
                                        finished without bars, a stored run completed twice.
BACKTEST-006  ResourceExhaustedError    Too many bars (per batch or in total; see the bounds
                                        in :mod:`ktrdr_backtest.domain.engine`).
BACKTEST-007  ValidationError           Metric inputs invalid (periods per year, risk-free rate).
BACKTEST-008  NotFoundError             Backtest run not found.
BACKTEST-009  ValidationError           Bad page size or page token.
BACKTEST-010  UnavailableError          The results database cannot be reached.
BACKTEST-011  FailedPreconditionError   The results database schema cannot be migrated or is
                                        newer than this code.
BACKTEST-012  ValidationError           Bad database URL (scheme not sqlite or postgresql).
BACKTEST-013  ValidationError           A required request field is empty (``backtest_id``,
                                        ``strategy_id``).
BACKTEST-014  ValidationError           The strategy is invalid: ``problems`` (and the message)
                                        list every problem of every section, each with its own
                                        code, field and suggestions.
BACKTEST-015  ValidationError           A strategy setting is never used (an indicator nothing
                                        reads, a fuzzy set no network input is fed from).
BACKTEST-016  FailedPreconditionError   No trained model for the strategy, symbol and
                                        timeframe; the message gives the command to train one.
BACKTEST-017  FailedPreconditionError   The model does not fit the strategy (other features,
                                        another timeframe): retrain it.
BACKTEST-018  ValidationError           A backtest request is malformed (dates missing or out
                                        of order, symbol or timeframe not the strategy's,
                                        batch size out of bounds).
BACKTEST-019  FailedPreconditionError   No stored bars in the requested range (the message
                                        says how to load them).
BACKTEST-020  ValidationError           Walk-forward settings out of bounds (window sizes,
                                        purge or embargo shorter than the label horizon).
BACKTEST-021  FailedPreconditionError   Too few bars in the range for one walk-forward window.
BACKTEST-022  FailedPreconditionError   A service answered rows that do not match the bars
                                        sent (services out of step).
============  ========================  ======================================================
"""

from __future__ import annotations

from collections.abc import Sequence

from ktrdr_core.errors import ValidationError
from ktrdr_core.problems import ProblemsError

BAD_DECISIONS = "BACKTEST-001"
BAD_ENGINE_CONFIG = "BACKTEST-002"
BAD_BARS = "BACKTEST-003"
BAD_MODEL_OUTPUT = "BACKTEST-004"
ENGINE_STATE = "BACKTEST-005"
TOO_MANY_BARS = "BACKTEST-006"
BAD_METRIC_INPUT = "BACKTEST-007"
RUN_NOT_FOUND = "BACKTEST-008"
BAD_PAGE = "BACKTEST-009"
DATABASE_UNAVAILABLE = "BACKTEST-010"
SCHEMA_MISMATCH = "BACKTEST-011"
BAD_DATABASE_URL = "BACKTEST-012"
MISSING_FIELD = "BACKTEST-013"
BAD_STRATEGY = "BACKTEST-014"
UNUSED_SETTING = "BACKTEST-015"
NO_MODEL = "BACKTEST-016"
MODEL_MISMATCH = "BACKTEST-017"
BAD_RUN_REQUEST = "BACKTEST-018"
NO_BARS = "BACKTEST-019"
BAD_WALK_FORWARD = "BACKTEST-020"
WALK_FORWARD_TOO_SHORT = "BACKTEST-021"
OUT_OF_STEP = "BACKTEST-022"

ALL_CODES: tuple[str, ...] = tuple(f"BACKTEST-{n:03d}" for n in range(1, 23))


class ConfigProblems(ProblemsError):
    """Every problem found in one configuration, reported at once (the core's
    :class:`~ktrdr_core.problems.ProblemsError` with this domain's message).

    Parameters
    ----------
    code
        The configuration's code (``BACKTEST-001`` decisions, ``BACKTEST-002`` engine).
    what
        What was checked, e.g. ``"decisions"``.
    problems
        One :class:`ValidationError` per problem, each naming its field; never empty.
    """

    def __init__(self, code: str, what: str, problems: Sequence[ValidationError]) -> None:
        if not problems:
            raise ValueError("ConfigProblems needs at least one problem")
        self.problems = tuple(problems)
        count = len(self.problems)
        listed = "; ".join(p.full_message for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        ValidationError.__init__(
            self,
            code,
            f"Invalid {what} ({count} {noun}): {listed}",
            field=self.problems[0].field,
            details={f"problem_{i}": p.field or "" for i, p in enumerate(self.problems)},
        )
