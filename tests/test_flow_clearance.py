"""Clearance requests, as conversations: client services (Jo) asks `clear <customer> for <what>
[on <date>] [--urgent]`; an account with nothing past due and no hold is cleared at once, any
other goes to its collector as a card with the account's state; the collector clears or refuses
it by button or in the card's thread, and Jo is told. Refusals (unknown or ambiguous customer,
ambiguous or past date, who may ask and decide, already decided), repeats, and the reminders and
escalation of waiting requests on an injected clock are here too."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Reply, Tone
from commands.refusal import Refusal
from scheduler.jobs import JOBS
from storage.models import AuditEvent, ClearanceRequest, ClearanceStatus, Hold, HoldStatus
from tests.support.harness import Conversation, Sent, run_job
from tests.support.world import field, refused, row_counts, seed_world

JO, DANA, SAM = "jo.park@example.com", "dana.reyes@example.com", "sam.okafor@example.com"
PRIYA, MARIA = "priya.shah@example.com", "maria.lopez@example.com"
TIMERS = next(job for job in JOBS if job.name == "clearance_timers")


def audit(ctx: AppContext, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def clearances(ctx: AppContext) -> list[ClearanceRequest]:
    with ctx.sessions() as session:
        return list(session.scalars(select(ClearanceRequest).order_by(ClearanceRequest.id)))


def ask(chat: Conversation, text: str, *, email: str = JO) -> tuple[Reply, Sent | None]:
    """``email`` asks; their one answer and the card it sent to a decider (if any)."""
    before = len(chat.messenger.sent)
    [answer] = chat.say(email, text)
    cards = [s for s in chat.messenger.sent[before:] if s.reply.buttons]
    assert len(cards) <= 1, cards
    return answer, cards[0] if cards else None


def thread_of(chat: Conversation, card: Sent) -> list[Reply]:
    return [s.reply for s in chat.messenger.sent if s.kind == "post" and s.ref.where.thread == card.ref.message_id]


def test_an_account_with_nothing_past_due_is_cleared_at_once(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    answer, card = ask(chat, "clear paid up for scheduling on 12/1")
    assert (answer.tone, answer.title) == (Tone.SUCCESS, "Cleared: Paid Up LLC (C700) for scheduling on Tue 1 Dec 2026")
    assert answer.text == "Nothing is past due and there is no hold. Request #1."
    assert card is None and chat.messenger.sent == []  # nobody else is bothered
    [row] = clearances(ctx)
    assert (row.status, row.decided_by_id, row.needed_on, row.blockers) == (
        ClearanceStatus.CLEARED,
        None,
        date(2026, 12, 1),
        [],
    )
    [cleared] = audit(ctx, "clearance.cleared")
    assert (cleared.actor, cleared.entity_id, cleared.data["at_once"]) == (JO, row.id, True)
    assert audit(ctx, "clearance.requested")[0].data["what"] == "scheduling"


def test_a_past_due_account_goes_to_its_collector_with_its_state(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    answer, card = ask(chat, "clear acme ortho for the product release on dec 1")
    assert answer.title == "Asked Dana Reyes: Acme Ortho (C200) for the product release on Tue 1 Dec 2026"
    assert answer.text.startswith(
        "Not cleared at once: the account has money past due. Request #1 is with Dana Reyes, the account's collector"
    )
    assert "$800.00" not in answer.text  # the amounts are for the collector, not for client services
    assert card is not None and card.kind == "direct" and card.ref.where.channel == f"dm:{DANA}"
    reply = card.reply
    assert reply.title == "Clearance asked: Acme Ortho for the product release"
    assert "Not cleared at once: $800.00 past due." in reply.text
    assert field(reply, "Asked") == "Acme Ortho (C200) for the product release on Tue 1 Dec 2026"
    assert field(reply, "Asked by") == "Jo Park, Mon 23 Nov 2026 9:00 AM CST"
    assert (field(reply, "Balance"), field(reply, "1-30 days"), field(reply, "Urgent")) == ("$800.00", "$800.00", "no")
    assert [(b.label, b.value) for b in reply.buttons] == [
        ("Clear", {"id": 1}),
        ("Refuse", {"id": 1, "needs": "reason"}),
    ]
    assert [r.status for r in clearances(ctx)] == [ClearanceStatus.PENDING]


def test_holds_and_promises_are_on_the_card(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    _, card = ask(chat, "clear acme dental for scheduling")
    assert card is not None
    text = card.reply.text
    # Past due less the open dispute, credits netted: what the hold is for too.
    assert "Not cleared at once: $2,750.00 past due; product release hold: final invoice over 90 days." in text
    assert any(r.title.startswith("Hold since") for r in card.reply.rows)
    _, summit = ask(chat, "clear summit for scheduling")
    assert summit is not None and any(r.title == "Promise: $300.00 by Tue 1 Dec 2026" for r in summit.reply.rows)


def test_a_hold_alone_keeps_an_account_from_clearing_at_once(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    with ctx.sessions.begin() as session:
        session.add(
            Hold(
                customer_id=ids["C700"],
                reason="service suspended",
                kind="service_suspension",
                status=HoldStatus.ACTIVE,
                placed_at=datetime(2026, 11, 20, 16, tzinfo=UTC),
            )
        )
    chat = Conversation(ctx)
    answer, card = ask(chat, "clear paid up for scheduling")
    assert "the account has a hold" in answer.text
    assert card is not None and "Not cleared at once: service suspension hold: service suspended." in card.reply.text
    # With no collector on the account, the card goes to the managers in #collections.
    assert card.ref.where.channel == "collections" and card.reply.mentions == (MARIA,)
    assert answer.title.startswith("Asked the managers")


@pytest.mark.parametrize("how", ["button", "thread"])
@pytest.mark.parametrize("clear", [True, False])
def test_the_collector_decides_and_client_services_is_told(ctx: AppContext, how: str, clear: bool) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    _, card = ask(chat, "clear acme ortho for scheduling on 12/1")
    assert card is not None
    reason = "paid by wire this morning" if clear else "95 days past due, call me first"
    if how == "button":
        replies = chat.click(DANA, card, "Clear" if clear else "Refuse", **({} if clear else {"reason": reason}))
        if clear:  # a Clear button takes no reason
            reason = ""
    else:
        text = f"cleared because {reason}" if clear else f"refused because {reason}"
        replies = chat.reply_in_thread(DANA, card, text)
    word = "Cleared" if clear else "Refused"
    [answer] = replies
    assert answer.title == f"{word}: Acme Ortho (C200) for scheduling on Tue 1 Dec 2026 (request #1)"
    [row] = clearances(ctx)
    assert (row.status, row.decision_reason or "") == (
        ClearanceStatus.CLEARED if clear else ClearanceStatus.REFUSED,
        reason,
    )
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.title == f"{word}: Acme Ortho for scheduling" and update.reply.buttons == ()
    line = f"{word} by Dana Reyes at Mon 23 Nov 2026 9:00 AM CST" + (f" — {reason}" if reason else "")
    assert update.reply.text.startswith(line)
    [told] = chat.messenger.directs(JO)
    assert told.reply.title == answer.title and told.reply.text == f"For Jo Park: {line}"
    [event] = audit(ctx, f"clearance.{'cleared' if clear else 'refused'}")
    assert (event.actor, event.entity_id, event.data["reason"]) == (DANA, row.id, reason or None)


def test_a_manager_may_decide_and_talk_in_the_thread_is_left_alone(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    _, card = ask(chat, "clear acme ortho for scheduling")
    assert card is not None
    assert chat.reply_in_thread(DANA, card, "did they send the remittance?") == []
    assert chat.reply_in_thread(DANA, card, "maybe clear it") == []
    doubtful = refused(chat.reply_in_thread(DANA, card, "clear it if they pay friday"))
    assert "Not decided" in doubtful.title and "`refuse because <reason>`" in doubtful.title
    [new] = chat.reply_in_thread(DANA, card, "clear route 66 for scheduling")  # a new request, not a decision
    assert new.title == "Asked the managers in #collections: Route 66 Dental (C400) for scheduling"
    [answer] = chat.reply_in_thread(MARIA, card, "cleared because they pay for it by card today")
    assert answer.title.startswith("Cleared: Acme Ortho (C200)")
    first, second = clearances(ctx)
    assert (first.status, first.decision_reason) == (ClearanceStatus.CLEARED, "they pay for it by card today")
    assert second.status is ClearanceStatus.PENDING


def test_who_may_ask_and_who_may_decide(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    before = row_counts(ctx)
    not_asker = refused(chat.say(PRIYA, "clear acme ortho for scheduling"))
    assert not_asker.title == "You can't ask for a clearance"
    assert (
        "Clearance requests come from a collector, manager, controller, VP finance or client services member"
        in not_asker.text
    )
    [attempt] = audit(ctx, "clearance.request_refused")
    assert (attempt.actor, attempt.data["roles"]) == (PRIYA, ["finance"])
    assert {k: v for k, v in row_counts(ctx).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }

    _, card = ask(chat, "clear acme ortho for scheduling")
    assert card is not None
    for email, says in (
        (SAM, "Only Dana Reyes (the account's collector) or a manager, controller or VP finance"),
        (PRIYA, "Only Dana Reyes"),
    ):
        wrong = refused(chat.click(email, card, "Clear"))
        assert wrong.title == "You can't decide clearance request #1" and says in wrong.text
    assert [e.data["why"] for e in audit(ctx, "clearance.decision_refused")] == ["wrong person", "wrong person"]
    assert clearances(ctx)[0].status is ClearanceStatus.PENDING


def test_a_collector_asking_for_their_own_account_is_decided_by_a_manager(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    answer, card = ask(chat, "clear acme ortho for scheduling", email=DANA)
    assert card is not None and card.ref.where.channel == "collections"
    own = refused(chat.click(DANA, card, "Clear"))
    assert "You asked for this clearance, so someone else decides it" in own.text
    [done] = chat.click(MARIA, card, "Clear")
    assert done.title.startswith("Cleared:")


def test_a_decided_request_is_not_decided_again(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    _, card = ask(chat, "clear acme ortho for scheduling")
    assert card is not None
    chat.click(DANA, card, "Clear")
    [again] = chat.click(MARIA, card, "Refuse", reason="too late")
    assert again.title == "Clearance request #1 is no longer waiting" and again.private
    assert again.text.startswith("Cleared by Dana Reyes at Mon 23 Nov 2026 9:00 AM CST")
    assert [r.status for r in clearances(ctx)] == [ClearanceStatus.CLEARED]
    assert len(chat.messenger.directs(JO)) == 1


def test_refusing_needs_a_reason(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    _, card = ask(chat, "clear acme ortho for scheduling")
    assert card is not None
    before = row_counts(ctx)
    for replies in (chat.click(DANA, card, "Refuse"), chat.reply_in_thread(DANA, card, "refuse")):
        assert "say why you refuse it" in refused(replies).title
    assert row_counts(ctx) == before


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("clear nobody inc for scheduling", "no customer matches 'nobody inc'"),
        ("clear acme for scheduling", "'acme' matches several customers"),
        ("clear acme ortho for scheduling on 1/2/3", "I can't tell which day '1/2/3' is"),
        ("clear acme ortho for scheduling on 11/20/2026", "Fri 20 Nov 2026 has passed"),
        ("clear acme ortho scheduling", "say what to clear it for, after `for`"),
        ("clear acme ortho for", "say what to clear it for"),
        ("clear", "which customer?"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    before = row_counts(ctx)
    reply = refused(chat.say(JO, text))
    assert says in reply.title, reply
    assert row_counts(ctx) == before and chat.messenger.sent == []


def test_a_customer_name_with_for_in_it_and_a_what_with_on_in_it(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    answer, _ = ask(chat, "clear acme ortho for work on the new site on tomorrow")
    assert answer.title.endswith("Acme Ortho (C200) for work on the new site on Tue 24 Nov 2026")


def test_asking_twice_is_refused_and_urgent_makes_the_waiting_one_urgent(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    _, card = ask(chat, "clear acme ortho for scheduling")
    assert card is not None
    twice = refused(chat.say(JO, "clear acme ortho for Scheduling"))
    assert "is already asked (request #1)" in twice.title
    [urgent] = chat.say(JO, "clear acme ortho for scheduling --urgent")
    assert urgent.title == "Clearance request #1 is now urgent"
    [redrawn] = chat.messenger.updates(card.ref)
    assert field(redrawn.reply, "Urgent") == "yes (needed the same day)" and redrawn.reply.buttons
    [note] = thread_of(chat, card)
    assert note.title == "Now urgent: Acme Ortho (C200) for scheduling" and "Jo Park needs it the same day" in note.text
    assert len(audit(ctx, "clearance.made_urgent")) == 1


def test_needed_today_without_urgent_is_pointed_at_urgent(ctx: AppContext) -> None:
    seed_world(ctx)
    answer, _ = ask(Conversation(ctx), "clear acme ortho for scheduling on today")
    assert "It is needed today: ask again with --urgent" in answer.text


def test_waiting_requests_are_reminded_then_escalated_urgent_ones_sooner(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    _, urgent = ask(chat, "clear acme ortho for the product release by today --urgent")
    _, calm = ask(chat, "clear route 66 for scheduling")
    assert urgent is not None and calm is not None and field(urgent.reply, "Urgent") == "yes (needed the same day)"

    clock.advance(hours=1)  # 10:00: the urgent one has waited its reminder hour
    run_job(ctx, TIMERS, chat.messenger)
    [reminder] = thread_of(chat, urgent)
    assert reminder.title == (
        "Reminder: Acme Ortho (C200) for the product release on Mon 23 Nov 2026 has waited 1 business hour"
    )
    assert reminder.mentions == (DANA,) and thread_of(chat, calm) == []

    clock.advance(hours=1)  # 11:00: escalated to the managers
    run_job(ctx, TIMERS, chat.messenger)
    [escalated] = chat.messenger.directs(MARIA)
    assert escalated.reply.title == "Clearance unanswered for 2 business hours: Acme Ortho (C200)"
    assert "Dana Reyes has not decided it" in escalated.reply.text and "Urgent" in escalated.reply.text
    assert thread_of(chat, urgent)[-1].title == "Escalated to the managers after 2 business hours"

    clock.advance(hours=2)  # 13:00: the other has waited 4 business hours
    run_job(ctx, TIMERS, chat.messenger)
    assert len(thread_of(chat, urgent)) == 2, "each step happens once"
    [calm_reminder] = thread_of(chat, calm)
    assert calm_reminder.title.endswith("has waited 4 business hours")
    assert [e.entity_id for e in audit(ctx, "clearance.reminded")] == [1, 2]
    assert [e.entity_id for e in audit(ctx, "clearance.escalated")] == [1]

    chat.click(DANA, calm, "Clear")
    clock.advance(hours=8)
    run_job(ctx, TIMERS, chat.messenger)
    assert len(chat.messenger.directs(MARIA)) == 1, "a decided request is not escalated"


@pytest.mark.parametrize(
    ("line", "decided"),
    [
        ("clear", (True, None)),
        ("Cleared.", (True, None)),
        ("ok, clear it", (True, None)),
        ("cleared because they paid by wire, all clear now", (True, "they paid by wire, all clear now")),
        ("approved - retainer topped up", (True, "retainer topped up")),
        ("refuse because not clear yet", (False, "not clear yet")),
        ("Refused: 95 days past due", (False, "95 days past due")),
        ("rejected, call me first", (False, "call me first")),
        ("did they pay?", None),
        ("the customer cleared customs", None),
    ],
)
def test_lines_in_the_thread_are_read_as_people_write_them(line: str, decided: tuple[bool, str | None] | None) -> None:
    from commands.handlers.clear_cmd import read_thread_line

    read = read_thread_line(line, 7)
    assert not isinstance(read, Refusal), read
    assert (None if read.decision is None else (read.decision.clear, read.decision.reason)) == decided
    if read.decision is not None:
        assert read.decision.clearance_id == 7


@pytest.mark.parametrize(
    "line", ["clear it if they pay friday", "approve?", "not received", "partial 500", "clear 500"]
)
def test_doubtful_lines_say_how_to_decide(line: str) -> None:
    from commands.handlers.clear_cmd import read_thread_line

    read = read_thread_line(line, 7)
    assert isinstance(read, Refusal) and "To decide, reply here with `clear`" in read.message, read
