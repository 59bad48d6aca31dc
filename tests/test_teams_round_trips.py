"""Dana asks for an account's status in her personal chat with the bot, on PostgreSQL, twice. The
second time her conversation and who she is are known, and the answer costs one read-only
transaction and nothing around it: ``BEGIN READ ONLY``, the status's own statements, the end.
No ``SELECT 1`` ping when the pooled connection is taken and no ``SET TRANSACTION READ ONLY``
after the BEGIN: at 50 messages a second each would be 50 more round trips a second, each one
a wait for the server and for the interpreter lock (issue 16).

What went over the wire is read from libpq's own protocol trace of every connection, so the
count includes what SQLAlchemy's statement events never see (pings, BEGIN, COMMIT)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from sqlalchemy import Engine, event

from commands.context import AppContext
from tests.support.teams import DANA, TeamsWorld, personal, run, teams_ctx, teams_user_id, title_of
from tests.support.world import seed_world


class WireTrace:
    """libpq's trace of every connection the engine opens from now on, in one file."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.engine, self.path = engine, path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        event.listen(engine, "connect", self._trace)  # the pool dispose() makes too
        engine.dispose()  # connections opened before are not traced: open new ones

    def _trace(self, dbapi_conn: Any, _record: Any) -> None:
        from psycopg.pq import Trace

        dbapi_conn.pgconn.trace(self._fd)
        dbapi_conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)

    def mark(self) -> int:
        return self.path.stat().st_size

    def since(self, mark: int) -> list[list[str]]:
        """The messages since ``mark``: [direction, length, type, contents...] each."""
        with self.path.open(encoding="utf-8", errors="replace") as trace:
            trace.seek(mark)
            return [line.rstrip("\n").split("\t") for line in trace if line.strip()]

    def close(self) -> None:
        self.engine.dispose()  # the traced connections go, with the file they write to
        event.remove(self.engine, "connect", self._trace)
        os.close(self._fd)


@pytest.fixture
def wire(ctx: AppContext, tmp_path: Path) -> Iterator[WireTrace]:
    engine = ctx.sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("round trips to a PostgreSQL server (TEST_DATABASE_URL)")
    trace = WireTrace(engine, tmp_path / "wire.trace")
    yield trace
    trace.close()


def status_from_dana(world: TeamsWorld) -> Activity:
    """Dana's message straight to the bot (the rig's outbox drain, its own transactions, is not
    part of answering her)."""
    return Activity(
        type=ActivityTypes.message,
        text="status acme dental",
        from_property=ChannelAccount(id=teams_user_id(DANA), name=DANA),
        conversation=personal(DANA),
    )


def test_a_status_in_teams_is_one_read_only_transaction_and_no_other_round_trip(
    ctx: AppContext, wire: WireTrace
) -> None:
    seed_world(ctx)
    world = TeamsWorld(teams_ctx(ctx))
    marks: list[int] = []

    async def conversation() -> None:
        await world.start()
        [first] = await world.say(DANA, "status acme dental")  # her chat and identity become known
        assert title_of(first) == "Acme Dental Group (C100)"
        marks.append(wire.mark())
        before = len(world.adapter.activity_buffer)
        await world.adapter.receive_activity(status_from_dana(world))
        [again] = world.adapter.activity_buffer[before:]
        assert title_of(again) == "Acme Dental Group (C100)"

    run(conversation)
    sent = [message for message in wire.since(marks[0]) if message[0] == "F"]
    simple = [message[3].strip().strip('"') for message in sent if message[2] == "Query"]
    statements = sum(message[2] == "Sync" for message in sent)  # one per parameterised statement
    round_trips = sum(message[0] == "B" and message[2] == "ReadyForQuery" for message in wire.since(marks[0]))
    assert simple == ["BEGIN READ ONLY", "ROLLBACK"], f"round trips besides the statements: {simple}"
    assert statements >= 5, "the status reads the account (or the trace missed its statements)"
    assert round_trips == statements + 2, "every round trip is the BEGIN, a statement or the end"
