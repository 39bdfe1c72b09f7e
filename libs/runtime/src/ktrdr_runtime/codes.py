"""Stable error codes raised by the shared runtime itself (not by a domain).

==========  ====================  ==========================================================
Code        gRPC status           Condition
==========  ====================  ==========================================================
RUNTIME-001 INTERNAL              unexpected exception in a handler (quotes the request id)
RUNTIME-002 UNAVAILABLE           a dependency is down or died during the call (names it)
RUNTIME-003 DEADLINE_EXCEEDED     a dependency did not answer in time (names it)
RUNTIME-004 (the dependency's)    a dependency failed without a KTRDR error detail
RUNTIME-005 UNIMPLEMENTED         the RPC is in the contract but not built yet
RUNTIME-006 INVALID_ARGUMENT      an enum field holds a number the contract does not define
RUNTIME-007 FAILED_PRECONDITION   the answer is too large for one message (points to a
                                  narrower range, paging or the streaming route)
==========  ====================  ==========================================================
"""

from __future__ import annotations

INTERNAL = "RUNTIME-001"
DEPENDENCY_UNAVAILABLE = "RUNTIME-002"
DEPENDENCY_DEADLINE = "RUNTIME-003"
DEPENDENCY_FAILED = "RUNTIME-004"
NOT_BUILT = "RUNTIME-005"
UNKNOWN_ENUM_VALUE = "RUNTIME-006"
RESPONSE_TOO_LARGE = "RUNTIME-007"

ALL_CODES: tuple[str, ...] = (
    INTERNAL,
    DEPENDENCY_UNAVAILABLE,
    DEPENDENCY_DEADLINE,
    DEPENDENCY_FAILED,
    NOT_BUILT,
    UNKNOWN_ENUM_VALUE,
    RESPONSE_TOO_LARGE,
)
