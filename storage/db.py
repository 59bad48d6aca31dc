"""Engine and session construction. Nothing is created at import time: the composition root
(bot/) calls :func:`make_engine` once per process with the configured URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_FILE = "arbot.db"


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
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """One engine per process. SQLite gets WAL, foreign keys and a busy timeout so the bot, the
    scheduler and a CLI import can share one file."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy own transaction boundaries (pysqlite's implicit BEGIN is disabled) so the
    # "begin" hook below can take the write lock up front.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing with 'database is
    locked' when a read transaction later tries to upgrade to a write. A transaction marked
    with :func:`read_only` takes a plain BEGIN and never holds the write lock."""
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


def read_only(session: Session) -> Session:
    """Start ``session``'s transaction as a reader (call it before the first statement). On
    SQLite a long read, such as a whole team's call list, then leaves the write lock to chat
    commands meanwhile; WAL still gives the reader one consistent snapshot."""
    session.connection(execution_options={"read_only": True})
    return session


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose flushes also keep the call list's packed open items in step."""
    from storage.open_items import keep_packs_current  # the models are not needed to make an engine

    keep_packs_current()
    return sessionmaker(engine, expire_on_commit=False)
