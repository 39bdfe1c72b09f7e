"""Size limits every KTRDR server and channel applies (one place, documented in the README)."""

from __future__ import annotations

# Largest gRPC message a service sends or receives.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# Largest unary answer to a request the REST edge transcoded: its JSON is ~3.5 times larger
# and the edge buffers it whole, so REST answers stop well before the gRPC limit.
REST_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# Request/response metadata a server or channel accepts (gRPC's default is 8 KiB): large
# enough for any header the edge lets through, so a long input is rejected by validation
# (400) rather than by the transport.
MAX_METADATA_BYTES = 64 * 1024
