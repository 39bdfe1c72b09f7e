"""Paging of large reads, as in Google's API design guide (AIP-158).

A read that can be large (LoadData bars, ExportBars rows, AnalyzeGaps gaps) takes
``page_size`` and ``page_token`` and answers ``next_page_token``:

* ``page_size`` 0 asks for everything in one response, which is refused with ``DATA-022``
  (pointing to paging and to StreamBars) when it would hold more than the read's maximum page
  (:data:`MAX_PAGE`); otherwise at most ``page_size`` items (1 .. the maximum page);
* ``next_page_token`` is empty on the last page; passing it back as ``page_token`` (with the
  same other request fields; ``page_size`` may change) continues after the last item returned;
* a token is opaque: the time of the next item and a fingerprint of the request, so a token
  used with another request, or edited, is ``DATA-023``.

Bars and gaps are ordered by time, so a page continues at a timestamp: bars written meanwhile
after the cursor show up on a later page, none is returned twice.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json

import numpy as np

from ktrdr_core.errors import ValidationError
from ktrdr_data.domain import errors as codes

# Largest page per read: bars ~60 bytes in protobuf and ~130 in JSON, CSV rows ~70 bytes,
# gaps ~150 bytes in JSON; the edge answers bodies up to 64 MiB.
MAX_PAGE: dict[str, int] = {"bars": 100_000, "rows": 100_000, "gaps": 100_000}
STREAM_HINT = "StreamBars (POST /api/v1/data/stream)"


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """What one paged read asks for.

    ``size`` is the page size (0: everything, if it fits in ``limit``), ``after_us`` the
    cursor from the token (the first item's time) or None on the first page.
    """

    size: int
    limit: int
    after_us: int | None
    fingerprint: str
    what: str

    @property
    def take(self) -> int:
        """How many items this page may hold."""
        return self.size or self.limit

    def token(self, next_us: int) -> str:
        """The token of the page that starts at ``next_us``."""
        raw = json.dumps({"c": next_us, "f": self.fingerprint}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def window(self, times_us: np.ndarray) -> tuple[slice, str]:
        """This page's items among items at strictly increasing ``times_us``, and the token of
        the next page ("" on the last)."""
        lo = 0 if self.after_us is None else int(np.searchsorted(times_us, self.after_us))
        self.check_total(len(times_us) - lo)
        hi = min(lo + self.take, len(times_us))
        return slice(lo, hi), self.token(int(times_us[hi])) if hi < len(times_us) else ""

    def check_total(self, total: int) -> None:
        """Refuse an unpaged read of ``total`` items larger than one page (``DATA-022``)."""
        if self.size == 0 and total > self.limit:
            raise ValidationError(
                codes.PAGE_TOO_LARGE,
                f"The range holds {total} {self.what}, more than {self.limit} in one response: "
                f"set 'page_size' (1 to {self.limit}) and follow 'next_page_token', narrow the "
                f"dates, or use {STREAM_HINT}.",
                field="page_size",
                details={"total": total, "max_page_size": self.limit},
            )


def page(size: int, token: str, *, what: str, request: tuple[object, ...]) -> Page:
    """Check ``page_size``/``page_token`` of a read of ``what`` (``bars``, ``rows``, ``gaps``).

    ``request`` holds the other fields that define the read (symbol, timeframe, dates, ...);
    a token is valid only for the same values.

    Raises
    ------
    ValidationError
        ``DATA-022`` for a page size outside ``0..MAX_PAGE[what]``; ``DATA-023`` for a token
        that is malformed or belongs to another request.
    """
    limit = MAX_PAGE[what]
    if not 0 <= size <= limit:
        raise ValidationError(
            codes.PAGE_TOO_LARGE,
            f"'page_size' {size} must be between 1 and {limit} (0: everything, up to {limit}).",
            field="page_size",
        )
    digest = hashlib.sha256(repr((what, *request)).encode()).hexdigest()[:16]
    after = _cursor(token, digest) if token else None
    return Page(size, limit, after, digest, what)


def _cursor(token: str, fingerprint: str) -> int:
    bad = ValidationError(
        codes.INVALID_PAGE_TOKEN,
        "'page_token' is not a token this read returned: pass back 'next_page_token' "
        "unchanged, with the same other fields as the request that returned it.",
        field="page_token",
    )
    if len(token) > 200:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("f") != fingerprint:
        raise bad
    cursor = data.get("c")
    if not isinstance(cursor, int) or isinstance(cursor, bool):
        raise bad
    return cursor
