"""The audit log is a hash chain you can check: a real workflow's events verify, and an event
edited, deleted or reordered behind the application's back (by someone who can drop the
append-only triggers) is named as the first broken link. The database refuses SQLite's REPLACE
and PostgreSQL's TRUNCATE, and the two-role setup in README leaves the bot unable to change,
delete, truncate or unprotect the log."""

from __future__ import annotations

import argparse
import itertools
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.cli_audit import run as audit_cli
from commands.context import AppContext
from storage.audit import GENESIS, record, verify
from storage.db import Timeouts, make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import AuditEvent
from storage.types import UTCDateTime
from tests.support.harness import Conversation
from tests.support.world import DANA, PRIYA, seed_world

README = Path(__file__).resolve().parent.parent / "README.md"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _check(ctx: AppContext, capsys: pytest.CaptureFixture[str], tip: str | None = None) -> tuple[int, str]:
    """``arbot audit verify``: its exit code and its one line."""
    code = audit_cli(ctx, argparse.Namespace(tip=tip))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return code, lines[0]


def _events(ctx: AppContext, count: int) -> None:
    """``count`` events, one per transaction as chat commands write them."""
    for i in range(count):
        with ctx.sessions.begin() as session:
            record(
                session,
                at=NOW + timedelta(minutes=i),
                actor=DANA,
                action=f"test.{i}",
                entity_type="customer",
                entity_id=i,
                amount="12.50",
                note="caf\u00e9 \u2014 ok",
            )


@contextmanager
def _unprotected(engine: Engine) -> Iterator[Connection]:
    """What an attacker with the owner role does: drop the append-only triggers, change rows,
    put the triggers back. Everything in one committed transaction."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            triggers = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")
            ).all()
            drop = [f"DROP TRIGGER {name}" for name, _ in triggers]
        else:
            triggers = conn.execute(
                text(
                    "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE "
                    "tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
                )
            ).all()
            drop = [f"DROP TRIGGER {name} ON audit_events" for name, _ in triggers]
        assert len(triggers) >= 2
        for statement in drop:
            conn.execute(text(statement))
        yield conn
        for _, create in triggers:
            conn.execute(text(create))


def test_a_days_work_leaves_an_intact_chain(ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "promise acme dental 1200 fri")
    chat.say(DANA, "paid c100 1200 today wire REF-1")
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")
    with ctx.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) >= 3 and {DANA, PRIYA} <= {e.actor for e in events}
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    code, line = _check(ctx, capsys)
    assert code == 0
    assert line == f"audit log intact: {len(events)} event(s), tip #{events[-1].id} {events[-1].hash}"


def test_an_empty_log_is_intact(ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(ctx, capsys) == (0, "audit log intact: no events yet")


@pytest.mark.parametrize(
    ("tampering", "broken_at", "says"),
    [
        (
            ["UPDATE audit_events SET actor = 'mallory@example.com' WHERE id = 3"],
            3,
            "its content does not match its hash",
        ),
        (
            ['UPDATE audit_events SET data = \'{"amount": "1.00"}\' WHERE id = 2'],
            2,
            "its content does not match its hash",
        ),
        (
            ["DELETE FROM audit_events WHERE id = 3"],
            4,
            "it does not follow event #2: an event between them was deleted",
        ),
        (["DELETE FROM audit_events WHERE id = 1"], 2, "it does not follow the start of the log"),
        (
            [
                "UPDATE audit_events SET id = -3 WHERE id = 3",
                "UPDATE audit_events SET id = 3 WHERE id = 2",
                "UPDATE audit_events SET id = 2 WHERE id = -3",
            ],
            2,
            "events were reordered",
        ),
        (["UPDATE audit_events SET hash = NULL WHERE id = 4"], 4, "it has no hash"),
    ],
    ids=["edited-actor", "edited-data", "deleted", "deleted-first", "reordered", "unhashed"],
)
def test_a_change_behind_the_applications_back_is_the_first_broken_link(
    ctx: AppContext, engine: Engine, capsys: pytest.CaptureFixture[str], tampering: list[str], broken_at: int, says: str
) -> None:
    _events(ctx, 5)
    assert _check(ctx, capsys)[0] == 0
    with _unprotected(engine) as conn:
        for statement in tampering:
            conn.execute(text(statement))
    code, line = _check(ctx, capsys)
    assert code == 1
    assert line.startswith(f"audit log BROKEN at event #{broken_at}: ") and says in line, line


def test_a_kept_tip_shows_the_newest_events_removed(
    ctx: AppContext, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _events(ctx, 3)
    code, line = _check(ctx, capsys)
    tip = line.rsplit(" ", 1)[1]
    assert code == 0 and _check(ctx, capsys, tip=tip)[0] == 0
    with _unprotected(engine) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 3"))
    assert _check(ctx, capsys)[0] == 0  # the chain alone cannot see its end cut off
    code, line = _check(ctx, capsys, tip=tip)
    assert code == 1 and f"the tip {tip} you kept is no longer in the chain" in line


def test_events_added_in_bulk_and_one_by_one_in_one_transaction_chain_in_order(ctx: AppContext) -> None:
    """A file import writes many events as one multi-row insert, then its summary event."""
    _events(ctx, 1)
    with ctx.sessions.begin() as session:
        record(session, at=NOW, actor=DANA, action="before", entity_type="import_batch")
        session.execute(
            insert(AuditEvent),
            [
                dict(
                    at=NOW,
                    actor=DANA,
                    action="payment_seen",
                    entity_type="payment",
                    entity_id=i,
                    data={"amount": f"{i}.00"},
                )
                for i in range(1, 4)
            ],
        )
        record(session, at=NOW, actor=DANA, action="import", entity_type="import_batch", rows=3)
    with ctx.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        found = verify(session.connection())
    assert actions == ["test.0", "before", "payment_seen", "payment_seen", "payment_seen", "import"]
    assert found.intact and found.events == 6


def test_a_rolled_back_savepoint_leaves_no_gap_in_the_chain(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        record(session, at=NOW, actor=DANA, action="kept", entity_type="customer")
        with pytest.raises(RuntimeError), session.begin_nested():
            record(session, at=NOW, actor=DANA, action="undone", entity_type="customer")
            session.flush()
            raise RuntimeError
        record(session, at=NOW, actor=DANA, action="kept too", entity_type="customer")
    with ctx.sessions() as session:
        assert session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all() == ["kept", "kept too"]
        assert verify(session.connection()).intact


def test_writers_racing_each_other_never_fork_the_chain(ctx: AppContext) -> None:
    """Four writers append at once; each waits its turn for the chain's tip."""
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with ctx.sessions.begin() as session:
                    record(session, at=NOW, actor=f"w{n}@example.com", action=f"race.{i}", entity_type="customer")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ctx.sessions() as session:
        found = verify(session.connection())
    assert found.intact and found.events == 40


def test_two_events_can_never_chain_onto_the_same_predecessor(ctx: AppContext, engine: Engine) -> None:
    """The last line of defence when a writer skipped the lock: a fork is refused, not stored."""
    _events(ctx, 2)
    with engine.connect() as conn:
        tip = conn.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        first = conn.execute(select(AuditEvent.hash).where(AuditEvent.id == 1)).scalar_one()
        with pytest.raises(IntegrityError):
            conn.execute(
                insert(AuditEvent.__table__).values(
                    id=99,
                    at=NOW,
                    actor="mallory@example.com",
                    action="fork",
                    entity_type="customer",
                    data={},
                    prev_hash=first,
                    hash=tip,
                )
            )
        conn.rollback()


def test_the_database_refuses_replace_and_upsert_over_events(ctx: AppContext, engine: Engine) -> None:
    _events(ctx, 3)
    with engine.connect() as conn:
        before = conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.id)).all()
    columns = "id, at, actor, action, entity_type, entity_id, customer_id, data, prev_hash, hash"
    forged = columns.replace("actor", "'mallory@example.com'")
    statements = {
        "sqlite": [
            f"REPLACE INTO audit_events ({columns}) SELECT {forged} FROM audit_events",
            f"INSERT OR REPLACE INTO audit_events ({columns}) SELECT {forged} FROM audit_events WHERE id = 2",
        ],
        "postgresql": [
            f"INSERT INTO audit_events ({columns}) SELECT {forged} FROM audit_events "
            "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor"
        ],
    }[engine.dialect.name]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.id)).all() == before
        assert verify(conn).intact


@contextmanager
def _throwaway_role(engine: Engine, *, password: str | None = None) -> Iterator[str]:
    """A PostgreSQL role that exists for one test; everything granted to it goes with it."""
    name = f"arbot_t_{uuid.uuid4().hex[:10]}"
    login = f"LOGIN PASSWORD '{password}'" if password else "NOLOGIN"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" {login}'))
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL roles and TRUNCATE: runs when TEST_DATABASE_URL points at a server")


def test_postgres_refuses_truncate_even_to_a_role_allowed_to(ctx: AppContext, engine: Engine) -> None:
    _postgres_only(engine)
    _events(ctx, 2)
    with _throwaway_role(engine) as role:
        with engine.begin() as conn:
            conn.execute(text(f'GRANT TRUNCATE ON audit_events TO "{role}"'))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f'SET LOCAL ROLE "{role}"'))
            conn.execute(text("TRUNCATE audit_events"))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 2


def test_postgres_refuses_truncate_to_a_superuser_too(ctx: AppContext, engine: Engine) -> None:
    """The test server's role is a superuser: TRUNCATE is refused all the same; only switching
    the triggers off on purpose (what a restore does) lets it through."""
    _postgres_only(engine)
    _events(ctx, 2)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 2


def _readme_grants() -> str:
    """The SQL block README gives for the owner to run after `arbot db upgrade`."""
    section = README.read_text().split("### Protecting the audit log", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "README: one block for the superuser, one for the owner"
    return blocks[1]


def test_the_readme_roles_let_the_bot_append_and_read_but_not_rewrite_the_log(ctx: AppContext, engine: Engine) -> None:
    _postgres_only(engine)
    _events(ctx, 2)
    password = uuid.uuid4().hex
    with _throwaway_role(engine, password=password) as app_role:
        database = engine.url.database
        grants = re.sub(r"\barbot_app\b", f'"{app_role}"', _readme_grants())
        grants = re.sub(r"\bDATABASE arbot\b", f'DATABASE "{database}"', grants)
        with engine.begin() as conn:
            for statement in filter(str.strip, grants.split(";")):
                conn.execute(text(statement))
        app = make_engine(engine.url.set(username=app_role, password=password).render_as_string(hide_password=False))
        try:
            _app_can_append_and_read(app)
            _app_cannot_rewrite(app)
        finally:
            app.dispose()
    with engine.connect() as conn:
        found = verify(conn)
    assert found.intact and found.events == 3


def _app_can_append_and_read(app: Engine) -> None:
    sessions = make_session_factory(app)
    with sessions.begin() as session:
        record(session, at=NOW, actor=DANA, action="as.app", entity_type="customer")
    with app.connect() as conn:
        assert conn.execute(select(func.current_user())).scalar_one() == app.url.username
        assert verify(conn).intact


def _app_cannot_rewrite(app: Engine) -> None:
    for statement in (
        "UPDATE audit_events SET actor = 'mallory@example.com'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DROP TRIGGER audit_events_no_change ON audit_events",
        "DROP TRIGGER audit_events_no_truncate ON audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "DROP TABLE audit_events",
    ):
        with pytest.raises(DBAPIError, match="permission denied|must be owner"), app.begin() as conn:
            conn.execute(text(statement))


def test_the_migration_chains_the_events_already_stored(engine: Engine, tmp_path: Path) -> None:
    """A database at 0008 with events in it: after the upgrade, verify passes and new events
    chain on."""
    with _fresh_database(engine, tmp_path) as fresh:
        upgrade(fresh, "0008")
        events = sa.table(
            "audit_events",
            sa.column("at", UTCDateTime()),
            sa.column("actor"),
            sa.column("action"),
            sa.column("entity_type"),
            sa.column("entity_id"),
            sa.column("customer_id"),
            sa.column("data", sa.JSON()),
        )
        with fresh.begin() as conn:
            conn.execute(
                events.insert(),
                [
                    dict(
                        at=NOW + timedelta(seconds=i, microseconds=i),
                        actor=DANA,
                        action=f"old.{i}",
                        entity_type="customer",
                        entity_id=i,
                        customer_id=None,
                        data={"n": i, "note": "caf\u00e9"},
                    )
                    for i in range(5)
                ],
            )
        upgrade(fresh)
        with fresh.connect() as conn:
            found = verify(conn)
            assert found.intact and found.events == 5
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text("UPDATE audit_events SET actor = 'x'"))
        with make_session_factory(fresh).begin() as session:
            record(session, at=NOW, actor=DANA, action="new", entity_type="customer")
        with fresh.connect() as conn:
            assert verify(conn).events == 6 and verify(conn).intact


@contextmanager
def _fresh_database(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on the same backend as ``engine``."""
    if engine.dialect.name == "sqlite":
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield fresh
        fresh.dispose()
        return
    name = f"arbot_mig_{uuid.uuid4().hex[:10]}"
    admin = make_engine(
        engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT", timeouts=Timeouts(statement=0)
    )  # CREATE/DROP DATABASE wait for a checkpoint
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = make_engine(engine.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield fresh
    finally:
        fresh.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
