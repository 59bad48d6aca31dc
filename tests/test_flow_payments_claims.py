"""What a payment claim may ask of finance: no more than the customer owes (less the credits and
write-offs approved and not yet in the ERP, what finance already confirmed and what already
waits for confirmation), nothing on an account in credit;
the same claim again with ``--urgent`` makes the pending request urgent instead of refusing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.messages import Tone
from storage.models import AuditEvent, Customer, Invoice, InvoiceKind, PaymentConfirmation, Promise, PromiseStatus
from tests.support.approvals import ALEX, MARIA
from tests.support.harness import Conversation
from tests.support.world import CREATED, DANA, PRIYA, refused, row_counts, say, seed_world


def test_a_claim_up_to_the_balance_is_taken(ctx: AppContext) -> None:
    seed_world(ctx)  # Acme Dental owes $3,350.10 (a $250 credit memo included)
    [ack] = say(ctx, "paid acme dental 3,350.10")
    assert ack.tone is Tone.SUCCESS, ack


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "paid acme dental 999,999",
            "Acme Dental Group (C100) owes $3,350.10: a payment of $999,999.00 is more "
            "than the $3,350.10 left. Check the amount",
        ),
        ("paid acme dental 3,350.11", "a payment of $3,350.11 is more than the $3,350.10 left"),
        ("paid paid up 10", "Paid Up LLC (C700) owes nothing: there is no payment for finance to confirm"),
    ],
)
def test_a_claim_over_the_balance_is_refused_with_the_balance(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    assert says in refused(say(ctx, text)).title
    assert row_counts(ctx) == before


def test_an_account_in_credit_takes_no_claim(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions.begin() as session:
        customer = Customer(erp_id="C800", name="Overpaid Orthodontics", currency="USD", created_at=CREATED)
        session.add(customer)
        session.flush()
        session.add(
            Invoice(
                customer_id=customer.id,
                number="CM-9",
                kind=InvoiceKind.CREDIT_MEMO,
                due_date=date(2026, 11, 1),
                amount=Decimal("-120.00"),
                open_balance=Decimal("-120.00"),
                currency="USD",
            )
        )
    reply = refused(say(ctx, "paid overpaid 50"))
    assert "Overpaid Orthodontics (C800) is in credit by $120.00" in reply.title


def test_claims_waiting_for_finance_count_against_the_balance(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    [ack] = chat.say(DANA, "paid acme dental 3,000")
    assert ack.tone is Tone.SUCCESS
    second = refused(chat.say(DANA, "paid acme dental 500 fri"))
    assert (
        "$3,000.00 already waiting for finance to confirm: a payment of $500.00 is more than the $350.10 left"
    ) in second.title
    [third] = chat.say(DANA, "paid acme dental 350.10 fri")
    assert third.tone is Tone.SUCCESS


def test_confirmed_money_not_yet_imported_counts_against_the_balance(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "paid acme dental 3,000")
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")
    reply = refused(chat.say(DANA, "paid acme dental 400 fri"))
    assert "$3,000.00 of it already confirmed by finance" in reply.title
    assert "is more than the $350.10 left" in reply.title


def test_approved_credits_and_write_offs_count_against_the_balance(ctx: AppContext) -> None:
    """Acme Dental owes $3,350.10; a $400 credit on INV-1 approved by Maria and a $2,950.10
    write-off approved by Alex leave nothing to claim; finance declining the write-off brings
    its amount back; a credit still waiting for approval does not count."""
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "credit acme dental INV-1 400 rate charged above the contract")
    credit = chat.last_post("approvals")
    assert chat.say(DANA, "paid acme dental 3,350.10")[0].tone is Tone.SUCCESS  # not approved yet
    chat.click(PRIYA, chat.last_post("finance"), "Not received")
    chat.click(MARIA, credit, "Approve")
    before = row_counts(ctx)
    over = refused(chat.say(DANA, "paid acme dental 3,350.10"))
    assert over.title == (
        "Acme Dental Group (C100) owes $3,350.10; $400.00 of it approved as credits or write-offs: a payment "
        "of $3,350.10 is more than the $2,950.10 left. Check the amount"
    )
    assert row_counts(ctx) == before
    chat.say(DANA, "writeoff acme dental 2,950.10 uncollectible after the merger")
    chat.click(ALEX, chat.last_post("approvals"), "Approve")
    nothing = refused(chat.say(DANA, "paid acme dental 1"))
    assert nothing.title == (
        "Acme Dental Group (C100) owes $3,350.10, all of it approved as credits or write-offs: there is no "
        "payment for finance to confirm. If the customer paid anyway, tell finance directly"
    )
    writeoff = chat.last_post("finance")
    assert writeoff.reply.title.startswith("Write-off to book")
    chat.click(PRIYA, writeoff, "Not doing", reason="the customer disputes the merger terms")
    [ack] = chat.say(DANA, "paid acme dental 2,950.10")
    assert ack.tone is Tone.SUCCESS, ack


def test_the_same_claim_again_with_urgent_escalates_the_pending_request(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "paid acme dental 1,200 fri wire")
    card = chat.last_post("finance")
    [ack] = chat.say(DANA, "paid acme dental 1,200 fri --urgent")
    assert (ack.tone, ack.title) == (Tone.SUCCESS, "Request #1 is now urgent")
    with ctx.sessions() as session:
        claims = session.scalars(select(PaymentConfirmation)).all()
        made_urgent = session.scalars(select(AuditEvent).where(AuditEvent.action == "confirmation.made_urgent")).all()
    assert [(c.id, c.urgent) for c in claims] == [(1, True)]
    assert [(e.entity_id, e.actor) for e in made_urgent] == [(1, DANA)]
    note = [s for s in chat.messenger.posts("finance") if s.ref.where == card.ref.thread()][-1]
    assert note.reply.title == "Now urgent: $1,200.00 from Acme Dental Group (C100)"
    assert "Dana Reyes marked this request urgent" in note.reply.text
    [redrawn] = chat.messenger.updates(card.ref)
    assert ("Urgent", "yes (a hold blocks product release or scheduling)") in [
        (f.label, f.value) for f in redrawn.reply.fields
    ]
    assert redrawn.reply.tone is Tone.WARNING
    again = refused(chat.say(DANA, "paid acme dental 1,200 fri --urgent"))
    assert "finance is already asked to confirm $1,200.00" in again.title


def test_a_payment_made_before_the_promise_does_not_keep_it(ctx: AppContext) -> None:
    """Monday: Dana takes a promise for Friday; the customer says it paid last Thursday. That
    money was not paid because of the promise, so the promise stays open; money paid today does
    keep it."""
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "promise acme ortho 500 fri")
    chat.say(DANA, "paid acme ortho 500 last thu")
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")
    with ctx.sessions() as session:
        promise = session.scalars(select(Promise).where(Promise.amount == Decimal("500.00"))).one()
        assert (promise.status, promise.paid_amount) == (PromiseStatus.OPEN, Decimal("0.00"))
    chat.say(DANA, "paid acme ortho 300 today")
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")
    with ctx.sessions() as session:
        promise = session.get_one(Promise, promise.id)
        assert (promise.status, promise.paid_amount) == (PromiseStatus.OPEN, Decimal("300.00"))
