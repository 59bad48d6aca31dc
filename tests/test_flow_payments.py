"""Payment confirmation as a conversation: a collector says the customer paid, finance answers
on the card or in its thread, and the ledger, the card, the collector and the hold channels
show the answer. Refusals write nothing but their audit event; a double answer counts once."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.terminal import TerminalMessenger, converse, terminal_user
from commands.accounts import confirmed_unapplied
from commands.calllist import build_call_list, load_policy
from commands.calllist.cutoffs import cutoffs_for
from commands.calllist.features import load_features
from commands.calllist.ranking import collectible
from commands.context import AppContext
from commands.importing import import_aging_file
from commands.messages import ButtonStyle, Reply, Tone
from storage.models import (
    AuditEvent,
    ConfirmationStatus,
    Hold,
    HoldStatus,
    PostedMessage,
    Promise,
    PromiseStatus,
)
from tests.support.harness import Conversation, Sent
from tests.support.payments import ask, confirmation, payments
from tests.support.world import DANA, PRIYA, field, refused, row_counts, seed_world

TOM = "tom.becker@example.com"  # finance lead and finance
MARIA = "maria.lopez@example.com"  # manager
MONDAY = date(2026, 11, 23)


@pytest.fixture
def chat(ctx: AppContext) -> Conversation:
    seed_world(ctx)
    return Conversation(ctx)


def actions(chat: Conversation) -> list[str]:
    with chat.ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def thread_posts(chat: Conversation, card: Sent) -> list[Reply]:
    return [s.reply for s in chat.messenger.posts("finance") if s.ref.where.thread == card.ref.message_id]


def held(chat: Conversation) -> Hold:
    with chat.ctx.sessions() as session:
        return session.scalars(select(Hold)).one()


def promised(chat: Conversation, who: str = DANA) -> None:
    [reply] = chat.say(who, "promise c100 1200 fri")
    assert reply.tone is Tone.SUCCESS, reply


def c100_promise(chat: Conversation) -> Promise:
    with chat.ctx.sessions() as session:
        return session.scalars(select(Promise).where(Promise.promised_date == date(2026, 11, 27))).one()


def test_paid_posts_a_card_to_finance_with_the_claim_the_account_and_three_buttons(chat: Conversation) -> None:
    [ack] = chat.say(DANA, "paid acme dental 1,200 today wire FED 8841")
    request = confirmation(chat)
    assert ack.title == "Asked finance to confirm $1,200.00 from Acme Dental Group (C100)"
    assert f"Request #{request.id}" in ack.text
    card = chat.last_post("finance")
    assert card.reply.title == "Payment to confirm: Acme Dental Group (C100)"
    assert [
        (label, field(card.reply, label))
        for label in ("Amount", "Date paid", "Method", "Reference", "Requested by", "Urgent", "Balance", "90+ days")
    ] == [
        ("Amount", "$1,200.00"),
        ("Date paid", "Mon 23 Nov 2026"),
        ("Method", "wire"),
        ("Reference", "FED 8841"),
        ("Requested by", "Dana Reyes"),
        ("Urgent", "no"),
        ("Balance", "$3,350.10"),
        ("90+ days", "$2,000.00"),
    ]
    assert "Hold since Fri 20 Nov 2026 10:00 AM CST" in [r.title for r in card.reply.rows]
    assert [(b.label, b.action, b.value, b.style) for b in card.reply.buttons] == [
        ("Confirm", "confirmation.confirm", {"id": request.id}, ButtonStyle.PRIMARY),
        ("Not received", "confirmation.not_received", {"id": request.id}, ButtonStyle.DANGER),
        ("Partial", "confirmation.partial", {"id": request.id, "needs": "amount"}, ButtonStyle.DEFAULT),
    ]
    assert (request.status, request.amount, request.urgent) == (ConfirmationStatus.PENDING, Decimal("1200.00"), False)
    with chat.ctx.sessions() as session:
        tracked = session.scalars(select(PostedMessage).where(PostedMessage.key == f"confirmation:{request.id}")).one()
    assert (tracked.channel, tracked.message_id) == ("finance", card.ref.message_id)
    assert actions(chat) == ["confirmation.requested"]
    assert payments(chat) == []


def test_confirm_records_the_payment_keeps_the_promise_and_tells_the_collector(chat: Conversation) -> None:
    """$1,200 confirmed on Acme Dental, held for its $2,750.00 past due (less the $100.10 in
    dispute): the promise is kept, the hold stays and everyone hears what is left."""
    promised(chat)
    card = ask(chat)
    assert chat.click(PRIYA, card, "Confirm") == []
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.title == "Payment confirmed: Acme Dental Group (C100)"
    assert update.reply.text.startswith("Confirmed by Priya Shah at Mon 23 Nov 2026 9:00 AM CST")
    assert update.reply.buttons == () and update.reply.tone is Tone.SUCCESS
    [told] = thread_posts(chat, card)
    assert told.title == "Dana Reyes: Priya Shah confirmed $1,200.00 from Acme Dental Group (C100)"
    assert "Promise of $1,200.00 due Fri 27 Nov 2026: kept." in told.text
    assert (
        "The account stays on hold: $1,550.00 of the $2,750.00 past due it was placed for is still to pay." in told.text
    )
    [payment] = payments(chat)
    request = confirmation(chat)
    assert (payment.amount, payment.received_on, payment.method, payment.reference, payment.source) == (
        Decimal("1200.00"),
        date(2026, 11, 23),
        "wire",
        "FED 8841",
        "finance",
    )
    assert (request.status, request.confirmed_amount, request.payment_id) == (
        ConfirmationStatus.CONFIRMED,
        Decimal("1200.00"),
        payment.id,
    )
    promise = c100_promise(chat)
    assert (promise.status, promise.paid_amount) == (PromiseStatus.KEPT, Decimal("1200.00"))
    assert held(chat).status is HoldStatus.ACTIVE and chat.messenger.posts("sales") == []
    [note] = chat.messenger.posts("approvals")
    assert note.reply.title == "Acme Dental Group (C100) stays on hold: $1,550.00 still to pay"
    assert note.reply.text == (
        "The hold is for $2,750.00 past due; $1,200.00 has been paid since it was placed. "
        "To release it sooner, type: release C100 <reason> (it needs approval)."
    )
    assert actions(chat)[-4:] == [
        "confirmation.requested",
        "confirmation.confirmed",
        "payment.recorded",
        "promise.kept",
    ]


def test_a_payment_that_clears_what_the_hold_was_for_releases_it(chat: Conversation) -> None:
    card = ask(chat, "paid c100 2,750 today wire FED 8841")
    chat.click(PRIYA, card, "Confirm")
    [told] = thread_posts(chat, card)
    assert "The hold is released; announced to #client-services, #sales." in told.text
    hold = held(chat)
    assert (hold.status, hold.release_reason) == (HoldStatus.RELEASED, "payment confirmed by finance")
    for channel in ("client-services", "sales"):
        [announced] = chat.messenger.posts(channel)
        assert announced.reply.title == "Hold released on Acme Dental Group (C100)"
        assert "Released by Priya Shah" in announced.reply.text
    assert actions(chat)[-3:] == ["confirmation.confirmed", "payment.recorded", "hold.released"]


def test_a_hold_placed_through_approval_keeps_what_it_was_for_and_its_thread_hears_what_is_left(
    chat: Conversation,
) -> None:
    """Acme Ortho owes $800 past due when Maria approves its hold; a $100 payment later leaves
    it in place (said in the hold's approval thread), the remaining $700 releases it."""
    chat.say(DANA, "hold acme ortho final invoice 22 days past due")
    approval = chat.last_post("approvals")
    chat.click("maria.lopez@example.com", approval, "Approve")
    with chat.ctx.sessions() as session:
        hold = session.scalars(select(Hold).order_by(Hold.id.desc()).limit(1)).one()
    assert hold.past_due_at_placement == Decimal("800.00") and hold.request_id is not None
    chat.click(PRIYA, ask(chat, "paid acme ortho 100 today"), "Confirm")
    [note] = [
        s
        for s in chat.messenger.posts("approvals")
        if s.ref.where == approval.ref.thread() and "stays on hold" in s.reply.title
    ]
    assert note.reply.title == "Acme Ortho (C200) stays on hold: $700.00 still to pay"
    chat.click(PRIYA, ask(chat, "paid acme ortho 700 today"), "Confirm")
    with chat.ctx.sessions() as session:
        assert session.get_one(Hold, hold.id).status is HoldStatus.RELEASED


def test_partial_records_what_arrived_and_leaves_the_hold_for_a_person_to_release(chat: Conversation) -> None:
    promised(chat)
    card = ask(chat)
    chat.click(PRIYA, card, "Partial", amount="500")
    [payment] = payments(chat)
    assert payment.amount == Decimal("500.00")
    promise = c100_promise(chat)
    assert (promise.status, promise.paid_amount) == (PromiseStatus.OPEN, Decimal("500.00"))
    request = confirmation(chat)
    assert (request.status, request.confirmed_amount) == (ConfirmationStatus.PARTIAL, Decimal("500.00"))
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.text.startswith(
        "Partly confirmed by Priya Shah at Mon 23 Nov 2026 9:00 AM CST: $500.00 of $1,200.00 received"
    )
    [told] = thread_posts(chat, card)
    assert told.title == "Dana Reyes: Priya Shah confirmed $500.00 of the $1,200.00 from Acme Dental Group (C100)"
    assert "$500.00 paid so far" in told.text
    assert held(chat).status is HoldStatus.ACTIVE and chat.messenger.posts("sales") == []
    [note] = chat.messenger.posts("approvals")
    assert note.reply.title == "Acme Dental Group (C100) stays on hold: $2,250.00 still to pay"
    assert "release C100 <reason>" in note.reply.text


def test_a_full_confirmation_only_marks_the_hold_eligible_when_the_policy_says_so(chat: Conversation) -> None:
    workflow = chat.ctx.team.workflow
    timers = replace(workflow.timers, release_on_confirmed_payment=False)
    chat.ctx.team = replace(chat.ctx.team, workflow=replace(workflow, timers=timers))
    chat.click(PRIYA, ask(chat, "paid c100 2,750 today"), "Confirm")
    assert held(chat).status is HoldStatus.ACTIVE
    [note] = chat.messenger.posts("approvals")
    assert note.reply.title == "Acme Dental Group (C100) is on hold and has paid what the hold was for"
    assert "release C100 payment confirmed by finance" in note.reply.text
    assert "confirmation.release_eligible" in actions(chat)


def test_not_received_records_nothing_but_the_answer_and_tells_the_collector_twice(chat: Conversation) -> None:
    card = ask(chat)
    chat.click(TOM, card, "Not received")
    assert payments(chat) == [] and held(chat).status is HoldStatus.ACTIVE
    assert confirmation(chat).status is ConfirmationStatus.NOT_RECEIVED
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.title == "Payment not received: Acme Dental Group (C100)"
    assert update.reply.text.startswith("Marked not received by Tom Becker at Mon 23 Nov 2026 9:00 AM CST")
    [told] = thread_posts(chat, card)
    [direct] = chat.messenger.directs(DANA)
    assert (
        told.title
        == direct.reply.title
        == (
            "Dana Reyes: Tom Becker has not received the $1,200.00 Acme Dental Group (C100) says it paid "
            "Mon 23 Nov 2026"
        )
    )
    assert actions(chat) == ["confirmation.requested", "confirmation.not_received"]


@pytest.mark.parametrize(
    ("text", "status", "amount"),
    [
        ("confirm", ConfirmationStatus.CONFIRMED, "1200.00"),
        ("CONFIRM", ConfirmationStatus.CONFIRMED, "1200.00"),
        ("partial 500", ConfirmationStatus.PARTIAL, "500.00"),
        ("partial $1,150.50", ConfirmationStatus.PARTIAL, "1150.50"),
        ("not received", ConfirmationStatus.NOT_RECEIVED, None),
        ("Not Received.", ConfirmationStatus.NOT_RECEIVED, None),
        ("notreceived", ConfirmationStatus.NOT_RECEIVED, None),
    ],
)
def test_finance_can_answer_by_typing_in_the_cards_thread(
    chat: Conversation, text: str, status: ConfirmationStatus, amount: str | None
) -> None:
    card = ask(chat)
    chat.reply_in_thread(PRIYA, card, text)
    request = confirmation(chat)
    assert (request.status, request.confirmed_amount) == (status, amount and Decimal(amount))
    assert [p.amount for p in payments(chat)] == ([Decimal(amount)] if amount else [])
    assert chat.messenger.updates(card.ref)[-1].reply.buttons == ()


@pytest.mark.parametrize(
    ("who", "text"),
    [
        (DANA, "the customer sent the remittance"),
        (PRIYA, "confirm with the bank first?"),
        (PRIYA, "not sure yet, checking the bank portal"),
        (PRIYA, "partial payment maybe? what did they say"),
    ],
)
def test_talk_in_the_thread_is_not_an_answer(chat: Conversation, who: str, text: str) -> None:
    card = ask(chat)
    assert chat.reply_in_thread(who, card, text) == []  # no bot noise in the discussion
    assert confirmation(chat).status is ConfirmationStatus.PENDING
    assert actions(chat) == ["confirmation.requested"] and payments(chat) == []
    assert chat.messenger.updates(card.ref) == []


def test_answers_typed_outside_a_card_thread_say_where_to_type_them(chat: Conversation) -> None:
    before = row_counts(chat.ctx)
    assert "in the thread of a payment card" in refused(chat.say(PRIYA, "confirm")).title
    assert "in the thread of a payment card" in refused(chat.say(PRIYA, "partial 500")).title
    assert row_counts(chat.ctx) == before


@pytest.mark.parametrize(("who", "answer"), [(DANA, "Confirm"), (MARIA, "Not received"), (DANA, "Partial")])
def test_only_finance_answers_and_the_attempt_is_audited(chat: Conversation, who: str, answer: str) -> None:
    card = ask(chat)
    reply = refused(chat.click(who, card, answer, amount="500"))
    assert reply.text == "Only finance can answer payment confirmations: Priya Shah or Tom Becker. Nothing was changed."
    request = confirmation(chat)
    assert request.status is ConfirmationStatus.PENDING and payments(chat) == []
    with chat.ctx.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (event.action, event.actor, event.entity_id, event.data["reason"]) == (
        "confirmation.refused",
        who,
        request.id,
        "wrong role",
    )


def test_a_collector_typing_confirm_in_the_thread_is_refused_too(chat: Conversation) -> None:
    card = ask(chat)
    assert "Only finance" in refused(chat.reply_in_thread(DANA, card, "confirm")).text
    assert actions(chat) == ["confirmation.requested", "confirmation.refused"]


def test_finance_cannot_confirm_a_claim_they_made_but_a_colleague_can(chat: Conversation) -> None:
    card = ask(chat, "paid c200 800", who=PRIYA)
    reply = refused(chat.click(PRIYA, card, "Confirm"))
    assert "someone else in finance answers it: Tom Becker" in reply.text
    assert confirmation(chat).status is ConfirmationStatus.PENDING and payments(chat) == []
    assert actions(chat)[-1] == "confirmation.refused"
    chat.click(TOM, card, "Confirm")
    assert confirmation(chat).status is ConfirmationStatus.CONFIRMED
    assert thread_posts(chat, card)[0].title.startswith("Priya Shah: Tom Becker confirmed $800.00")


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("1500", "a partial amount must be less than the $1,200.00 claimed; I read $1,500.00"),
        ("1200", "a partial amount must be less than the $1,200.00 claimed"),
        ("0", "amounts must be more than zero"),
        ("-5", "amounts must be positive"),
        ("lots", "I couldn't read 'lots' as an amount"),
        ("", "Partial needs the amount that arrived"),
        ("EUR 500", "billed in USD, not EUR"),
    ],
)
def test_a_partial_amount_must_be_above_zero_and_below_the_claim(chat: Conversation, amount: str, says: str) -> None:
    card = ask(chat)
    before = row_counts(chat.ctx)
    assert says in refused(chat.click(PRIYA, card, "Partial", amount=amount)).title
    assert row_counts(chat.ctx) == before
    assert confirmation(chat).status is ConfirmationStatus.PENDING


def test_a_second_answer_changes_nothing_and_says_who_answered_first(chat: Conversation) -> None:
    card = ask(chat)
    chat.click(PRIYA, card, "Confirm")
    before = row_counts(chat.ctx)
    for who, label in ((PRIYA, "Confirm"), (TOM, "Not received"), (TOM, "Partial")):
        [reply] = chat.click(who, card, label, amount="100")
        assert reply.title == f"Payment confirmation #{confirmation(chat).id} was already answered"
        assert reply.text == "Confirmed by Priya Shah at Mon 23 Nov 2026 9:00 AM CST. Nothing was changed."
    assert row_counts(chat.ctx) == before
    assert len(payments(chat)) == 1 and len(chat.messenger.updates(card.ref)) == 1


def test_the_same_claim_twice_asks_finance_once(chat: Conversation) -> None:
    ask(chat, "paid c100 1200")
    before = row_counts(chat.ctx)
    assert (
        "finance is already asked to confirm $1,200.00 paid Mon 23 Nov 2026"
        in refused(chat.say(DANA, "paid acme dental 1,200 today check 4471")).title
    )
    assert row_counts(chat.ctx) == before


TERMINAL_SCRIPT = """\
paid acme dental 1,200 today wire FED 8841
as priya.shah@example.com
in p1: confirm with the bank first?
click p1 Partial 500
as tom.becker@example.com
in p1: confirm
"""


def test_the_whole_flow_in_the_terminal_chat(chat: Conversation) -> None:
    out = io.StringIO()
    ids = (f"p{n}" for n in itertools.count(1))
    converse(
        chat.ctx,
        terminal_user(DANA),
        io.StringIO(TERMINAL_SCRIPT),
        out,
        prompt=False,
        messenger=TerminalMessenger(out, new_id=lambda: next(ids)),
    )
    printed = out.getvalue()
    assert "[posted to #finance as p1]\n(to #finance)\nPayment to confirm: Acme Dental Group (C100)" in printed
    assert "[update of p1 in #finance]\nWarning: Payment partly confirmed: Acme Dental Group (C100)" in printed
    assert "Dana Reyes: Priya Shah confirmed $500.00 of the $1,200.00 from Acme Dental Group (C100)" in printed
    assert printed.rstrip().endswith(
        "Partly confirmed by Priya Shah at Mon 23 Nov 2026 9:00 AM CST: $500.00 of "
        "$1,200.00 received. Nothing was changed."
    )
    assert [p.amount for p in payments(chat)] == [Decimal("500.00")]


def test_a_confirmed_payment_is_set_aside_until_an_import_shows_it(chat: Conversation, tmp_path: Path) -> None:
    """Invoices change only by import: between finance's confirmation and the next snapshot, the
    list and the status card take the confirmed money off what is left to collect."""
    ctx = chat.ctx

    def acme() -> tuple[int, tuple[str, ...], Decimal]:
        with ctx.sessions() as session:
            cut = cutoffs_for(MONDAY, load_policy(), ctx.calendar, ctx.team.timezone)
            frame = collectible(load_features(session, cut, collector_id=None))
            row = next(r for r in build_call_list(session, ctx, day=MONDAY) if r.erp_id == "C100")
            unapplied = confirmed_unapplied(session, row.customer_id)
        return int(frame.loc[row.customer_id, "collectible"]), row.reasons, unapplied

    before, reasons_before, _ = acme()
    chat.click(PRIYA, ask(chat), "Confirm")
    during, reasons, unapplied = acme()
    assert (before, during, unapplied) == (325000, 205000, Decimal("1200.00"))
    # The $1,200 pays the oldest item first: INV-3 ($2,000, 114 days) has $800 left.
    assert reasons_before[:2] == ("$2,000 over 90 days", "$3,100 past due")
    assert reasons[:2] == ("$800 over 90 days", "$1,900 past due")
    assert "$1,200 paid (confirmed by finance), taken off the oldest invoices until the ERP shows it" in reasons
    [card] = chat.say(DANA, "status c100")
    assert field(card, "Paid, not yet in the ledger") == "$1,200.00"

    # That evening's export shows INV-1 and most of INV-3 paid.
    ctx.clock.advance(hours=9)
    (tmp_path / "export.csv").write_text(
        "Customer ID,Customer Name,Invoice No.,Invoice Type,Due Date,Amount Due\n"
        "C100,Acme Dental Group,INV-2,Recurring,2026-11-30,500.00\n"
        "C100,Acme Dental Group,INV-3,Final,2026-08-01,1800.00\n"
        "C100,Acme Dental Group,CM-1,Credit Memo,2026-11-10,-250.00\n"
        "C100,Acme Dental Group,INV-4,Standard,2026-09-01,100.10\n"
    )
    import_aging_file(ctx, tmp_path / "export.csv", as_of=MONDAY)
    after, reasons, unapplied = acme()
    assert (after, unapplied) == (205000, Decimal("0.00"))
    assert not any("confirmed by finance" in reason for reason in reasons)
    [card] = chat.say(DANA, "status c100")
    assert "Paid, not yet in the ledger" not in [f.label for f in card.fields]
