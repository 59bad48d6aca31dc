"""Payment confirmation over time: two answers at the same moment from two processes' worth of
connections decide once (SQLite and PostgreSQL), and unanswered requests are reminded and
escalated after business hours on an injected clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from commands.clock import FixedClock
from commands.context import AppContext
from commands.handlers.registry import Actor
from commands.messages import Action, ChatUser, Incoming, Reply
from commands.outbox import enqueue
from commands.router import find_actor, handle
from commands.workflows.payment_timers import run_timers
from commands.workflows.payments import Decision, decide
from storage.db import make_engine, make_session_factory
from storage.models import AuditEvent, ConfirmationStatus, Payment, PaymentConfirmation
from tests.support.harness import Conversation, Sent
from tests.support.world import DANA, PRIYA, seed_world

TOM = "tom.becker@example.com"
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def rival(ctx: AppContext, engine: Engine) -> Iterator[AppContext]:
    """The same team and database through a second engine, as a second bot process has."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    yield AppContext(sessions=make_session_factory(other), team=ctx.team, calendar=ctx.calendar, clock=ctx.clock)
    other.dispose()


def _press(ctx: AppContext, email: str, card: Sent, label: str) -> Incoming:
    button = next(b for b in card.reply.buttons if b.label == label)
    user = ChatUser(platform="test", user_id=email, email=email)
    return Incoming(user=user, where=card.ref.thread(), action=Action(button.action, dict(button.value)))


def _at_once(*calls: tuple[AppContext, Incoming]) -> list[list[Reply]]:
    """Run each message through the router on its own thread, released together."""
    barrier = threading.Barrier(len(calls))
    results: list[list[Reply]] = [[] for _ in calls]

    def run(i: int, ctx: AppContext, incoming: Incoming) -> None:
        barrier.wait()
        results[i] = handle(ctx, incoming)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("second", [TOM, PRIYA], ids=["two-finance-members", "double-confirmation"])
def test_two_answers_at_the_same_moment_decide_once(ctx: AppContext, rival: AppContext, second: str) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    for round_, customer in enumerate(("c100", "c200", "c300")):
        chat.say(DANA, f"paid {customer} {100 + round_}")
        card = chat.last_post("finance")
        first, other = _at_once(
            (ctx, _press(ctx, PRIYA, card, "Confirm")), (rival, _press(rival, second, card, "Confirm"))
        )
        told = [r.title for r in first + other]
        assert len([t for t in told if t.endswith("was already answered")]) == 1, told
    with ctx.sessions() as session:
        decided = session.scalars(select(PaymentConfirmation).order_by(PaymentConfirmation.id)).all()
        assert all(c.status is ConfirmationStatus.CONFIRMED for c in decided)
        assert session.scalar(select(func.count()).select_from(Payment)) == 3
        assert session.scalar(select(func.count()).where(AuditEvent.action == "confirmation.confirmed")) == 3
        assert {c.payment_id for c in decided} == set(session.scalars(select(Payment.id)))


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)


def _timers(chat: Conversation) -> list[Reply]:
    """One run of the timer job: its changes commit, then its replies are sent."""
    with chat.ctx.sessions.begin() as session:
        replies = run_timers(session, chat.ctx)
        assert not [r for r in replies if r.for_asker]
        enqueue(session, chat.ctx, replies)
    chat.deliver()
    return replies


def _in_thread(chat: Conversation, card: Sent) -> list[str]:
    return [s.reply.title for s in chat.messenger.posts("finance") if s.ref.where.thread == card.ref.message_id]


def _asked_at(ctx: AppContext, clock: FixedClock, when: datetime, text: str) -> tuple[Conversation, Sent]:
    seed_world(ctx)
    clock.at = when
    chat = Conversation(ctx)
    chat.say(DANA, text)
    return chat, chat.last_post("finance")


def test_friday_afternoon_request_is_reminded_monday_after_four_business_hours_and_escalated_after_eight(
    ctx: AppContext, clock: FixedClock
) -> None:
    chat, card = _asked_at(ctx, clock, _local(20, 15), "paid c100 1200 fri wire FED 8841")
    for when in (_local(20, 17), _local(21, 12), _local(23, 10, 59)):
        clock.at = when
        assert _timers(chat) == []
    clock.at = _local(23, 11)
    [reminder] = _timers(chat)
    assert chat.messenger.sent[-1].ref.where == card.ref.thread() and set(reminder.mentions) == {PRIYA, TOM}
    assert reminder.title == (
        "Reminder: $1,200.00 from Acme Dental Group (C100) has waited 4 business hours for finance"
    )
    assert _timers(chat) == []
    clock.at = _local(23, 14, 59)
    assert _timers(chat) == []
    clock.at = _local(23, 15)
    _timers(chat)
    [escalation] = chat.messenger.directs(TOM)
    assert escalation.reply.title == ("Payment confirmation unanswered for 8 business hours: Acme Dental Group (C100)")
    asked = "Dana Reyes asked finance to confirm $1,200.00 paid Fri 20 Nov 2026 (wire, FED 8841)"
    assert asked in escalation.reply.text
    assert f"message {card.ref.message_id}" in escalation.reply.text
    assert chat.messenger.directs(PRIYA) == []
    assert _in_thread(chat, card)[-1] == "Escalated to Tom Becker after 8 business hours"
    clock.advance(days=3)
    assert _timers(chat) == []
    with ctx.sessions() as session:
        request = session.scalars(select(PaymentConfirmation)).one()
        timer_events = session.scalars(select(AuditEvent.action).where(AuditEvent.actor.like("system:%"))).all()
    assert (request.reminded_at, request.escalated_at) == (
        _local(23, 11).astimezone(request.created_at.tzinfo),
        _local(23, 15).astimezone(request.created_at.tzinfo),
    )
    assert timer_events == ["confirmation.reminded", "confirmation.escalated"]


def test_urgent_requests_are_reminded_after_one_hour_and_escalated_after_two(
    ctx: AppContext, clock: FixedClock
) -> None:
    chat, card = _asked_at(ctx, clock, _local(23, 9), "paid c100 1200 --urgent")
    assert card.reply.fields[5].value.startswith("yes")
    clock.at = _local(23, 9, 59)
    assert _timers(chat) == []
    clock.at = _local(23, 10)
    [reminder] = _timers(chat)
    assert "has waited 1 business hour for finance" in reminder.title
    clock.at = _local(23, 11)
    escalated = _timers(chat)
    assert [r.to_user for r in escalated if r.to_user] == [TOM]
    assert "Urgent: a hold blocks product release or scheduling." in escalated[0].text


def test_thanksgiving_does_not_count_as_waiting(ctx: AppContext, clock: FixedClock) -> None:
    chat, card = _asked_at(ctx, clock, _local(25, 16), "paid c100 1200")
    clock.at = _local(27, 11, 59)
    assert _timers(chat) == []
    clock.at = _local(27, 12)
    assert len(_timers(chat)) == 1 and _in_thread(chat, card)[0].startswith("Reminder:")


def test_answered_requests_are_neither_reminded_nor_escalated(ctx: AppContext, clock: FixedClock) -> None:
    chat, card = _asked_at(ctx, clock, _local(23, 9), "paid c100 1200")
    chat.click(PRIYA, card, "Confirm")
    clock.advance(days=2)
    assert _timers(chat) == []
    clock.at += timedelta(days=7)
    assert _timers(chat) == []


def test_an_answer_read_before_another_committed_still_loses_to_it(ctx: AppContext, rival: AppContext) -> None:
    """The check that decides is the conditional UPDATE, not the earlier read: Tom's session
    still holds the request as pending when Priya's answer commits, and his answer changes nothing."""
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "paid c100 1200")
    card = chat.last_post("finance")
    with rival.sessions() as session:
        stale = session.scalars(select(PaymentConfirmation)).one()
        session.commit()
        assert stale.status is ConfirmationStatus.PENDING
        chat.click(PRIYA, card, "Confirm")
        actor = find_actor(session, rival, ChatUser(platform="test", user_id=TOM, email=TOM))
        assert isinstance(actor, Actor)
        replies = decide(session, rival, decision=Decision(stale.id, ConfirmationStatus.NOT_RECEIVED), actor=actor)
        assert isinstance(replies, list) and len(replies) == 1
        session.commit()
    assert replies[0].text == "Confirmed by Priya Shah at Mon 23 Nov 2026 9:00 AM CST. Nothing was changed."
    with ctx.sessions() as session:
        assert session.scalars(select(PaymentConfirmation.status)).one() is ConfirmationStatus.CONFIRMED
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
