"""Error codes the runtime itself answers with (``RUNTIME-0NN``).

===========  ==================  ==============================================================
Code         Status              Condition
===========  ==================  ==============================================================
RUNTIME-001  INTERNAL            an unexpected exception in a handler (the message quotes the
                                 request id, never a stack trace)
RUNTIME-002  UNAVAILABLE         a dependency service cannot be reached (named in the message)
RUNTIME-003  DEADLINE_EXCEEDED   a dependency service did not answer in time
RUNTIME-004  (the dependency's)  a dependency failed without a KTRDR error detail
RUNTIME-005  UNIMPLEMENTED       an RPC of the contract whose behaviour is not built yet
===========  ==================  ==============================================================
"""

from __future__ import annotations

INTERNAL = "RUNTIME-001"
DEPENDENCY_UNAVAILABLE = "RUNTIME-002"
DEPENDENCY_TIMEOUT = "RUNTIME-003"
DEPENDENCY_FAILED = "RUNTIME-004"
NOT_BUILT = "RUNTIME-005"

ALL_CODES: tuple[str, ...] = tuple(f"RUNTIME-{n:03d}" for n in range(1, 6))
