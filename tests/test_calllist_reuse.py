"""Dana's call list is ranked once and reused until the ledger changes for her accounts: asked
again, she gets the same list without a new ranking; a call she logs, a promise, an account
moved away from her or an import ranks it afresh, and what she sees is always what a fresh
ranking gives; a change on someone else's account leaves her list alone."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from commands.calllist import CallListRow, build_call_list
from commands.context import AppContext
from commands.messages import Reply
from storage.audit import record
from storage.db import read_only
from storage.models import Customer, Promise, PromiseStatus, TeamMember
from tests.support.world import DANA, say, seed_world

LATER = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def fresh(ctx: AppContext) -> list[CallListRow]:
    with ctx.sessions() as session:
        return build_call_list(session, ctx, day=ctx.work_day(), collector_email=DANA)


def reused(ctx: AppContext) -> list[CallListRow]:
    with ctx.sessions() as session:
        return ctx.call_lists.call_list(session, ctx, day=ctx.work_day(), collector_email=DANA)


def listed(ctx: AppContext) -> Reply:
    [answer] = say(ctx, "list")
    return answer


def test_asked_again_the_list_is_reused(ctx: AppContext) -> None:
    seed_world(ctx)
    first = listed(ctx)
    assert first.rows, "Dana has accounts to call"
    assert ctx.call_lists.computed == 1
    assert listed(ctx) == first
    assert ctx.call_lists.computed == 1, "nothing changed: not ranked again"
    assert reused(ctx) == fresh(ctx)


def test_a_change_on_her_accounts_ranks_it_afresh(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    before = reused(ctx)
    say(ctx, "log C200 voicemail")
    assert reused(ctx) == fresh(ctx)
    assert ctx.call_lists.computed == 2
    with ctx.sessions.begin() as session:  # a promise kept the way every ledger change is: with its event
        dana = session.scalar(select(TeamMember.id).where(TeamMember.email == DANA))
        promise = Promise(
            customer_id=ids["C400"],
            member_id=dana,
            amount=Decimal("700.00"),
            promised_date=date(2026, 11, 27),
            status=PromiseStatus.OPEN,
            created_at=LATER,
        )
        session.add(promise)
        session.flush()
        record(
            session,
            at=LATER,
            actor=DANA,
            action="promise.made",
            entity_type="promise",
            entity_id=promise.id,
            customer_id=ids["C400"],
        )
    after = reused(ctx)
    assert ctx.call_lists.computed == 3
    assert after == fresh(ctx)
    assert [row.erp_id for row in after] != [row.erp_id for row in before], "the promise changed her list"


def test_an_account_moved_away_from_her_leaves_her_list(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    assert "C200" in [row.erp_id for row in reused(ctx)]
    with ctx.sessions.begin() as session:
        session.get_one(Customer, ids["C200"]).collector_id = None
        record(
            session,
            at=LATER,
            actor="admin@example.com",
            action="customer.reassigned",
            entity_type="customer",
            entity_id=ids["C200"],
            customer_id=ids["C200"],
        )
    now = reused(ctx)
    assert "C200" not in [row.erp_id for row in now]
    assert now == fresh(ctx) and ctx.call_lists.computed == 2


def test_a_change_on_another_account_leaves_her_list_alone_and_an_import_does_not(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    reused(ctx)
    with ctx.sessions.begin() as session:  # Zenith Labs is nobody's account, and not on her list
        record(
            session,
            at=LATER,
            actor="priya.shah@example.com",
            action="note",
            entity_type="customer",
            entity_id=ids["C600"],
            customer_id=ids["C600"],
        )
    assert reused(ctx) == fresh(ctx)
    assert ctx.call_lists.computed == 1, "not her account: reused"
    with ctx.sessions.begin() as session:  # an import names no one customer: every list is ranked again
        record(session, at=LATER, actor="system:import", action="import", entity_type="import_batch")
    assert reused(ctx) == fresh(ctx)
    assert ctx.call_lists.computed == 2


def test_each_day_has_its_own_list(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions() as session:
        today = ctx.call_lists.call_list(session, ctx, day=ctx.work_day(), collector_email=DANA)
        later = ctx.call_lists.call_list(session, ctx, day=date(2026, 12, 14), collector_email=DANA)
        assert later == build_call_list(session, ctx, day=date(2026, 12, 14), collector_email=DANA)
    assert ctx.call_lists.computed == 2 and today == fresh(ctx)


def test_asked_by_many_at_once_it_is_ranked_once(ctx: AppContext) -> None:
    """A busy server works through a queue on many threads: eight requests for her stale list
    at the same moment rank it once, and all get what a fresh ranking gives."""
    seed_world(ctx)
    start = threading.Barrier(8)
    answers: list[list[CallListRow]] = []

    def ask() -> None:
        with ctx.sessions() as session:
            read_only(session)  # as `list` reads: readers do not queue for SQLite's write lock
            start.wait()
            answers.append(ctx.call_lists.call_list(session, ctx, day=ctx.work_day(), collector_email=DANA))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8
    assert ctx.call_lists.computed == 1
    assert all(answer == fresh(ctx) for answer in answers)
