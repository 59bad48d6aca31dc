"""Engine and session construction. Nothing is created at import time: the composition root
(bot/) calls :func:`make_engine` once per process with the configured URL.

Every connection has a bound on how long the database may keep it waiting, so that a chat
request on a broken network fails within seconds with a sentence instead of hanging as long as
the network does: PostgreSQL gets a connect timeout, TCP keepalives, a server-side
``statement_timeout`` and, for a peer that holds a connection open but never answers (which no
server-side limit can end), a client-side deadline that cuts the socket
(:class:`storage.deadline.StatementDeadline`); SQLite gets a busy timeout and, within one
process, a writer lock that hands over at once (:mod:`storage.sqlite_writer`)."""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from storage.deadline import StatementDeadline
from storage.sqlite_writer import install_writer_lock, writer_lock_wanted

DEFAULT_SQLITE_FILE = "arbot.db"
# PostgreSQL connections: at most 15 (as SQLAlchemy's default pool), of which 10 are kept open
# between requests instead of SQLAlchemy's 5. The server runs chat work on cores + 4 threads
# beside the outbox dispatcher and the scheduler; with 5 kept, the sixth and seventh concurrent
# requests each opened a connection (a server process, its authentication, our settings) and
# closed it again at the end, a few times a second at 50 messages a second.
KEPT_CONNECTIONS = 10
MAX_CONNECTIONS = 15
_PQ_IDLE = 0  # libpq's PQTRANS_IDLE (psycopg.pq.TransactionStatus.IDLE), without importing psycopg for SQLite


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
            install_writer_lock(engine, timeouts.busy)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = kwargs.pop("connect_args", {})
    pool = (
        {}
        if kwargs.get("poolclass")
        else {"pool_size": KEPT_CONNECTIONS, "max_overflow": MAX_CONNECTIONS - KEPT_CONNECTIONS}
    )
    engine = create_engine(url, connect_args={**_postgres_args(timeouts), **connect_args}, **{**pool, **kwargs})
    if timeouts.deadline is not None:
        StatementDeadline(timeouts.deadline).guard(engine)
    event.listen(engine.pool, "checkout", _checkout_check(engine))
    event.listen(engine, "begin", _postgres_begin)
    return engine


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
    """A transaction marked with :func:`read_only` is declared so to PostgreSQL (a write in it
    is an error instead of a surprise) in its BEGIN: psycopg starts the transaction with
    ``BEGIN READ ONLY``, where a ``SET TRANSACTION READ ONLY`` after it cost a round trip of
    its own on every read. Other transactions start with a plain BEGIN."""
    driver = conn.connection.driver_connection
    wanted = True if conn.get_execution_options().get("read_only") else None
    if getattr(driver, "read_only", None) is not wanted:
        driver.read_only = wanted  # no round trip: psycopg only changes the BEGIN it will send


def _checkout_check(engine: Engine) -> Callable[[Any, Any, Any], None]:
    """Instead of SQLAlchemy's pre-ping (a ``SELECT 1`` round trip each time a connection leaves
    the pool, one or two per chat message), a pooled connection is pinged only when it shows
    signs of trouble: psycopg says it is closed or not idle, or its socket has something to read
    while nothing was asked (the server's "terminating connection" and the end of the stream
    after a restart, or keepalives giving up on a peer that vanished). A ping that fails makes
    the pool drop that connection and take another, as pre-ping did. A connection dead without
    a sign (a network that swallows everything) is found out by its first statement, which the
    deadline cuts."""

    def check(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if _looks_alive(dbapi_conn):
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc

    return check


def _looks_alive(dbapi_conn: Any) -> bool:
    """Idle, open, and nothing waiting on its socket: one poll(2) of the socket, no round trip."""
    pgconn = getattr(dbapi_conn, "pgconn", None)
    try:
        if pgconn is None or dbapi_conn.closed or pgconn.transaction_status != _PQ_IDLE:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except Exception:  # no socket any more (psycopg raises its own error): not alive
        return False


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
