"""Exec a mesh process so that it dies with its supervisor.

``python -m ktrdr_cli.child SUPERVISOR_PID -- ARGV...`` asks the kernel (Linux ``prctl``
``PR_SET_PDEATHSIG``) to send SIGTERM to this process when its parent dies, checks the parent
is still the supervisor (it may have died already), then replaces itself with ``ARGV``; the
setting survives ``exec``. Elsewhere it just execs: ``ktrdr mesh down`` still stops every
process recorded in the state file.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m ktrdr_cli.child SUPERVISOR_PID -- ARGV...\n")
        return 2
    supervisor, command = int(argv[0]), argv[2:]
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != supervisor:  # the supervisor died before prctl took effect
        return 1
    os.execvp(command[0], command)  # nosec B606 # the supervisor's own argv, no shell
    return 127  # not reached: execvp raises OSError on failure


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
