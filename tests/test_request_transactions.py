"""One chat message, one transaction. Dana's promise stores its request key in the same
transaction as the promise: both commit, or neither does (a refusal, a failure at COMMIT), and a
redelivery after a rollback runs again instead of being taken for a duplicate. Her `status`
runs in a read-only transaction that stores no key and takes no write lock: a colleague's `log`
goes through while the status is still reading."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from commands.context import AppContext
from commands.messages import ChatUser, Incoming, Reply, Tone, Where
from commands.router import default_registry, handle, reads_only
from storage.models import InboundEvent
from tests.support.world import DANA, row_counts, seed_world


def ask(ctx: AppContext, text: str, key: str | None) -> list[Reply]:
    return handle(
        ctx, Incoming(user=ChatUser("slack", "U0DANA", DANA), where=Where("D0DANA"), text=text, request_id=key)
    )


def keys(ctx: AppContext) -> list[str]:
    with ctx.sessions() as session:
        return sorted(session.scalars(select(InboundEvent.event_id)))


@pytest.fixture
def transactions(ctx: AppContext) -> Iterator[list[str]]:
    """Every transaction the engine begins from here on: 'write' or 'read'."""
    seen: list[str] = []
    engine: Engine = ctx.sessions.kw["bind"]

    def began(conn: Any) -> None:
        seen.append("read" if conn.get_execution_options().get("read_only") else "write")

    event.listen(engine, "begin", began)
    yield seen
    event.remove(engine, "begin", began)


def test_a_promise_and_its_key_commit_in_one_transaction(ctx: AppContext, transactions: list[str]) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    transactions.clear()
    [answer] = ask(ctx, "promise C200 300 fri", "Ev-promise")
    assert answer.tone is Tone.SUCCESS, answer
    assert transactions == ["write"], "the key and the promise in one write transaction"
    after = row_counts(ctx)
    assert (after["promises"], after["inbound_events"]) == (before["promises"] + 1, before["inbound_events"] + 1)
    assert keys(ctx) == ["Ev-promise"]


def test_a_refusal_rolls_the_key_back_with_the_command(ctx: AppContext) -> None:
    """Nothing of a refused request stays, its key neither: the redelivery is refused again,
    with the same sentence, instead of being dropped or answered from a key that never counted."""
    seed_world(ctx)
    before = row_counts(ctx)
    [first] = ask(ctx, "promise C200 300 last year", "Ev-refused")
    assert first.tone is Tone.ERROR, first
    assert row_counts(ctx) == before
    [again] = ask(ctx, "promise C200 300 last year", "Ev-refused")
    assert again == first
    assert row_counts(ctx) == before


def test_a_failed_commit_leaves_neither_the_key_nor_the_promise(ctx: AppContext) -> None:
    """COMMIT fails (the database refuses it): the promise and the key roll back together, Dana
    hears that nothing was saved, and the platform's retry with the same key saves it once."""
    seed_world(ctx)
    before = row_counts(ctx)

    def refuse_commit(_session: Any) -> None:
        raise RuntimeError("the disk said no")

    event.listen(ctx.sessions, "before_commit", refuse_commit)
    try:
        [failed] = ask(ctx, "promise C200 300 fri", "Ev-commit")
    finally:
        event.remove(ctx.sessions, "before_commit", refuse_commit)
    assert failed.tone is Tone.ERROR and "nothing was saved" in failed.title, failed
    assert row_counts(ctx) == before
    [saved] = ask(ctx, "promise C200 300 fri", "Ev-commit")
    assert saved.tone is Tone.SUCCESS, saved
    after = row_counts(ctx)
    assert (after["promises"], after["inbound_events"]) == (before["promises"] + 1, before["inbound_events"] + 1)


def test_a_read_command_takes_a_read_only_transaction_and_stores_no_key(
    ctx: AppContext, transactions: list[str]
) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    transactions.clear()
    [status] = ask(ctx, "status C200", "Ev-status")
    assert status.tone is not Tone.ERROR and "Acme Ortho" in status.title, status
    assert transactions == ["read"]
    assert row_counts(ctx) == before
    [again] = ask(ctx, "status C200", "Ev-status")
    assert again == status, "asked again, answered again from the same ledger"


def test_a_writer_proceeds_while_a_read_command_runs(ctx: AppContext) -> None:
    """Halfway through Dana's `status` (it has looked her up and not yet answered), her `log`
    from another thread commits. Were the read holding the write lock, the log would wait for
    the status, which waits for the log: the thread would still be stuck when joined."""
    seed_world(ctx)
    engine: Engine = ctx.sessions.kw["bind"]
    reader = threading.get_ident()
    seen: dict[str, Any] = {}

    def log_call() -> None:
        seen["log"] = ask(ctx, "log C200 voicemail", "Ev-log")

    def midway(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.get_ident() != reader or "team_members" not in statement or "log" in seen:
            return
        seen["log"] = None
        if conn.dialect.name == "postgresql":
            seen["read_only"] = conn.exec_driver_sql("SHOW transaction_read_only").scalar()
        writer = threading.Thread(target=log_call, daemon=True)
        writer.start()
        writer.join(120)
        seen["writer_done"] = not writer.is_alive()
        seen["still_reading"] = conn.in_transaction()

    event.listen(engine, "after_cursor_execute", midway)
    try:
        [status] = ask(ctx, "status C200", "Ev-status")
    finally:
        event.remove(engine, "after_cursor_execute", midway)
    assert seen["writer_done"] and seen["still_reading"], seen
    [logged] = seen["log"]
    assert logged.tone is Tone.SUCCESS, logged
    assert status.tone is not Tone.ERROR, status
    if engine.dialect.name == "postgresql":
        assert seen["read_only"] == "on"
    assert keys(ctx) == ["Ev-log"]


@pytest.mark.parametrize(
    ("text", "only_reads"),
    [
        ("status C200", True),
        ("st acme", True),
        ("list", True),
        ("report last month", True),
        ("help", True),
        ("log C200 voicemail", False),
        ("promise C200 300 fri", False),
        ("approve", False),
        ("", False),
        ("hello there", False),
    ],
)
def test_which_messages_only_read(text: str, only_reads: bool) -> None:
    incoming = Incoming(user=ChatUser("slack", "U0DANA", DANA), where=Where("D0DANA"), text=text)
    assert reads_only(incoming, default_registry()) is only_reads
