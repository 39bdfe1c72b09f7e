"""Collect every problem of a configuration, then report them all at once.

A section parser (the strategy grammar, the ``model``/``training`` settings, a strategy's
``decisions``) records what is wrong and carries on with a safe default instead of stopping at
the first problem; the caller raises one :class:`ProblemsError` listing them all::

    problems = Problems()
    with problems.capture():             # a KtrdrError raised inside is recorded, not raised
        timeframe = parse_timeframe(raw)
    problems.unknown_keys(raw, ALLOWED, "training_data", code="FUZZY-006")
    problems.raise_if_any("strategy 'x'")

Each problem keeps its own stable code, field and "did you mean" suggestions. One problem is
raised as itself (same code, message, field and suggestions, so callers that expected the single
error see no change); several are raised as one error with the first problem's code and field,
every problem's message in its text and each problem in :attr:`ProblemsError.problems`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ktrdr_core.errors import KtrdrError, ValidationError, suggest


class ProblemsError(ValidationError):
    """Every problem found in one configuration (INVALID_ARGUMENT).

    Parameters
    ----------
    problems
        The problems, in the order found; never empty.
    what
        What was checked (``"strategy 'x'"``), used in the message when there are several.
    code
        The aggregate's code; default the first problem's.
    """

    def __init__(
        self, problems: Sequence[KtrdrError], *, what: str = "", code: str | None = None
    ) -> None:
        if not problems:
            raise ValueError("ProblemsError needs at least one problem")
        self.problems: tuple[KtrdrError, ...] = tuple(problems)
        first = self.problems[0]
        if len(self.problems) == 1:
            super().__init__(
                code or first.code,
                first.message,
                field=first.field,
                suggestions=first.suggestions,
                details=first.details,
            )
            return
        listed = "; ".join(p.full_message for p in self.problems)
        prefix = f"{what}: " if what else ""
        super().__init__(
            code or first.code,
            f"{prefix}{len(self.problems)} problems: {listed}",
            field=first.field,
            details={"problems": len(self.problems)},
        )


def problems_of(error: KtrdrError) -> tuple[KtrdrError, ...]:
    """Every problem an error carries (itself for a plain error)."""
    carried = getattr(error, "problems", None)
    if carried and all(isinstance(p, KtrdrError) for p in carried):
        return tuple(carried)
    return (error,)


class Problems:
    """The problems found so far in one configuration.

    Parameters
    ----------
    prefix
        Put before every field recorded with :meth:`add` (``"decisions"`` makes
        ``stop_loss`` into ``decisions.stop_loss``).
    code
        Default code of :meth:`add` and :meth:`unknown_keys`.
    """

    def __init__(self, *, prefix: str = "", code: str = "") -> None:
        self.prefix = prefix
        self.code = code
        self.items: list[KtrdrError] = []

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def path(self, field: str) -> str:
        """``field`` under the prefix."""
        if self.prefix and field:
            return f"{self.prefix}.{field}"
        return self.prefix or field

    def add(
        self,
        field: str,
        message: str,
        *,
        code: str = "",
        suggestions: Iterable[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record one problem at ``field`` (under the prefix); the message is used as given."""
        chosen = code or self.code
        if not chosen:
            raise ValueError("Problems.add needs a code (or a default code)")
        self.items.append(
            ValidationError(
                chosen,
                message,
                field=self.path(field) or None,
                suggestions=suggestions,
                details=details,
            )
        )

    def record(self, error: KtrdrError) -> None:
        """Record an error raised elsewhere; an aggregate contributes each of its problems."""
        self.items.extend(problems_of(error))

    @contextlib.contextmanager
    def capture(self, *kinds: type[KtrdrError]) -> Iterator[None]:
        """Record a :class:`KtrdrError` (of ``kinds``, default any) raised in the block."""
        try:
            yield
        except KtrdrError as exc:
            if kinds and not isinstance(exc, kinds):
                raise
            self.record(exc)

    def unknown_keys(
        self,
        raw: Mapping[Any, Any],
        allowed: Sequence[str],
        field: str,
        *,
        code: str = "",
        cutoff: float = 0.6,
    ) -> list[str]:
        """One problem per key of ``raw`` not in ``allowed``, with close matches; the keys."""
        unknown = [str(k) for k in raw if k not in allowed]
        for key in unknown:
            where = f"'{self.path(field)}'" if self.path(field) else "The document"
            self.add(
                f"{field}.{key}" if field else key,
                f"{where} has unknown key '{key}'; allowed keys are {', '.join(allowed)}.",
                code=code,
                suggestions=suggest(key, allowed, cutoff=cutoff),
            )
        return unknown

    def raise_if_any(self, what: str = "", *, code: str | None = None) -> None:
        """Raise :class:`ProblemsError` listing every problem recorded (nothing when none)."""
        if self.items:
            raise ProblemsError(self.items, what=what, code=code)
