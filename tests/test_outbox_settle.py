"""Settling an entry (writing what its send came to) is one guarded UPDATE: the row is not read
first, since the dispatcher's claim already holds everything the UPDATE needs; and the settles
of lanes that wait at the same moment are written in one transaction.
A claim another dispatcher took over meanwhile is still left alone, and a failure for good is
still reported once."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, update

from commands.context import AppContext
from commands.messages import PostedRef, Where
from commands.outbox.dispatch import RoundReport
from commands.outbox.outcomes import Outcome, Sent, Settler
from commands.outbox.settling import GroupSettle
from storage.models import OutboxEntry
from tests.support.outbox import SlackOutbox, direct, entries, exactly_once, statuses

PEOPLE = ("sam.okafor@example.com", "dana.reyes@example.com", "priya.shah@example.com")


@contextmanager
def outbox_statements(ctx: AppContext) -> Iterator[list[str]]:
    engine = ctx.sessions.kw["bind"]
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if re.search(r"\boutbox\b", statement):
            seen.append(re.sub(r"%\(\w+\)s(::\w+)?", "?", " ".join(statement.split())))  # PostgreSQL's parameters as ?

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_each_sent_entry_is_settled_by_one_update_without_reading_its_row(slack: SlackOutbox) -> None:
    keys = slack.queue([direct(person, f"List for {person}") for person in PEOPLE])
    dispatcher = slack.restarted()
    with outbox_statements(slack.ctx) as seen:
        report = dispatcher.run_once()
    assert report.sent == 3
    settles = [s for s in seen if s.startswith("UPDATE outbox SET") and "WHERE outbox.id = ?" in s]
    assert len(settles) == 3
    by_id = [s for s in seen if s.startswith("SELECT") and "WHERE outbox.id = ?" in s]
    assert by_id == []  # no read of the row before its settle
    assert exactly_once(slack.ctx, slack.fake) == []
    assert len(keys) == 3
    assert set(statuses(slack.ctx).values()) == {"sent"}


def test_a_claim_taken_over_meanwhile_is_left_to_the_one_that_took_it(slack: SlackOutbox) -> None:
    [key] = slack.queue([direct(PEOPLE[0], "Your list")])
    dispatcher = slack.restarted()
    [claimed] = dispatcher.claim()
    with slack.ctx.sessions.begin() as session:  # its lease ran out and another dispatcher took it
        session.execute(update(OutboxEntry).where(OutboxEntry.id == claimed.id).values(claimed_by="other:1"))
    report = RoundReport()
    dispatcher._work_lane(("slack", f"direct:{PEOPLE[0]}"), [claimed], frozenset(), report)
    assert report.taken_over == 1
    row = entries(slack.ctx)[key]
    assert (row.status, row.claimed_by, row.message_id) == ("sending", "other:1", None)


def test_a_failure_for_good_is_written_and_reported_once(slack: SlackOutbox) -> None:
    slack.fake.users.pop("U0SAM")
    [key] = slack.queue([direct(PEOPLE[0], "Your list")])
    report = slack.restarted().drain()
    assert report.failed == 1
    row = entries(slack.ctx)[key]
    assert (row.status, row.attempts, row.reported) == ("failed", 1, True)
    assert "sam.okafor@example.com" in (row.last_error or "")
    reports = [e for k, e in entries(slack.ctx).items() if k.startswith("admin-report:")]
    assert len(reports) == 1


def test_a_retry_is_written_from_the_claim(slack: SlackOutbox) -> None:
    slack.fake.fail_next("chat.postMessage", status=429)
    [key] = slack.queue([direct(PEOPLE[1], "Your list")])
    report = slack.restarted().run_once()
    assert report.retried == 1
    row = entries(slack.ctx)[key]
    assert (row.status, row.attempts, row.may_have_landed, row.claimed_until) == ("pending", 1, False, None)
    assert row.next_attempt_at == slack.ctx.clock.now() + timedelta(seconds=1)  # Retry-After, exactly


@contextmanager
def commits(ctx: AppContext) -> Iterator[list[int]]:
    engine = ctx.sessions.kw["bind"]
    seen: list[int] = []

    def note(_conn: object) -> None:
        seen.append(1)

    event.listen(engine, "commit", note)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", note)


def settle_in_threads(settles: GroupSettle, work: list[tuple[OutboxEntry, Outcome]]) -> list[Outcome | Exception]:
    """Each settle from its own lane thread, all queued while another batch is being written
    (the test holds the turn), then let go together."""
    results: list[Outcome | Exception] = [RuntimeError("not settled")] * len(work)

    def lane(n: int, entry: OutboxEntry, outcome: Outcome) -> None:
        try:
            results[n] = settles.settle(entry, outcome)
        except Exception as exc:
            results[n] = exc

    with settles._turn:
        threads = [threading.Thread(target=lane, args=(n, *w)) for n, w in enumerate(work)]
        for thread in threads:
            thread.start()
        while len(settles._queue) < len(work):
            time.sleep(0.001)
    for thread in threads:
        thread.join(10)
    return results


def test_settles_waiting_together_are_written_in_one_transaction(slack: SlackOutbox) -> None:
    slack.queue([direct(person, f"List for {person}") for person in PEOPLE])
    dispatcher = slack.restarted()
    claimed = dispatcher.claim()
    settles = GroupSettle(slack.ctx, dispatcher)
    ref = PostedRef(Where("D0TEST"), "1.0001")
    with commits(slack.ctx) as seen:
        results = settle_in_threads(settles, [(entry, Sent(ref)) for entry in claimed])
    assert all(isinstance(r, Sent) for r in results)
    assert len(seen) == 1
    assert set(statuses(slack.ctx).values()) == {"sent"}


class Broken(Outcome):
    """An outcome whose write fails (a bug in one entry's settle)."""

    counter = "sent"

    def values(self, entry: OutboxEntry, now: datetime, dispatcher: Settler) -> dict[str, Any]:
        raise RuntimeError("cannot settle this one")


def test_one_entrys_failing_settle_does_not_undo_the_others(slack: SlackOutbox) -> None:
    keys = slack.queue([direct(person, f"List for {person}") for person in PEOPLE])
    dispatcher = slack.restarted()
    first, second, third = dispatcher.claim()
    settles = GroupSettle(slack.ctx, dispatcher)
    ref = PostedRef(Where("D0TEST"), "1.0001")
    results = settle_in_threads(settles, [(first, Sent(ref)), (second, Broken()), (third, Sent(ref))])
    assert isinstance(results[0], Sent) and isinstance(results[2], Sent)
    assert isinstance(results[1], RuntimeError)
    assert [statuses(slack.ctx)[k] for k in keys] == ["sent", "sending", "sent"]  # its lease brings it back
