"""Cards drawn from the database: after a collector asks and finance or a manager answers, the
card for the tracked post is drawn from the ledger as it stands, pending with its buttons before
the answer and decided without them after, the same card the workflow posted or put in place,
whichever process asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Reply
from commands.workflows.approval_timers import run_timers
from commands.workflows.current_card import current_card, current_card_for_message
from storage.db import make_session_factory
from storage.models import PostedMessage
from tests.support.harness import Conversation, Sent
from tests.support.world import DANA, PRIYA, seed_world

MARIA = "maria.lopez@example.com"  # manager: decides holds


@pytest.fixture
def chat(ctx: AppContext) -> Conversation:
    seed_world(ctx)
    return Conversation(ctx)


def drawn(reply: Reply) -> tuple[object, ...]:
    """What a card shows, without where it is sent."""
    return reply.title, reply.text, reply.fields, reply.rows, reply.buttons, reply.tone


def labels(reply: Reply) -> list[str]:
    return [b.label for b in reply.buttons] + [b.label for row in reply.rows for b in row.buttons]


def now_drawn(chat: Conversation, key: str) -> Reply | None:
    """The card as a freshly started process draws it: a new session factory, nothing remembered."""
    sessions = make_session_factory(chat.ctx.sessions.kw["bind"])
    with sessions() as session:
        return current_card(session, chat.ctx, key)


def for_message(chat: Conversation, message_id: str) -> Reply | None:
    with chat.ctx.sessions() as session:
        return current_card_for_message(session, chat.ctx, message_id)


def only_update(chat: Conversation, card: Sent) -> Reply:
    [update] = chat.messenger.updates(card.ref)
    return update.reply


# --- payment confirmations ---------------------------------------------------------------------


def ask_finance(chat: Conversation) -> tuple[Sent, str]:
    chat.say(DANA, "paid acme dental 1,200 today wire FED 8841")
    card = chat.last_post("finance")
    return card, f"confirmation:{card.reply.buttons[0].value['id']}"


def test_a_waiting_payment_card_is_drawn_with_its_three_buttons(chat: Conversation) -> None:
    card, key = ask_finance(chat)
    pending = now_drawn(chat, key)
    assert pending is not None and drawn(pending) == drawn(card.reply)
    assert pending.title == "Payment to confirm: Acme Dental Group (C100)"
    assert labels(pending) == ["Confirm", "Not received", "Partial"]
    assert for_message(chat, card.ref.message_id) == pending


@pytest.mark.parametrize(
    "label, form, title, lead",
    [
        (
            "Confirm",
            {},
            "Payment confirmed: Acme Dental Group (C100)",
            "Confirmed by Priya Shah at Mon 23 Nov 2026 9:00 AM CST",
        ),
        (
            "Not received",
            {},
            "Payment not received: Acme Dental Group (C100)",
            "Marked not received by Priya Shah at Mon 23 Nov 2026 9:00 AM CST",
        ),
        (
            "Partial",
            {"amount": "500"},
            "Payment partly confirmed: Acme Dental Group (C100)",
            "Partly confirmed by Priya Shah at Mon 23 Nov 2026 9:00 AM CST: $500.00 of $1,200.00 received",
        ),
    ],
)
def test_once_finance_answers_the_payment_card_shows_the_answer_and_no_buttons(
    chat: Conversation, label: str, form: dict[str, str], title: str, lead: str
) -> None:
    card, key = ask_finance(chat)
    chat.click(PRIYA, card, label, **form)
    decided = now_drawn(chat, key)
    assert decided is not None
    assert (decided.title, decided.text.splitlines()[0], labels(decided)) == (title, lead, [])
    assert drawn(decided) == drawn(only_update(chat, card))
    assert for_message(chat, card.ref.message_id) == decided


# --- approvals ---------------------------------------------------------------------------------


def ask_for_hold(chat: Conversation) -> tuple[Sent, str]:
    chat.say(DANA, "hold acme ortho final invoice 120 days past due")
    card = chat.last_post("approvals")
    return card, f"approval:{card.reply.buttons[0].value['id']}"


def test_a_waiting_approval_card_is_drawn_with_approve_and_reject(chat: Conversation) -> None:
    card, key = ask_for_hold(chat)
    pending = now_drawn(chat, key)
    assert pending is not None and drawn(pending) == drawn(card.reply)
    assert pending.title == "Approval needed: hold on Acme Ortho"
    assert labels(pending) == ["Approve", "Reject"]
    assert for_message(chat, card.ref.message_id) == pending


def test_a_hold_approved_by_a_reply_in_the_thread_is_drawn_decided_with_what_it_did(chat: Conversation) -> None:
    card, key = ask_for_hold(chat)
    chat.reply_in_thread(MARIA, card, "approve")
    decided = now_drawn(chat, key)
    assert decided is not None
    assert decided.title == "Approved: hold on Acme Ortho" and labels(decided) == []
    lead, outcome = decided.text.splitlines()[:2]
    assert lead == "Approved by Maria Lopez at Mon 23 Nov 2026 9:00 AM CST"
    assert outcome == "Product release hold placed; #client-services and #sales told."
    assert drawn(decided) == drawn(only_update(chat, card))
    assert for_message(chat, card.ref.message_id) == decided


def test_a_rejected_request_is_drawn_with_the_reason(chat: Conversation) -> None:
    card, key = ask_for_hold(chat)
    chat.click(MARIA, card, "Reject", reason="they paid this morning")
    decided = now_drawn(chat, key)
    assert decided is not None
    assert (decided.title, labels(decided)) == ("Rejected: hold on Acme Ortho", [])
    assert decided.text.splitlines()[0] == (
        "Rejected by Maria Lopez at Mon 23 Nov 2026 9:00 AM CST — they paid this morning"
    )
    assert drawn(decided) == drawn(only_update(chat, card))


def test_an_expired_request_is_drawn_expired_without_buttons(chat: Conversation, clock: FixedClock) -> None:
    _, key = ask_for_hold(chat)
    clock.at += timedelta(days=7)
    with chat.ctx.sessions.begin() as session:
        run_timers(session, chat.ctx)
    expired = now_drawn(chat, key)
    assert expired is not None
    assert (expired.title, labels(expired)) == ("Expired: hold on Acme Ortho", [])
    assert expired.text.startswith("Expired at Mon 30 Nov 2026 9:00 AM CST: no decision after 3 business days.")


# --- keys that draw nothing --------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "nonsense",
        "approval:",
        "approval:999",
        "approval:x",
        "approval:99999999999999999999",
        "confirmation:999",
        "confirmation:-1",
        "list:dana",
        "dispute",
    ],
)
def test_an_unknown_key_or_a_missing_request_draws_nothing(chat: Conversation, key: str) -> None:
    ask_for_hold(chat)
    ask_finance(chat)
    assert now_drawn(chat, key) is None


def test_a_message_that_is_not_a_tracked_card_draws_nothing(chat: Conversation) -> None:
    card, _ = ask_for_hold(chat)
    assert for_message(chat, "no-such-message") is None
    [ack] = chat.say(DANA, "status acme ortho")
    assert for_message(chat, "") is None and ack.title.startswith("Acme Ortho")
    assert for_message(chat, card.ref.message_id) is not None


def test_a_message_id_tracked_in_two_conversations_draws_nothing_rather_than_a_guess(chat: Conversation) -> None:
    card, _ = ask_for_hold(chat)
    _, payment_key = ask_finance(chat)
    with chat.ctx.sessions.begin() as session:  # the same id, in another channel
        session.execute(
            update(PostedMessage).where(PostedMessage.key == payment_key).values(message_id=card.ref.message_id)
        )
    assert for_message(chat, card.ref.message_id) is None


def test_a_clearance_card_is_drawn_as_it_stands(ctx: AppContext) -> None:
    """A clearance card redrawn (a Teams refresh) shows its buttons while it waits, and who
    decided once decided."""
    from commands.workflows.current_card import current_card

    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say("jo.park@example.com", "clear acme ortho for scheduling")
    with ctx.sessions() as session:
        pending = current_card(session, ctx, "clearance:1")
        assert current_card(session, ctx, "clearance:99") is None
    assert pending is not None and [b.label for b in pending.buttons] == ["Clear", "Refuse"]
    [card] = [s for s in chat.messenger.sent if s.reply.buttons]
    chat.click(DANA, card, "Clear")
    with ctx.sessions() as session:
        decided = current_card(session, ctx, "clearance:1")
    assert decided is not None and decided.buttons == ()
    assert decided.text.startswith("Cleared by Dana Reyes at Mon 23 Nov 2026 9:00 AM CST")
