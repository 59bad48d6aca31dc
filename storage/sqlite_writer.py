"""SQLite writers of one process take turns on an in-process lock that wakes the next one the
moment the lock is free, instead of sleeping through SQLite's busy-handler backoff.

:func:`storage.db.make_engine` installs it on SQLite engines (``ARBOT_DB_WRITER_LOCK=off``
leaves it out, to compare)."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event

_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


def writer_lock_of(engine: Engine) -> WriterLock | None:
    """The in-process writer lock of an SQLite engine (None: PostgreSQL, or switched off)."""
    return _WRITER_LOCKS.get(engine)


def writer_lock_wanted(environ: dict[str, str] | None = None) -> bool:
    """``ARBOT_DB_WRITER_LOCK=off`` leaves SQLite writers to its busy handler alone (to compare)."""
    env = os.environ if environ is None else environ
    return env.get("ARBOT_DB_WRITER_LOCK", "on").strip().lower() not in ("off", "0", "false", "no")


class WriterLock:
    """SQLite writers of one process take turns on a lock that wakes the next at once.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps 1, 2,
    5, 10, 20 ... ms between tries and so oversleeps the moment the lock is free: under load that
    sleep, not the work, is the tail of a chat answer. Queued here instead, a writer starts the
    instant the previous one commits or rolls back. Writers in other processes (a CLI import, a
    second scheduler) still meet at SQLite's lock and its busy handler, as before.

    Held from ``BEGIN IMMEDIATE`` to the end of the transaction. A thread that already holds it
    and begins another write (which SQLite would refuse anyway) is not made to wait on itself,
    and a wait past the busy timeout goes on to SQLite's own lock and its error."""

    def __init__(self, busy_seconds: float) -> None:
        self._lock = threading.Lock()
        self._busy = busy_seconds
        self._owner: int | None = None  # the thread holding it
        self._holder: Any = None  # the driver connection whose transaction holds it

    def guard(self, engine: Engine) -> None:
        """Take the lock before each writer's BEGIN (so register before the BEGIN hook) and give
        it back once its COMMIT or ROLLBACK has returned, or when its connection goes back to the
        pool or is dropped without one."""
        event.listen(engine, "begin", self._on_begin)
        dialect = engine.dialect
        for name in ("do_commit", "do_rollback"):
            setattr(dialect, name, self._ending(getattr(dialect, name)))
        for name in ("checkin", "close", "invalidate"):
            event.listen(engine.pool, name, self._on_pool_end)

    def _on_begin(self, conn: Connection) -> None:
        if conn.get_execution_options().get("read_only") or self._owner == threading.get_ident():
            return
        if self._lock.acquire(timeout=self._busy if self._busy > 0 else -1):
            self._owner, self._holder = threading.get_ident(), conn.connection.dbapi_connection

    def _ending(self, call: Callable[[Any], None]) -> Callable[[Any], None]:
        def ended(dbapi_conn: Any) -> None:
            try:
                call(dbapi_conn)
            finally:
                self._release(dbapi_conn)

        return ended

    def _on_pool_end(self, dbapi_conn: Any, *_: Any) -> None:
        self._release(dbapi_conn)

    @property
    def held(self) -> bool:
        return self._lock.locked()

    def _release(self, connection: Any) -> None:
        dbapi_conn = getattr(connection, "dbapi_connection", connection)  # the pool's wrapper, or the driver's
        if dbapi_conn is not None and dbapi_conn is self._holder:
            self._owner = self._holder = None
            self._lock.release()


def install_writer_lock(engine: Engine, busy_seconds: float) -> None:
    """Give ``engine`` its writer lock; register before the BEGIN hook so the lock is taken first."""
    _WRITER_LOCKS[engine] = WriterLock(busy_seconds)
    _WRITER_LOCKS[engine].guard(engine)
