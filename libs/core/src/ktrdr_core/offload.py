"""How domain code runs CPU-bound work without holding up an event loop.

Domain objects with async entry points (calculations that await a source, then compute) take an
:class:`Offload`: a callable that runs ``fn(*args, **kwargs)`` somewhere and awaits its result.
The services pass the runtime's worker pool (``ktrdr_runtime.workers.offload``);
``asyncio.to_thread`` fits too; :func:`inline` runs the work in the calling coroutine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload(Protocol):
    """Runs ``fn(*args, **kwargs)`` and awaits its result (in a worker thread, typically)."""

    def __call__(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Awaitable[T]: ...


async def inline(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` right here, in the calling coroutine."""
    return fn(*args, **kwargs)
