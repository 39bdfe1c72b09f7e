"""Open a report in headless Chromium (Debian's ``chromium``): did it render, and a screenshot.

The page records its own errors and every ``console.error`` into ``body[data-errors]`` and sets
``body[data-rendered]`` to ``ok`` or ``failed`` once its charts are drawn; this module reads them
back from the DOM Chromium dumps. Chromium runs with networking off, so a page that needed the
network would fail here.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import subprocess  # nosec B404 # runs the local Chromium binary (fixed argv, no shell)
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--hide-scrollbars",
    # No network at all: anything the page tried to fetch would fail.
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--virtual-time-budget=15000",
)


@dataclasses.dataclass(frozen=True, slots=True)
class PageCheck:
    rendered: str
    errors: list[str]
    dom: str


def find_chromium() -> str | None:
    """The Chromium executable on PATH, or ``None``."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], *, timeout: float) -> str:
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    done = subprocess.run(  # nosec B603 # the Chromium found on PATH, our flags, a local file
        [chromium, *FLAGS, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def check_page(path: str | Path, *, timeout: float = 90) -> PageCheck:
    """Load ``path`` and read back whether it rendered and what errors it recorded."""
    dom = _run(["--dump-dom", Path(path).resolve().as_uri()], timeout=timeout)
    body = re.search(r"<body([^>]*)>", dom)
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1))) if body else {}
    errors = json.loads(html.unescape(attrs.get("data-errors", "[]")) or "[]")
    return PageCheck(rendered=attrs.get("data-rendered", "missing"), errors=errors, dom=dom)


def screenshot(
    path: str | Path, out: str | Path, *, width: int = 1400, height: int = 2600, timeout: float = 90
) -> Path:
    """A PNG of the page's first ``width`` x ``height`` pixels."""
    target = Path(out).resolve()
    _run(
        [
            f"--window-size={width},{height}",
            f"--screenshot={target}",
            Path(path).resolve().as_uri(),
        ],
        timeout=timeout,
    )
    return target
