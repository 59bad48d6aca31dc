"""How ``arbot serve`` runs Python for a server: the garbage collector and the worker threads.

- **Garbage collection.** Once the server is up, everything start-up loaded (modules, the
  command registry, SQLAlchemy's mappers, botbuilder's models) lives as long as the process;
  :func:`gc.freeze` moves it out of the collector's reach, so a full collection no longer walks
  it, and the young generation is collected every 5,000 allocations instead of 700. Measured
  with the Teams benchmark at 50 requests a second on two cores: no full collection in 30 s
  (16 to 20 before, 2.1 to 2.8 s of CPU) and about half the collector's CPU in all. A young
  threshold of 20,000 (the earlier setting) made each young collection a pause of up to 30-36 ms
  and each middle one up to 60; at 5,000 they stay under about 5 and 16 ms, and on a quiet
  machine the Teams reply p99 fell from 46-74 ms to 26-56 ms and the Slack acknowledgement p99
  from 6.1-7.8 ms to 4.9-6.3 ms (SQLite and PostgreSQL), side by side in the same runs, with less
  collector CPU. Python's own 700 with the freeze spends more CPU collecting.
- **Worker threads.** Listeners hand each request's core work to a thread (``asyncio.to_thread``).
  The pool is ``cpus + 4`` threads (as asyncio's own), never more than the database engine's
  connection pool holds (15): measured on two cores, 24 threads made Slack's acknowledgement
  p99 several times worse (every runnable thread takes its turn at the interpreter lock before
  the event loop that acknowledges gets it back) and, on PostgreSQL, left requests waiting for a
  connection. Threads waiting on the network cost little, so a box with more cores gets more.

- **The interpreter lock's switch interval.** A worker thread busy with a command keeps the lock
  until the interval runs out; the event loop that must acknowledge the next Slack request waits
  that long. Python's 5 ms is the tail of an acknowledgement; the server asks for
  :data:`SERVER_SWITCH_INTERVAL_MS` instead.

``ARBOT_GC=default`` (Python's collector as it comes), ``ARBOT_GC_THRESHOLDS=young,middle,old``,
``ARBOT_WORKERS=<n>`` and ``ARBOT_SWITCH_INTERVAL_MS=<ms>`` change them (to compare, or for a box
of another size)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)

DB_POOL = 15  # SQLAlchemy's default: 5 connections kept, 10 more on demand
DEFAULT_WORKERS = min(DB_POOL, (os.cpu_count() or 1) + 4)
# (young, middle, old): young collections every 5,000 allocations instead of 700; the middle
# and old generations as often, counted in young collections, as Python's defaults (10, 10).
SERVER_THRESHOLDS = (5_000, 10, 10)
SERVER_SWITCH_INTERVAL_MS = 1.0


@dataclass(frozen=True)
class Tuning:
    server_gc: bool = True
    workers: int = DEFAULT_WORKERS
    thresholds: tuple[int, int, int] = SERVER_THRESHOLDS
    switch_interval_ms: float = SERVER_SWITCH_INTERVAL_MS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Tuning:
        env = os.environ if environ is None else environ
        server_gc = env.get("ARBOT_GC", "server").strip().lower() != "default"
        try:
            workers = int(env.get("ARBOT_WORKERS") or DEFAULT_WORKERS)
        except ValueError:
            workers = DEFAULT_WORKERS
        return cls(
            server_gc=server_gc,
            workers=max(1, workers),
            thresholds=_thresholds(env.get("ARBOT_GC_THRESHOLDS", "")),
            switch_interval_ms=_switch_interval(env.get("ARBOT_SWITCH_INTERVAL_MS", "")),
        )

    async def on_startup(self, _app: object) -> None:
        """aiohttp's start-up hook: the server's pool, then the collector settled and frozen."""
        self.use_workers(asyncio.get_running_loop())
        sys.setswitchinterval(self.switch_interval_ms / 1000)
        if self.server_gc:
            freeze_after_start_up(self.thresholds)

    def use_workers(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.set_default_executor(ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="arbot-worker"))


def _thresholds(text: str) -> tuple[int, int, int]:
    try:
        young, middle, old = (int(part) for part in text.split(","))
    except ValueError:
        return SERVER_THRESHOLDS
    return (young, middle, old) if min(young, middle, old) > 0 else SERVER_THRESHOLDS


def _switch_interval(text: str) -> float:
    try:
        ms = float(text)
    except ValueError:
        return SERVER_SWITCH_INTERVAL_MS
    return ms if 0.05 <= ms <= 100 else SERVER_SWITCH_INTERVAL_MS


def freeze_after_start_up(thresholds: tuple[int, int, int] = SERVER_THRESHOLDS) -> None:
    """Collect start-up's garbage once, freeze what is left and set the server's thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    log.debug("garbage collector: %d objects frozen, thresholds %s", gc.get_freeze_count(), thresholds)
