"""Error codes of the ib_gateway domain (``IB-0NN``) and IB's error codes mapped onto them.

Every error the domain raises is one of the ``ktrdr_core.errors`` classes with one of the
stable codes below (the runtime maps the class to the gRPC status once). Never reuse a number.

======  ========================  ===================  ============================================
Code    Class (gRPC status)       ``field``            Condition
======  ========================  ===================  ============================================
IB-001  UnavailableError          (none)               not connected to TWS / IB Gateway (down,
                                                       refused, still connecting)
IB-002  UnavailableError          (none)               circuit breaker open after repeated
                                                       connection failures
IB-003  UnavailableError          (none)               connection lost during a request (socket
                                                       closed, IB 1100 / 504) and not recovered
IB-004  ResourceExhaustedError    (none)               IB 162 pacing violation, still after the
                                                       retries
IB-005  NotFoundError             symbol               IB has no data (162 "returned no data" for
                                                       a head timestamp, 366)
IB-006  NotFoundError             symbol               IB 200: no security definition; names the
                                                       contract, suggestions = known symbols
IB-007  ValidationError           timeframe            bar size IB does not serve for this call
IB-008  ValidationError           start_date/end_date  range malformed, empty or too long
IB-009  DeadlineExceededError     (none)               IB did not answer in time (ib_async returns
                                                       an empty list on timeout)
IB-010  ValidationError           symbol/instrument_   symbol, instrument type, exchange, currency,
                                  type/what_to_show/   contract month or what_to_show invalid
                                  ...
IB-011  ValidationError           symbol               ambiguous contract; suggestions = the
                                                       candidates' local symbols
IB-012  FailedPreconditionError   (none)               IB 326: the client id is already in use
IB-013  FailedPreconditionError   (none)               any other IB refusal (e.g. 354 no market
                                                       data subscription), quoting IB's message
IB-014  ResourceExhaustedError    (none)               too many live subscriptions at once
======  ========================  ===================  ============================================
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

from ktrdr_core.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    KtrdrError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
    ValidationError,
)

NOT_CONNECTED = "IB-001"
CIRCUIT_OPEN = "IB-002"
CONNECTION_LOST = "IB-003"
PACING_VIOLATION = "IB-004"
NO_DATA = "IB-005"
NO_SECURITY_DEFINITION = "IB-006"
UNSUPPORTED_BAR_SIZE = "IB-007"
INVALID_RANGE = "IB-008"
TIMEOUT = "IB-009"
INVALID_CONTRACT = "IB-010"
AMBIGUOUS_CONTRACT = "IB-011"
CLIENT_ID_IN_USE = "IB-012"
IB_REJECTED = "IB-013"
TOO_MANY_SUBSCRIPTIONS = "IB-014"

ALL_CODES: tuple[str, ...] = tuple(f"IB-{n:03d}" for n in range(1, 15))

# IB's own codes the domain reacts to.
IB_PACING_OR_NO_DATA = 162
IB_NO_SECURITY_DEFINITION = 200
IB_VALIDATION = 321
IB_CLIENT_ID_IN_USE = 326
IB_NO_HISTORICAL_QUERY = 366
IB_NOT_CONNECTED = 504
IB_CONNECTIVITY_LOST = 1100
IB_CONNECTIVITY_RESTORED_DATA_LOST = 1101
IB_CONNECTIVITY_RESTORED = 1102


class IbErrorKind(enum.Enum):
    """What an IB error means for a request."""

    PACING = "pacing"
    NO_DATA = "no data"
    NO_CONTRACT = "no security definition"
    CONNECTION = "connection"
    INVALID = "invalid request"
    CLIENT_ID = "client id in use"
    OTHER = "other"


def classify(code: int, message: str) -> IbErrorKind:
    """The meaning of IB error ``code`` with text ``message`` (162 means two things)."""
    text = message.lower()
    if code == IB_PACING_OR_NO_DATA:
        if "pacing violation" in text:
            return IbErrorKind.PACING
        if "no data" in text:
            return IbErrorKind.NO_DATA
        return IbErrorKind.OTHER
    if code == IB_NO_HISTORICAL_QUERY:
        return IbErrorKind.NO_DATA
    if code == IB_NO_SECURITY_DEFINITION:
        return IbErrorKind.NO_CONTRACT
    if code in (IB_NOT_CONNECTED, IB_CONNECTIVITY_LOST):
        return IbErrorKind.CONNECTION
    if code == IB_VALIDATION:
        return IbErrorKind.INVALID
    if code == IB_CLIENT_ID_IN_USE:
        return IbErrorKind.CLIENT_ID
    return IbErrorKind.OTHER


class IbRequestError(Exception):
    """TWS refused a request with ``code`` and ``message`` (raised by the adapter)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"IB error {self.code}: {self.message}"

    @property
    def kind(self) -> IbErrorKind:
        return classify(self.code, self.message)


class IbTimeoutError(Exception):
    """TWS did not answer a request within its timeout (raised by the adapter)."""


class IbDisconnectedError(Exception):
    """The socket to TWS closed, or was not open, while a request needed it (adapter)."""


def to_domain_error(exc: IbRequestError, *, contract: str, what: str) -> KtrdrError:
    """The domain error for an IB refusal of ``what`` (e.g. "historical bars") on ``contract``.

    The message quotes IB's code and text and says what the user can do about it.
    """
    quoted = f"IB error {exc.code}: {exc.message}"
    kind = exc.kind
    if kind is IbErrorKind.PACING:
        return ResourceExhaustedError(
            PACING_VIOLATION,
            f"IB refused {what} for {contract} for pacing ({quoted}); retry in a few minutes.",
        )
    if kind is IbErrorKind.NO_DATA:
        return NotFoundError(
            NO_DATA, f"IB has no {what} for {contract} ({quoted}).", field="symbol"
        )
    if kind is IbErrorKind.NO_CONTRACT:
        return NotFoundError(
            NO_SECURITY_DEFINITION,
            f"IB knows no contract {contract} ({quoted}); check the symbol, instrument type, "
            "exchange and currency.",
            field="symbol",
        )
    if kind is IbErrorKind.CONNECTION:
        return UnavailableError(
            CONNECTION_LOST,
            f"IB connection lost while requesting {what} for {contract} ({quoted}).",
        )
    if kind is IbErrorKind.INVALID:
        return ValidationError(
            IB_REJECTED, f"IB rejected the request for {what} on {contract} as invalid ({quoted})."
        )
    if kind is IbErrorKind.CLIENT_ID:
        return FailedPreconditionError(CLIENT_ID_IN_USE, f"{quoted}; choose another client id.")
    return FailedPreconditionError(IB_REJECTED, f"IB refused {what} for {contract} ({quoted}).")


def timeout_error(*, contract: str, what: str, seconds: float) -> DeadlineExceededError:
    """IB-009: no answer to ``what`` within ``seconds`` (never reported as "no data")."""
    return DeadlineExceededError(
        TIMEOUT,
        f"IB did not answer the request for {what} on {contract} within {seconds:g} s; "
        "TWS may be busy or its historical data farm down (see GetStatus farms).",
    )


@contextlib.contextmanager
def ib_call(*, contract: str, what: str, timeout: float) -> Iterator[None]:
    """Turn the adapter's exceptions raised inside the block into domain errors."""
    try:
        yield
    except IbRequestError as exc:
        raise to_domain_error(exc, contract=contract, what=what) from None
    except IbTimeoutError:
        raise timeout_error(contract=contract, what=what, seconds=timeout) from None
    except IbDisconnectedError:
        raise UnavailableError(
            CONNECTION_LOST,
            f"The connection to TWS closed while requesting {what} for {contract}; retry shortly.",
            details={"dependency": "tws"},
        ) from None
