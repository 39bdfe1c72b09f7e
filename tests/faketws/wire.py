"""The TWS socket framing: ``API\\0``, then ``>I`` length-prefixed messages of ``\\0``-ended fields.

See /work/shared/reference/ib-tws-wire-protocol.md (sections 1 and 2) for the byte-level facts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from collections.abc import Sequence

API_PREFIX = b"API\0"
MIN_CLIENT_VERSION = 157


def frame(fields: Sequence[object]) -> bytes:
    """One message: each field as text followed by NUL, behind a 4-byte big-endian length."""
    body = "".join(f"{'' if f is None else f}\0" for f in fields).encode()
    return struct.pack(">I", len(body)) + body


async def read_message(reader: asyncio.StreamReader) -> list[str]:
    """The fields of the next message (raises ``asyncio.IncompleteReadError`` at EOF)."""
    (size,) = struct.unpack(">I", await reader.readexactly(4))
    body = await reader.readexactly(size)
    fields = body.decode(errors="backslashreplace").split("\0")
    return fields[:-1] if fields and fields[-1] == "" else fields


def parse_versions(text: str) -> tuple[int, int]:
    """``v157..178`` (optionally followed by `` +OPTIONS``) -> (157, 178)."""
    spec = text.split(" ", 1)[0].lstrip("v")
    low, _, high = spec.partition("..")
    return int(low), int(high or low)


@dataclasses.dataclass(frozen=True, slots=True)
class ContractFields:
    """The 12 contract fields every request carries, in wire order."""

    con_id: int
    symbol: str
    sec_type: str
    month: str
    strike: str
    right: str
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str

    @classmethod
    def parse(cls, fields: Sequence[str], start: int) -> ContractFields:
        f = list(fields[start : start + 12])
        return cls(int(f[0] or 0), *f[1:])
