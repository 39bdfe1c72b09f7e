"""Write a benchmark's latest table into docs/benchmarks.md (one section per benchmark)."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Each section is rewritten by its benchmark (`python -m bench` runs them all). Figures are\n"
    "ratios against peers measured in the same run: the machines are shared and noisy, so compare\n"
    "ratios, not absolute times. Benchmarks never fail CI.\n"
)


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def write_section(name: str, title: str, body: str, command: str) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md with ``body``."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- bench:{name}:start -->\n## {title}\n\n"
        f"Run: `{command}` — {stamp} — {machine()}\n\n{body.rstrip()}\n"
        f"<!-- bench:{name}:end -->\n"
    )
    with open(DOC.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOC.read_text() if DOC.exists() else HEADER
        pattern = re.compile(
            rf"<!-- bench:{re.escape(name)}:start -->.*?<!-- bench:{re.escape(name)}:end -->\n",
            re.S,
        )
        text = (
            pattern.sub(lambda _: section, text)
            if pattern.search(text)
            else (text.rstrip() + "\n\n" + section)
        )
        tmp = DOC.with_suffix(".md.tmp")
        tmp.write_text(text)
        os.replace(tmp, DOC)


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
