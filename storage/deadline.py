"""A client-side deadline for PostgreSQL statements: the server's statement timeout cannot end
a wait on a network that stopped answering while the connection stays open, so a watcher thread
cuts the socket of a statement that has waited too long. :func:`unlimited` lifts both limits for
work that may rightly take minutes (migrations)."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

IDLE_LOOKS = 60  # looks with nothing under way before the watcher thread ends


class StatementDeadline:
    """Cuts the connection of a statement, COMMIT or ping that has waited past ``seconds``.

    The server's statement timeout ends a slow query, but not a network that stopped carrying
    answers while the connection stays open (a proxy or firewall holding it): the driver would
    wait for ever. One watcher thread per engine looks at the statements under way every
    :attr:`tick` (at most a second; the deadline is a minute, so a second late is nothing) and
    shuts down the socket of any past its deadline; the driver's wait ends with "server closed
    the connection", and the caller gets an ordinary OperationalError it can explain.

    Arming and disarming is a dict store and a dict pop, with no lock and no wake-up: every
    statement of every worker passes here. An earlier version pushed each deadline on a heap
    under a lock and woke the watcher for it, so at 50 chat messages a second (about 1,000
    statements) the watcher ran once per statement and every worker queued on its lock: a
    tenth of the server's samples on PostgreSQL. The watcher ends after a while with nothing
    under way and is started again by the next statement, so an engine that is dropped leaves
    no thread behind."""

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick: float | None = None,
        idle_looks: int = IDLE_LOOKS,
    ) -> None:
        self.seconds = seconds
        self.tick = tick if tick is not None else min(1.0, max(0.01, seconds / 4))
        self.idle_looks = idle_looks
        self._clock = clock
        self._under_way: dict[int, tuple[float, int]] = {}  # token -> (deadline, socket fd)
        self._tokens = itertools.count()
        self._starting = threading.Lock()  # only to start or end the watcher
        self._thread: threading.Thread | None = None
        self.cut = 0  # connections cut so far (for the logs and tests)
        self.looks = 0  # times the watcher looked (for tests: not once per statement)

    def guard(self, engine: Engine) -> None:
        """Wrap the dialect's calls that wait on the server: execute, executemany, commit, ping."""
        dialect = engine.dialect
        for name in ("do_execute", "do_execute_no_params", "do_executemany", "do_commit", "do_ping"):
            setattr(dialect, name, self._wrapped(getattr(dialect, name)))

    def _wrapped(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(first: Any, *args: Any, **kwargs: Any) -> Any:
            connection = _driver_connection(first)
            if connection is None or connection in _UNLIMITED:
                return call(first, *args, **kwargs)
            with self.watching(_socket_of(connection)):
                return call(first, *args, **kwargs)

        return guarded

    @contextmanager
    def watching(self, fd: int | None) -> Iterator[None]:
        if fd is None:
            yield
            return
        token = next(self._tokens)  # atomic under the interpreter lock
        self._under_way[token] = (self._clock() + self.seconds, fd)
        if self._thread is None:
            self._start()
        try:
            yield
        finally:
            self._under_way.pop(token, None)

    @property
    def watcher(self) -> threading.Thread | None:
        """The watcher thread while there is one."""
        return self._thread

    def _start(self) -> None:
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="db-deadline", daemon=True)
                self._thread.start()

    def _watch(self) -> None:
        idle = 0
        while True:
            time.sleep(self.tick)
            self.looks += 1
            now = self._clock()
            for token, (deadline, fd) in self._under_way.copy().items():
                if deadline <= now and self._under_way.pop(token, None) is not None:
                    self.cut += 1
                    _shut_down(fd)
            idle = 0 if self._under_way else idle + 1
            if idle >= self.idle_looks and self._stopped_idle():
                return

    def _stopped_idle(self) -> bool:
        """End the watcher unless a statement came in meanwhile (it then sees a watcher)."""
        with self._starting:
            if self._under_way:
                return False
            self._thread = None
            return True


# Driver connections doing work that may take as long as it takes (migrations): no deadline.
_UNLIMITED: weakref.WeakSet[Any] = weakref.WeakSet()


@contextmanager
def unlimited(conn: Connection) -> Iterator[Connection]:
    """Within ``conn``'s transaction, no statement timeout and no deadline: a migration of a
    large ledger may rightly take minutes. Everything else keeps its limits."""
    if conn.dialect.name != "postgresql":
        yield conn  # SQLite has neither limit
        return
    driver = conn.connection.driver_connection
    conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
    _UNLIMITED.add(driver)
    try:
        yield conn
    finally:
        _UNLIMITED.discard(driver)


def _driver_connection(first: Any) -> Any:
    """The driver's connection behind what the dialect was handed (a cursor, the driver's
    connection, or SQLAlchemy's wrapper around it)."""
    if hasattr(first, "driver_connection"):
        return first.driver_connection
    if hasattr(first, "pgconn"):
        return first
    return getattr(first, "connection", None)  # a cursor


def _socket_of(connection: Any) -> int | None:
    """The socket a psycopg connection talks through, if it has one."""
    pgconn = getattr(connection, "pgconn", None)
    try:
        return int(pgconn.socket) if pgconn is not None else None
    except Exception:  # a closed connection has no socket: nothing to watch
        return None


def _shut_down(fd: int) -> None:
    """End every wait on this socket (the connection is then broken and gets discarded)."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()
