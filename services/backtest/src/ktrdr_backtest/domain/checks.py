"""Collect every problem of a configuration before reporting (never only the first).

:class:`Problems` is the core's collector (:class:`ktrdr_core.problems.Problems`) with this
domain's conventions: every problem's message starts with its field, and numbers are checked
against bounds; :meth:`Problems.raise_if_any` raises :class:`ConfigProblems`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ktrdr_backtest.domain.errors import ConfigProblems
from ktrdr_core.errors import ValidationError, suggest
from ktrdr_core.problems import Problems as CoreProblems


class Problems(CoreProblems):
    """Problems found in one configuration, each with its field path.

    Parameters
    ----------
    code
        Stable code of every problem (``BACKTEST-001`` decisions, ``BACKTEST-002`` engine).
    prefix
        Prepended to every field, e.g. ``"decisions"`` gives ``decisions.stop_loss``.
    """

    def __init__(self, code: str, prefix: str = "") -> None:
        super().__init__(prefix=prefix, code=code)

    def add(  # type: ignore[override]  # the message is prefixed with the field
        self, field: str, message: str, *, suggestions: Iterable[str] = ()
    ) -> None:
        """Record one problem at ``field`` (relative to the prefix)."""
        path = self.path(field)
        self.items.append(
            ValidationError(self.code, f"{path}: {message}", field=path, suggestions=suggestions)
        )

    def adopt(self, error: ConfigProblems, under: str = "") -> None:
        """Re-home the problems of a nested configuration under ``under`` (relative)."""
        for p in error.problems:
            field = p.field or ""
            message = p.message.removeprefix(f"{field}: ")
            self.add(f"{under}.{field}" if under else field, message, suggestions=p.suggestions)

    def unknown_keys(  # type: ignore[override]  # this domain's message
        self, raw: Mapping[str, Any], allowed: Iterable[str], field: str
    ) -> list[str]:
        """One problem per key of ``raw`` not in ``allowed``, with close matches; the keys."""
        known = tuple(allowed)
        unknown = [str(key) for key in raw if key not in known]
        for key in unknown:
            self.add(
                f"{field}.{key}" if field else key,
                f"unknown key '{key}'; allowed: {', '.join(known)}.",
                suggestions=suggest(key, known),
            )
        return unknown

    def check_number(
        self,
        field: str,
        value: object,
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        high_open: bool = False,
    ) -> bool:
        """Record a problem unless ``value`` is a finite number inside the bounds."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(field, f"must be a number, not {value!r}.")
            return False
        number = float(value)
        ok = math.isfinite(number)
        if ok and low is not None:
            ok = number > low if low_open else number >= low
        if ok and high is not None:
            ok = number < high if high_open else number <= high
        if not ok:
            lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
            hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
            self.add(field, f"{value!r} is out of range {lo or '(-inf'}, {hi or 'inf)'}.")
        return ok

    def raise_if_any(self, what: str = "", *, code: str | None = None) -> None:
        """Raise :class:`ConfigProblems` listing every problem recorded."""
        if self.items:
            items = [p for p in self.items if isinstance(p, ValidationError)]
            raise ConfigProblems(code or self.code, what or "settings", items)
