"""Shared fixtures. Every database test runs on SQLite, and on PostgreSQL too when
``TEST_DATABASE_URL`` points at a server (CI sets it). Schemas are built by the real Alembic
migrations, once per backend per test process; tests get a clean database each time."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text

from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.team import load_team, sync_members
from storage.db import Timeouts, make_engine, make_session_factory, normalize_url
from storage.migrate import upgrade
from storage.open_items import stale_packs

# Real exports as accounting systems produce them (QuickBooks A/R Aging Detail, a generic ERP).
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"

# Monday 23 Nov 2026, 09:00 in Chicago: the day the sample exports were taken.
MONDAY_MORNING = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_server_engine() -> Iterator[Engine | None]:
    """A throwaway database on the test server, so parallel test processes never collide."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    base_url = make_url(normalize_url(base))
    name = f"arbot_test_{uuid.uuid4().hex[:10]}"
    # Creating and dropping databases waits for a checkpoint, which on a busy server takes minutes.
    admin = make_engine(
        base_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT", timeouts=Timeouts(statement=0)
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    # The shared test server is slow under parallel load (a TRUNCATE can wait on a checkpoint);
    # the timeouts themselves are tested through a proxy in test_database_faults.
    engine = make_engine(
        base_url.set(database=name).render_as_string(hide_password=False), timeouts=Timeouts(statement=0)
    )
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
            .scalars()
            .all()
        )
        if tables:
            # A reset as a restore does it: triggers off for this transaction (superuser only),
            # since the audit log refuses TRUNCATE to everyone otherwise.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "arbot.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    pg = request.getfixturevalue("postgres_server_engine")
    _truncate_all(pg)
    yield pg


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_MORNING)


@pytest.fixture
def ctx(engine: Engine, clock: FixedClock) -> Iterator[AppContext]:
    """The example team on a migrated, empty database, on Monday 23 Nov 2026 09:00 Chicago.
    Whatever the test did, the call list's packed open items must still match the ledger."""
    team = load_team(EXAMPLE_TEAM_FILE)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        sync_members(session, team)
    yield AppContext(
        sessions=sessions,
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=clock,
    )
    with engine.connect() as conn:
        assert stale_packs(conn) == [], "packed open items disagree with the invoices of these customers"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def world(ctx: AppContext) -> Iterator[Any]:
    """The arbot server against the fake Slack Web API, on a small ledger of Dana's
    (tests.support.slack); imported here so Slack's libraries load only for the tests
    that use it."""
    from tests.support.slack import SlackWorld, seed

    seed(ctx)
    slack = SlackWorld(ctx)
    try:
        yield slack
    finally:
        slack.close()


@pytest.fixture
def slack(ctx: AppContext) -> Iterator[Any]:
    """The outbox's dispatcher delivering through the Slack messenger to the fake Slack Web API
    (tests.support.outbox.SlackOutbox), for the outbox tests; a module may define its own."""
    from tests.support.outbox import SlackOutbox

    world = SlackOutbox(ctx)
    try:
        yield world
    finally:
        world.close()


@pytest.fixture
def fake() -> Iterator[Any]:
    """The fake Slack Web API alone (tests.support.slack), serving on a loop of its own, for
    tests that drive a Slack client or messenger against it without the server."""
    from tests.support.slack import FakeSlack, LoopThread

    loop, slack = LoopThread(), FakeSlack()
    loop.run(slack.start())
    try:
        yield slack
    finally:
        loop.run(slack.stop())
        loop.close()
