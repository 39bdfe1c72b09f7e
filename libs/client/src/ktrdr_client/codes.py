"""Error codes the Python client raises itself (the API's own codes come in its answers).

==========  ======  ====================================================================
Code        HTTP    Condition
==========  ======  ====================================================================
CLIENT-001  503     the API cannot be reached (connection refused, reset or timed out)
==========  ======  ====================================================================
"""

from __future__ import annotations

ALL_CODES: tuple[str, ...] = ("CLIENT-001",)
