"""The fake Slack Web API the tests use, run by a benchmark in a process of its own.

In the benchmark's process the fake would answer the server's calls on the same interpreter,
competing with the server for the GIL, so its own work would be counted as the server's. In a
child process it answers at once, as Slack would; the benchmark reads back what it saw (its
calls, their times on the shared monotonic clock) by asking it (:meth:`FakeSlackProcess.ask`).

Also the way benchmarks start their other processes (:func:`process`): spawned, not forked, so
a child starts clean of the parent's threads, engines and event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

START_SECONDS = 60


@contextmanager
def process(target: Callable[..., None], *args: Any) -> Iterator[tuple[Any, Connection]]:
    """Run ``target(*args, connection)`` in a fresh process; yield the first thing it sends,
    and the connection to talk to it further. The process is ended on the way out."""
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    child = spawn.Process(target=target, args=(*args, theirs), daemon=True)
    child.start()
    try:
        _wait_for_start(child, ours, getattr(target, "__name__", str(target)))
        yield ours.recv(), ours
    finally:
        child.terminate()
        child.join(10)


def _wait_for_start(child: Any, connection: Connection, name: str) -> None:
    """Until the child sends its first word; a child that died says so at once."""
    deadline = time.monotonic() + START_SECONDS
    while not connection.poll(0.05):
        if not child.is_alive():
            raise RuntimeError(f"{name} exited with {child.exitcode} before it started")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} did not start in {START_SECONDS} s")


@dataclass
class FakeSlackProcess:
    url: str
    _connection: Connection

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def ask(self, question: Callable[[Any], Any]) -> Any:
        """``question(fake)`` worked out in the fake's process (a module-level function, so it
        can be sent there); its answer comes back pickled."""
        self._connection.send(question)
        return self._connection.recv()


@contextmanager
def fake_slack_process(make: Callable[[], Any] | None = None) -> Iterator[FakeSlackProcess]:
    """A fake Slack built by ``make`` (a module-level function or a ``functools.partial`` of
    one; the tests' plain ``FakeSlack`` by default), serving in its own process."""
    with process(_serve_fake, make) as (url, connection):
        yield FakeSlackProcess(url, connection)


def _serve_fake(make: Callable[[], Any] | None, connection: Connection) -> None:
    async def serve() -> None:
        from tests.support.slack import FakeSlack

        fake = make() if make is not None else FakeSlack()
        await fake.start()
        connection.send(fake.url)
        while True:
            question = await asyncio.to_thread(connection.recv)
            connection.send(question(fake))

    asyncio.run(serve())
