"""SQLite writers of one process take turns on an in-process lock: held from BEGIN IMMEDIATE to
the end of the transaction however it ends (commit, rollback, an error, a connection dropped),
never by a reader, and under contention every writer gets its turn and writes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from storage.db import make_engine, make_session_factory, read_only
from storage.migrate import upgrade
from storage.models import ChatIdentity
from storage.sqlite_writer import writer_lock_of, writer_lock_wanted

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'arbot.db'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def identity(n: int) -> ChatIdentity:
    return ChatIdentity(platform="slack", user_id=f"U{n}", email=f"person{n}@example.com", updated_at=NOW)


def test_held_by_a_writer_until_its_transaction_ends_however_it_ends(sessions) -> None:  # type: ignore[no-untyped-def]
    lock = writer_lock_of(sessions.kw["bind"])
    assert lock is not None and not lock.held
    with sessions.begin() as session:
        session.add(identity(1))
        session.flush()
        assert lock.held
    assert not lock.held, "released after COMMIT"
    with pytest.raises(RuntimeError), sessions.begin() as session:
        session.add(identity(2))
        session.flush()
        raise RuntimeError("the command failed")
    assert not lock.held, "released after ROLLBACK"
    with pytest.raises(Exception, match="UNIQUE"), sessions.begin() as session:
        session.add(identity(1))  # the same user again: the flush fails
    assert not lock.held, "released after a failed statement"
    with sessions() as session:
        session.execute(text("SELECT 1"))
        assert lock.held
        session.connection().invalidate()
    assert not lock.held, "released when the connection was dropped mid-transaction"
    with sessions() as session:
        read_only(session).execute(select(ChatIdentity.id)).all()
        assert not lock.held, "a reader never takes it"


def test_concurrent_writers_all_write(sessions) -> None:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def write(first: int) -> None:
        try:
            for n in range(first, first + 25):
                with sessions.begin() as session:
                    session.add(identity(n))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k * 100,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ChatIdentity)) == 150
    assert not writer_lock_of(sessions.kw["bind"]).held


def test_the_switch() -> None:
    assert writer_lock_wanted({}) and writer_lock_wanted({"ARBOT_DB_WRITER_LOCK": "on"})
    assert not writer_lock_wanted({"ARBOT_DB_WRITER_LOCK": "off"})
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert writer_lock_of(engine) is None, "PostgreSQL has row locks: no process-wide writer lock"
