"""Run every ``bench/bench_*.py`` module's ``main()`` in turn, or only those named on the command
line (``python -m bench calllist`` or ``python -m bench bench_calllist``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                  if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    known = available()
    wanted = [name if name.startswith("bench_") else f"bench_{name}" for name in argv] or known
    unknown = [name for name in wanted if name not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(known)}", file=sys.stderr)
        return 2
    for name in wanted:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
