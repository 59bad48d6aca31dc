"""Run every ``bench/bench_*.py`` module's ``main()`` in turn, or only those named on the command
line (``python -m bench calllist`` or ``python -m bench bench_calllist``). Options after the
names go to each named benchmark (``python -m bench morning_post --runs 5``), so one command
line runs any of them with its own settings."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))


def split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Benchmark names, then the options (from the first argument that starts with ``-``)."""
    first_option = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    return argv[:first_option], argv[first_option:]


def main(argv: list[str]) -> int:
    known = available()
    names, options = split(argv)
    wanted = [name if name.startswith("bench_") else f"bench_{name}" for name in names] or known
    unknown = [name for name in wanted if name not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(known)}", file=sys.stderr)
        return 2
    if options and not names:
        print("options go to named benchmarks: python -m bench <name> [options]", file=sys.stderr)
        return 2
    for name in wanted:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main(options)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
