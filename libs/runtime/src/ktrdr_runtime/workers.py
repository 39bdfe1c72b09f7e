"""CPU-bound work off the event loop: one bounded thread pool per service process.

Indicator batches, stream updates and fuzzification run here, so a large calculation never
stalls the loop that answers health checks and other calls. NumPy and TA-Lib release the GIL in
their loops; pure-Python stream updates share it, and the interpreter's switch interval (5 ms)
keeps the loop responsive between them. The request context (request id for the logs) follows
the work into the thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Threads in the pool: enough to keep every core busy, bounded so that a burst of requests
#: queues rather than oversubscribing the machine.
MAX_WORKERS = max(2, os.cpu_count() or 1)

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The process's worker pool (created on first use)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="ktrdr-cpu")
        return _pool


async def offload(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` in the worker pool and await its result.

    Satisfies :class:`ktrdr_core.offload.Offload`; exceptions propagate to the caller.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await loop.run_in_executor(pool(), call)
