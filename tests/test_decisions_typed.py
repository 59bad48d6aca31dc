"""Decisions typed in a card's thread the way people write them, through the real router.

Three tables per card: lines that are taken (the ledger changes, and the typist sees one
confirmation in the thread, not two), lines that look like a decision but are doubtful (one
private answer saying what was understood and how to say it; nothing written, not even an audit
event), and discussion (no reply, nothing written, nothing posted)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.context import AppContext
from commands.messages import Reply, Tone
from commands.parsing.decisions import read
from commands.router import wanted_in_thread
from storage.models import ApprovalStatus, ConfirmationStatus
from tests.support.approvals import MARIA, audit, request_of
from tests.support.approvals import ask as ask_approval
from tests.support.harness import Conversation, Sent
from tests.support.payments import ask as ask_payment
from tests.support.payments import confirmation, payments
from tests.support.world import DANA, PRIYA, refused, row_counts, seed_world

# --- approval cards: Maria (a manager) decides Dana's hold request ------------------------------

APPROVAL_TAKEN = [
    ("approve", True, None),
    ("Approved.", True, None),
    ("APPROVED!", True, None),
    ("approved \U0001f44d", True, None),
    ("ok approved thanks", True, None),
    ("Approved, thanks!", True, None),
    ("Thanks, approved :)", True, None),
    ("I approve", True, None),
    ("I've approved it", True, None),
    ("approving this one", True, None),
    ("`approve`", True, None),
    ("approve because the retainer is overdue", True, "the retainer is overdue"),
    ("Approved - one time only", True, "one time only"),
    ("reject because they paid yesterday", False, "they paid yesterday"),
    ("rejected - they paid yesterday", False, "they paid yesterday"),
    ("Rejected: duplicate request", False, "duplicate request"),
    ("pls reject: duplicate", False, "duplicate"),
    ("rejected, they paid yesterday", False, "they paid yesterday"),
    ("Rejected because they paid yesterday. Thanks!", False, "they paid yesterday"),
    ("Declined \u2014 customer already on a plan", False, "customer already on a plan"),
    ("denied: not eligible", False, "not eligible"),
]

APPROVAL_DOUBTFUL = [
    "approve?",
    "Approved?",
    "should I approve?",
    "approved, right?",
    "Thanks. Approve?",
    "I'd approve but\u2026",
    "not sure, maybe reject",
    "maybe reject",
    "not approved",
    "don't approve this",
    "approve once they sign",
    "approved if they pay by Friday",
    "approved - but only for 30 days",
    "approved - no wait, reject",
    "rejected. just kidding",
    "rejected they paid yesterday",
    "rejected - already approved last week",
    "approving after lunch",
    "approve or reject",
    "Confirmed!",  # a payment answer on an approval card
]

APPROVAL_QUIET = [
    "did they pay already?",
    "Tom can you look",
    "the customer approved the quote",
    "approved by the customer last week",
    "they rejected our offer",
    "who approved the last waiver?",
    "can you approve this?",
    "Maria, please approve this one when you can",
    "approval needed?",
    "approve or reject?",
    "thanks",
    "ok",
    "on it \U0001f44d",
]


@pytest.fixture
def approval(ctx: AppContext) -> tuple[Conversation, Sent]:
    seed_world(ctx)
    chat = Conversation(ctx)
    return chat, ask_approval(chat, DANA, "hold acme ortho retainer unpaid")


def _in_thread(chat: Conversation, card: Sent, channel: str) -> list[Reply]:
    return [s.reply for s in chat.messenger.posts(channel) if s.ref.where.thread == card.ref.message_id]


@pytest.mark.parametrize(("text", "approved", "reason"), APPROVAL_TAKEN)
def test_typed_approval_decisions_are_taken_and_confirmed_once(
    approval: tuple[Conversation, Sent], text: str, approved: bool, reason: str | None
) -> None:
    chat, card = approval
    assert chat.reply_in_thread(MARIA, card, text) == []  # the thread note below is the confirmation
    request = request_of(chat.ctx, card)
    status = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
    assert (request.status, request.decision_reason) == (status, reason)
    [note] = _in_thread(chat, card, "approvals")
    assert note.title.startswith(f"{status.value.capitalize()}: hold on Acme Ortho")
    assert f"{status.value.capitalize()} by Maria Lopez" in note.text and note.mentions == (DANA,)
    assert chat.messenger.updates(card.ref)[-1].reply.buttons == ()


@pytest.mark.parametrize("text", APPROVAL_DOUBTFUL)
def test_doubtful_approval_lines_say_how_to_decide_and_change_nothing(
    approval: tuple[Conversation, Sent], text: str
) -> None:
    chat, card = approval
    before = row_counts(chat.ctx)
    reply = refused(chat.reply_in_thread(MARIA, card, text))
    assert reply.title.startswith("Not decided: ")
    assert "reply here with `approve`" in reply.title and "`reject because <reason>`" in reply.title
    assert reply.text.startswith("I understood: '") and reply.text.endswith("Nothing was saved.")
    assert row_counts(chat.ctx) == before
    assert request_of(chat.ctx, card).status is ApprovalStatus.PENDING
    assert _in_thread(chat, card, "approvals") == [] and chat.messenger.updates(card.ref) == []


@pytest.mark.parametrize("text", APPROVAL_QUIET)
@pytest.mark.parametrize("who", [MARIA, DANA])
def test_talk_in_an_approval_thread_stays_quiet(approval: tuple[Conversation, Sent], who: str, text: str) -> None:
    chat, card = approval
    before, sent = row_counts(chat.ctx), len(chat.messenger.sent)
    assert chat.reply_in_thread(who, card, text) == []
    assert row_counts(chat.ctx) == before and len(chat.messenger.sent) == sent


def test_typed_words_keep_the_role_rules(approval: tuple[Conversation, Sent]) -> None:
    chat, card = approval
    reply = refused(chat.reply_in_thread(DANA, card, "Approved, thanks!"))
    assert reply.title == "You asked for this hold on Acme Ortho yourself"
    assert request_of(chat.ctx, card).status is ApprovalStatus.PENDING
    assert [e.data["why"] for e in audit(chat.ctx, "approval.refused")] == ["self_approval"]


def test_a_rejection_without_a_reason_is_asked_for_one(approval: tuple[Conversation, Sent]) -> None:
    chat, card = approval
    before = row_counts(chat.ctx)
    assert "reject because <reason>" in refused(chat.reply_in_thread(MARIA, card, "Rejected.")).title
    assert row_counts(chat.ctx) == before


# --- payment cards: Priya (finance) answers Dana's $1,200.00 claim ------------------------------

PAYMENT_TAKEN = [
    ("confirm", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("Confirmed!", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("CONFIRMED", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("received it, thanks", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("Thanks, confirmed", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("payment received", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("funds arrived \U0001f389", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("Received in full", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("it's in, thanks", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("confirm 1200", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("confirmed $1,200.00", ConfirmationStatus.CONFIRMED, "1200.00"),
    ("not received", ConfirmationStatus.NOT_RECEIVED, None),
    ("Not received :(", ConfirmationStatus.NOT_RECEIVED, None),
    ("Payment not received.", ConfirmationStatus.NOT_RECEIVED, None),
    ("nothing received", ConfirmationStatus.NOT_RECEIVED, None),
    ("never arrived", ConfirmationStatus.NOT_RECEIVED, None),
    ("we did not receive it", ConfirmationStatus.NOT_RECEIVED, None),
    ("notreceived", ConfirmationStatus.NOT_RECEIVED, None),
    ("not received - nothing on the statement", ConfirmationStatus.NOT_RECEIVED, None),
    ("partial 500", ConfirmationStatus.PARTIAL, "500.00"),
    ("Partial $500.", ConfirmationStatus.PARTIAL, "500.00"),
    ("partial: 500", ConfirmationStatus.PARTIAL, "500.00"),
    ("partial payment of 500", ConfirmationStatus.PARTIAL, "500.00"),
    ("partially received 500", ConfirmationStatus.PARTIAL, "500.00"),
    ("partial 500 received, thanks", ConfirmationStatus.PARTIAL, "500.00"),
    ("Partial - $1,150.50", ConfirmationStatus.PARTIAL, "1150.50"),
]

PAYMENT_DOUBTFUL = [
    "confirm 500",  # the claim is $1,200.00: a part is said with partial
    "received 500",
    "confirm EUR 1200",
    "Got $500 of it",
    "only 500 arrived",
    "confirm - only 500",
    "confirmed?",
    "received it?",
    "not received yet",
    "haven't received it",
    "confirmed - checking with the bank",
    "not received - they sent it Tuesday",
    "I'd confirm but it's still pending",
    "partial 500 of 1200",
    "Approved.",  # an approval answer on a payment card
]

PAYMENT_QUIET = [
    "did they pay already?",
    "Tom can you look",
    "the customer sent the remittance",
    "customer confirmed they sent it",
    "confirm with the bank first?",
    "partial payment maybe? what did they say",
    "not sure yet, checking the bank portal",
    "got it",
    "thanks, on it",
    "the bank rejected the card last week",
]


@pytest.fixture
def payment(ctx: AppContext) -> tuple[Conversation, Sent]:
    seed_world(ctx)
    chat = Conversation(ctx)
    return chat, ask_payment(chat)


@pytest.mark.parametrize(("text", "status", "amount"), PAYMENT_TAKEN)
def test_typed_payment_answers_are_taken_and_confirmed_once(
    payment: tuple[Conversation, Sent], text: str, status: ConfirmationStatus, amount: str | None
) -> None:
    chat, card = payment
    assert chat.reply_in_thread(PRIYA, card, text) == []  # the thread note below is the confirmation
    request = confirmation(chat)
    assert (request.status, request.confirmed_amount) == (status, amount and Decimal(amount))
    assert [p.amount for p in payments(chat)] == ([Decimal(amount)] if amount else [])
    [told] = _in_thread(chat, card, "finance")
    verb = "has not received" if status is ConfirmationStatus.NOT_RECEIVED else "confirmed"
    assert told.title.startswith(f"Dana Reyes: Priya Shah {verb} ") and told.mentions == (DANA,)
    assert chat.messenger.updates(card.ref)[-1].reply.buttons == ()


@pytest.mark.parametrize("text", PAYMENT_DOUBTFUL)
def test_doubtful_payment_lines_say_how_to_answer_and_change_nothing(
    payment: tuple[Conversation, Sent], text: str
) -> None:
    chat, card = payment
    before = row_counts(chat.ctx)
    reply = refused(chat.reply_in_thread(PRIYA, card, text))
    assert reply.title.startswith("Not answered: ")
    assert "reply here with `confirm` (all $1,200.00 arrived), `not received`, or `partial <amount>`" in reply.title
    assert reply.text.startswith("I understood: '") and reply.text.endswith("Nothing was saved.")
    assert row_counts(chat.ctx) == before
    assert confirmation(chat).status is ConfirmationStatus.PENDING and payments(chat) == []
    assert _in_thread(chat, card, "finance") == [] and chat.messenger.updates(card.ref) == []


@pytest.mark.parametrize("text", PAYMENT_QUIET)
@pytest.mark.parametrize("who", [PRIYA, DANA])
def test_talk_in_a_payment_thread_stays_quiet(payment: tuple[Conversation, Sent], who: str, text: str) -> None:
    chat, card = payment
    before, sent = row_counts(chat.ctx), len(chat.messenger.sent)
    assert chat.reply_in_thread(who, card, text) == []
    assert row_counts(chat.ctx) == before and len(chat.messenger.sent) == sent


def test_a_collector_typing_an_answer_is_refused_as_before(payment: tuple[Conversation, Sent]) -> None:
    chat, card = payment
    assert "Only finance" in refused(chat.reply_in_thread(DANA, card, "Confirmed, thanks!")).text
    assert confirmation(chat).status is ConfirmationStatus.PENDING and payments(chat) == []


def test_the_advice_works_when_followed(payment: tuple[Conversation, Sent]) -> None:
    chat, card = payment
    assert "`partial <amount>`" in refused(chat.reply_in_thread(PRIYA, card, "Got $500 of it")).title
    assert chat.reply_in_thread(PRIYA, card, "partial 500") == []
    assert confirmation(chat).confirmed_amount == Decimal("500.00")


# --- what reaches the bot, and lines nobody planned for -----------------------------------------


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("Approved.", True),
        ("Thanks, confirmed", True),
        ("approve?", True),
        ("status c100", True),
        ("thanks, on it", False),
        ("the customer approved the quote", False),
        ("", False),
    ],
)
def test_which_thread_lines_are_for_the_bot(text: str, wanted: bool) -> None:
    assert wanted_in_thread(text) is wanted


VOCABULARY = [
    "approve",
    "approved",
    "reject",
    "because",
    "confirm",
    "received",
    "not",
    "partial",
    "500",
    "$1,200.00",
    "maybe",
    "?",
    "thanks",
    "ok",
    "-",
    ":",
    ",",
    "I'd",
    "but",
    "the customer",
    "\U0001f44d",
    ":(",
    "\x00",
    "\u202e",
    "`",
    "EUR",
    "1.200,50",
    "\n",
]
lines = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=6)), max_size=8).map(" ".join),
)
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@given(text=lines)
@settings(max_examples=500, deadline=None)
def test_the_reader_never_raises(text: str) -> None:
    read(text)


@EXAMPLES
@given(text=lines)
def test_any_line_in_a_card_thread_gets_an_answer_or_none_and_a_refusal_writes_nothing(
    approval: tuple[Conversation, Sent], text: str
) -> None:
    chat, card = approval
    for who in (MARIA, DANA):
        before = row_counts(chat.ctx)
        replies = chat.reply_in_thread(who, card, text)
        assert not any("Something went wrong" in r.title for r in replies), replies
        if any(r.tone is Tone.ERROR for r in replies):
            changed = {t for t in before if row_counts(chat.ctx)[t] != before[t]}
            assert changed <= {"audit_events"}, changed  # a refused decider's attempt is audited
