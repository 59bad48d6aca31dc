"""Engine and session construction. Nothing is created at import time: the composition root
(bot/) calls :func:`make_engine` once per process with the configured URL.

Every connection has a bound on how long the database may keep it waiting, so that a chat
request on a broken network fails within seconds with a sentence instead of hanging as long as
the network does: PostgreSQL gets a connect timeout, TCP keepalives, a server-side
``statement_timeout`` and, for a peer that holds a connection open but never answers (which no
server-side limit can end), a client-side deadline that cuts the socket
(:class:`StatementDeadline`); SQLite gets a busy timeout."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_FILE = "arbot.db"


@dataclass(frozen=True)
class Timeouts:
    """Seconds the database may keep the bot waiting. ``statement`` 0 means no limit (a
    migration of a large ledger may take longer than any chat request should)."""

    connect: float = 5.0
    statement: float = 60.0
    busy: float = 30.0  # SQLite: how long a writer queues for the lock before "database is locked"
    grace: float = 5.0  # the client-side deadline is the statement timeout plus this

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Timeouts:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            connect=_seconds(env, "ARBOT_DB_CONNECT_TIMEOUT", default.connect),
            statement=_seconds(env, "ARBOT_DB_STATEMENT_TIMEOUT", default.statement),
            busy=_seconds(env, "ARBOT_DB_BUSY_TIMEOUT", default.busy),
        )

    @property
    def deadline(self) -> float | None:
        return self.statement + self.grace if self.statement > 0 else None


def _seconds(env: Any, name: str, default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError:
        return default
    return value if value >= 0 else default


def default_database_url() -> str:
    """``DATABASE_URL`` if set, else an SQLite file in the working folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return normalize_url(url)
    return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


def normalize_url(url: str) -> str:
    """Accept the plain ``postgresql://`` spelling most platforms hand out; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """One engine per process. SQLite gets WAL, foreign keys and a busy timeout so the bot, the
    scheduler and a CLI import can share one file; PostgreSQL gets the timeouts above."""
    url = normalize_url(url)
    timeouts = timeouts or Timeouts.from_env()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": timeouts.busy}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(timeouts.busy))
        if writer_lock_wanted():
            _WRITER_LOCKS[engine] = WriterLock(timeouts.busy)
            _WRITER_LOCKS[engine].guard(engine)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = kwargs.pop("connect_args", {})
    engine = create_engine(url, pool_pre_ping=True, connect_args={**_postgres_args(timeouts), **connect_args}, **kwargs)
    if timeouts.deadline is not None:
        StatementDeadline(timeouts.deadline).guard(engine)
    event.listen(engine, "begin", _postgres_begin)
    return engine


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


def _postgres_args(timeouts: Timeouts) -> dict[str, Any]:
    """libpq's connect timeout and keepalives (a peer that vanished is noticed), and the server's
    statement timeout (a query stuck behind a lock ends with an error instead of waiting)."""
    args: dict[str, Any] = {
        "connect_timeout": max(1, round(timeouts.connect)),
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    if timeouts.statement > 0:
        args["options"] = f"-c statement_timeout={round(timeouts.statement * 1000)}"
    return args


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


def _sqlite_pragmas(busy_seconds: float) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy own transaction boundaries (pysqlite's implicit BEGIN is disabled) so the
        # "begin" hook below can take the write lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
        except Exception as exc:  # a read-only file or folder cannot switch to WAL; reading still works
            if not _read_only(exc):
                raise
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={round(busy_seconds * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return pragmas


def _read_only(exc: BaseException) -> bool:
    return "readonly" in str(exc).replace("-", "").replace(" ", "").lower()


def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing with 'database is
    locked' when a read transaction later tries to upgrade to a write. A transaction marked
    with :func:`read_only` takes a plain BEGIN and never holds the write lock."""
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


def _postgres_begin(conn: Any) -> None:
    """A transaction marked with :func:`read_only` is declared so to PostgreSQL: a write in it
    is an error instead of a surprise."""
    if conn.get_execution_options().get("read_only"):
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def read_only(session: Session) -> Session:
    """Start ``session``'s transaction as a reader (call it before the first statement). On
    SQLite a long read, such as a whole team's call list, then leaves the write lock to chat
    commands meanwhile; WAL still gives the reader one consistent snapshot. On PostgreSQL the
    transaction is READ ONLY."""
    session.connection(execution_options={"read_only": True})
    return session


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose flushes also keep the call list's packed open items in step."""
    from storage.open_items import keep_packs_current  # the models are not needed to make an engine

    keep_packs_current()
    return sessionmaker(engine, expire_on_commit=False)


# -- what went wrong, in a sentence ------------------------------------------------------------

_PROBLEMS = (  # (words in the driver's message, the sentence); first match wins
    (
        ("read-only", "readonly", "read only"),
        "the database is read-only (check the file's and its folder's permissions)",
    ),
    (
        ("database or disk is full", "no space left", "disk full", "could not extend file"),
        "the database's disk is full",
    ),
    (
        ("database is locked", "database table is locked", "lock timeout", "deadlock"),
        "the database is locked by another program and stayed locked past the timeout",
    ),
    (("statement timeout", "canceling statement due to"), "the database took too long to answer"),
    (("timeout expired", "timed out", "connection timeout"), "the database did not answer in time"),
    (
        (
            "connection refused",
            "could not connect",
            "could not translate host",
            "name or service not known",
            "no route to host",
            "network is unreachable",
        ),
        "the database cannot be reached",
    ),
    (
        (
            "server closed the connection",
            "connection reset",
            "broken pipe",
            "connection is closed",
            "terminating connection",
            "consuming input failed",
            "ssl syscall",
            "lost synchronization",
            "the connection is lost",
            "connection already closed",
        ),
        "the connection to the database was lost",
    ),
    (("unable to open database file", "no such file or directory"), "the database file cannot be opened"),
    (("authentication failed", "password"), "the database refused the bot's login"),
)


def database_problem(exc: BaseException) -> str | None:
    """What a database failure means, as a sentence a person can act on (None when ``exc`` is
    not one). Walks the causes, so a wrapped driver error is recognised too."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (DBAPIError, OSError)) or type(current).__module__.startswith(("sqlite3", "psycopg")):
            message = str(getattr(current, "orig", None) or current).lower()
            for words, sentence in _PROBLEMS:
                if any(word in message for word in words):
                    return sentence
            if isinstance(current, OperationalError):
                return "the database could not do what was asked"
        current = current.__cause__ or current.__context__
    return None


def connection_lost(exc: BaseException) -> bool:
    """Whether the failure cut the conversation with the database (so a COMMIT sent just
    before may or may not have taken effect)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError) or database_problem(exc) in (
        "the connection to the database was lost",
        "the database did not answer in time",
    )
