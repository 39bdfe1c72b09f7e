"""Everything ``ktrdr`` shows: tables and lines on stdout, JSON for scripts, errors on stderr.

- Results go to **stdout**: rich tables for people, or with ``--json`` one JSON document (or
  one JSON object per line for streams) for scripts. Enum values are shown in their short
  form both ways (``local``, not ``LOAD_MODE_LOCAL``): what you type is what you see.
- Errors, hints and progress bars go to **stderr**, so piping stdout stays clean.
- When the reader closes stdout early (``| head``), output stops quietly: the next write
  raises :class:`StdoutClosed` once (the command ends with exit code 141) and every later
  write is dropped, so clean-up code (stopping a mesh) can still run and print nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class StdoutClosed(Exception):
    """The reader of stdout went away (``BrokenPipeError``); stop producing output."""


class _Console(Console):
    def on_broken_pipe(self) -> None:
        _close_stdout()
        self.quiet = True
        raise StdoutClosed


_closed = False


def _close_stdout() -> None:
    """Point fd 1 at /dev/null so nothing (not even the interpreter's exit flush) fails."""
    global _closed
    _closed = True
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# --- enum values ---------------------------------------------------------------------------


def _upper_snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.upper())
    return "".join(out)


@cache
def enum_short_names() -> dict[str, str]:
    """Every enum value of the contracts -> its short form (``LOAD_MODE_TAIL`` -> ``tail``)."""
    import importlib

    names: dict[str, str] = {}
    for domain in ("common", "data", "indicators", "fuzzy", "neural", "backtest", "ib_gateway"):
        try:
            module = importlib.import_module(f"ktrdr.{domain}.v1.{domain}_pb2")
        except ImportError:
            continue
        enums = list(module.DESCRIPTOR.enum_types_by_name.values())
        for message in module.DESCRIPTOR.message_types_by_name.values():
            enums += list(message.enum_types)
        for enum in enums:
            prefix = _upper_snake(enum.name) + "_"
            for value in enum.values:
                names[value.name] = value.name.removeprefix(prefix).lower()
    return names


def short(value: Any) -> Any:
    """The short form of an enum value name; anything else unchanged."""
    if isinstance(value, str):
        return enum_short_names().get(value, value)
    return value


def jsonable(value: Any) -> Any:
    """Plain JSON data: dataclasses as objects, datetimes as ISO-8601, NaN as null, short enums."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(short(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return short(value)


def cell(value: Any) -> str:
    """One table cell: short enums, compact floats, ISO timestamps, '' for nothing."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(short(value))


# --- the output object ---------------------------------------------------------------------


class Output:
    """Where a command writes (see the module docstring)."""

    def __init__(self, *, json_mode: bool = False, color: bool | None = None) -> None:
        no_color = color is False or bool(os.environ.get("NO_COLOR"))
        self.json_mode = json_mode
        self.out = _Console(no_color=no_color, highlight=False, soft_wrap=True)
        if not self.out.is_terminal:  # piped or redirected: never crop a table to 80 columns
            self.out.width = 1000
        self.err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)

    def _write(self, text: str) -> None:
        if _closed:
            return
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            _close_stdout()
            raise StdoutClosed from None

    def line(self, text: str = "") -> None:
        """A line of plain output (no markup)."""
        self._write(text + "\n")

    def json(self, value: Any) -> None:
        """One JSON document (pretty) on stdout."""
        self._write(json.dumps(jsonable(value), indent=2, allow_nan=False) + "\n")

    def json_line(self, value: Any) -> None:
        """One JSON object on one line (NDJSON, for streams)."""
        self._write(json.dumps(jsonable(value), allow_nan=False) + "\n")

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        numeric: Sequence[str] = (),
    ) -> None:
        """A rich table of ``rows`` (cells through :func:`cell`)."""
        table = Table(title=title, title_justify="left", header_style="bold")
        for name in columns:
            table.add_column(name, justify="right" if name in numeric else "left")
        for row in rows:
            table.add_row(*(cell(v) for v in row))
        if not _closed:
            self.out.print(table)

    def fields(self, pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
        """A two-column table of named values."""
        self.table(["field", "value"], list(pairs), title=title)

    def note(self, text: str) -> None:
        """Information for the person at the terminal (stderr; not part of the result)."""
        self.err.print(text, markup=False)

    def error(
        self,
        message: str,
        *,
        code: str = "",
        field: str = "",
        suggestions: Sequence[str] = (),
        hint: str = "",
        status: int | None = None,
    ) -> None:
        """An error on stderr: message with its stable code, field, suggestions and a hint."""
        if self.json_mode:
            body: dict[str, Any] = {"code": code, "message": message, "field": field}
            body |= {"status": status, "suggestions": list(suggestions), "hint": hint}
            sys.stderr.write(json.dumps({"error": body}) + "\n")
            return
        head = f"error: [{code}] {message}" if code else f"error: {message}"
        self.err.print(head + (f" (field: {field})" if field else ""), markup=False, style="red")
        if suggestions:
            self.err.print("  did you mean: " + ", ".join(suggestions), markup=False)
        if hint:
            self.err.print(f"  hint: {hint}", markup=False)

    @contextlib.contextmanager
    def progress(self, description: str, total: float | None) -> Iterator[Callable[[float], None]]:
        """A progress bar on stderr (only at a terminal and without ``--json``).

        Yields ``advance(n)``; the bar disappears when the work is done.
        """
        if self.json_mode or not self.err.is_terminal:
            yield lambda _n: None
            return
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )
        with bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)


_current = Output()


def set_current(out: Output) -> None:
    """Make ``out`` the output of this invocation (the root callback does)."""
    global _current
    _current = out


def current() -> Output:
    """The output of this invocation (plain, human output until the root callback runs)."""
    return _current
