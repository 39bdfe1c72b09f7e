"""Error codes the edge answers with itself (the auth filter and Envoy's local replies).

===========  ======  =====================================================================
Code         HTTP    Condition
===========  ======  =====================================================================
AUTH-001     401     no API key
AUTH-002     401     an unknown or revoked API key
AUTH-003     403     the key's role is below the operation's (``ktrdr_gateway.policy``)
AUTH-004     429     the key's rate limit is exceeded
AUTH-005     429     too many requests without a valid key from one address (``retry-after``)
GATEWAY-001  400     the request does not match the API schema
GATEWAY-002  404     no operation matches the method and path (also 405)
GATEWAY-003  413     request body or headers too large (also 431)
GATEWAY-004  503     a backend service is unavailable (also 502)
GATEWAY-005  504     a backend service did not answer in time
GATEWAY-006  500     an internal gateway error
GATEWAY-007  (line)  a REST stream failed with a gRPC status that names no KTRDR code (the
                     stream's last NDJSON ``{"error": ...}`` line; ``stream_status.lua``)
===========  ======  =====================================================================
"""

from __future__ import annotations

ALL_CODES: tuple[str, ...] = (
    *(f"AUTH-{n:03d}" for n in range(1, 6)),
    *(f"GATEWAY-{n:03d}" for n in range(1, 8)),
)
