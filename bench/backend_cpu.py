"""CPU time of the PostgreSQL backends that serve one process, for benchmarks run on the same
machine as the database server.

A server's own CPU per reply leaves out what its queries cost the database, and on PostgreSQL
that is a second process competing for the same cores. Each benchmarked server connects under
its own ``application_name`` (libpq reads ``PGAPPNAME``); this samples those backends' CPU from
``/proc`` a few times a second, so a backend that the pool closes between samples loses at most
the last fraction of a second."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from storage.db import make_engine

_TICKS = os.sysconf("SC_CLK_TCK")


def app_name(variant: str) -> str:
    return f"arbot-bench-{variant}"


class BackendCpu:
    """CPU seconds of every backend seen under each application name, since :meth:`start`."""

    def __init__(self, url: str, names: list[str], every: float = 0.25) -> None:
        self.engine = make_engine(url, poolclass=NullPool)
        self.names, self.every = names, every
        self.seen: dict[int, tuple[str, float, float]] = {}  # pid -> (name, first sample, last sample)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU seconds by application name."""
        self._stop.set()
        self._thread.join()
        self.engine.dispose()
        totals = dict.fromkeys(self.names, 0.0)
        for name, first, last in self.seen.values():
            totals[name] += last - first
        return totals

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.wait(self.every):
                rows = conn.execute(
                    text("SELECT pid, application_name FROM pg_stat_activity WHERE application_name = ANY(:names)"),
                    {"names": self.names},
                ).all()
                conn.rollback()
                for pid, name in rows:
                    cpu = _cpu(pid)
                    if cpu is not None:  # a backend not seen before counts from its start
                        self.seen[pid] = (name, self.seen.get(pid, (name, 0.0, cpu))[1], cpu)

    def reset(self) -> None:
        """Count from now (after a warm-up)."""
        for pid, (name, _, last) in list(self.seen.items()):
            self.seen[pid] = (name, last, last)


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS
