"""What every ``ktrdr`` subcommand shares: user output and where KTRDR's state lives."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ktrdr_client.client import default_home


def echo(line: str = "") -> None:
    """Write a line of command output for the user (logs go to stderr as JSON)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def home_dir(args: argparse.Namespace) -> Path:
    """``--home``, else ``$KTRDR_HOME``, else ``~/.ktrdr`` (the client's rule)."""
    return Path(args.home).expanduser() if args.home else default_home()
