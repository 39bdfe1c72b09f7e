"""Run every benchmark (`python -m bench`) or some (`python -m bench data fuzzy`).

Each bench/bench_<name>.py has a main() that prints its table and rewrites its section of
docs/benchmarks.md. Benchmarks compare against peers in the same run; they never fail CI.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    chosen = argv or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        sys.stderr.write(f"unknown benchmark(s) {unknown}; choose from {names}\n")
        return 2
    for name in chosen:
        sys.stderr.write(f"== bench {name}\n")
        importlib.import_module(f"bench.bench_{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
