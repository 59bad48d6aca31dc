"""A client-side deadline for PostgreSQL statements: the server's statement timeout cannot end
a wait on a network that stopped answering while the connection stays open, so a watcher thread
cuts the socket of a statement that has waited too long. :func:`unlimited` lifts both limits for
work that may rightly take minutes (migrations)."""

from __future__ import annotations

import heapq
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


class StatementDeadline:
    """Cuts the connection of a statement, COMMIT or ping that has waited past ``seconds``.

    The server's statement timeout ends a slow query, but not a network that stopped carrying
    answers while the connection stays open (a proxy or firewall holding it): the driver would
    wait for ever. One watcher thread per engine keeps the deadlines; on expiry it shuts the
    socket down, the driver's wait ends with "server closed the connection", and the caller gets
    an ordinary OperationalError it can explain. Arming and disarming is a heap push and a set
    removal: no thread per statement."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._heap: list[tuple[float, int, int]] = []  # (deadline, token, socket fd)
        self._armed: set[int] = set()
        self._tokens = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self.cut = 0  # connections cut so far (for the logs and tests)

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
        token = self._arm(fd)
        try:
            yield
        finally:
            with self._lock:
                self._armed.discard(token)

    def _arm(self, fd: int) -> int:
        with self._lock:
            token = next(self._tokens)
            self._armed.add(token)
            heapq.heappush(self._heap, (self._clock() + self.seconds, token, fd))
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="db-deadline", daemon=True)
                self._thread.start()
            self._wake.notify()
        return token

    def _watch(self) -> None:
        with self._lock:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, token, fd = self._heap[0]
                wait = deadline - self._clock()
                if wait > 0:
                    self._wake.wait(min(wait, 1.0))
                    continue
                heapq.heappop(self._heap)
                self._armed.discard(token)
                self.cut += 1
                _shut_down(fd)


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
