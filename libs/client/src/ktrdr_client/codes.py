"""Error codes the Python client raises itself (the API's own codes come in its answers).

==========  ======  ====================================================================
Code        HTTP    Condition
==========  ======  ====================================================================
CLIENT-001  503     the API cannot be reached (connection refused, reset or timed out)
CLIENT-002  503     a streamed answer was cut off before it completed
                    (:class:`~ktrdr_client.errors.StreamInterruptedError`)
==========  ======  ====================================================================
"""

from __future__ import annotations

ALL_CODES: tuple[str, ...] = ("CLIENT-001", "CLIENT-002")
