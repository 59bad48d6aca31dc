"""Collector types ``status <customer>``: the account card, and nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from commands.context import AppContext
from commands.messages import Tone
from storage.models import Hold, Invoice, InvoiceKind
from tests.support.approvals import DANA, MARIA, PRIYA, ask, decide
from tests.support.harness import Conversation
from tests.support.payments import ask as pay
from tests.support.world import field, refused, row_counts, say, seed_world

PINNED_FIELDS = [
    ("Balance", "$4,350.10"),
    ("Paid, not yet in the ledger", "$200.00"),
    ("Current", "$500.00"),
    ("1-30 days", "$750.00"),
    ("31-60 days", "$1,000.00"),
    ("61-90 days", "$100.10"),
    ("90+ days", "$2,000.00"),
    ("Collector", "Dana Reyes"),
    ("Suspension", "not in sequence"),
    ("Retainer required", "$5,000.00"),
    ("Retainer held", "$2,200.00"),  # $2,000 paid on RET-1 and the $200 confirmed, up to what RET-1 has open
    ("Retainer short", "$2,800.00"),
]
PINNED_ROWS = [
    ("Promise: $1,200.00 by Fri 27 Nov 2026 ($200.00 paid so far)", "", []),
    ("Hold since Fri 20 Nov 2026 10:00 AM CST", "final invoice over 90 days", [("Kind", "scheduling")]),
    ("Dispute: $100.10 since Wed 18 Nov 2026 9:00 AM CST", "INV-4 billed twice", []),
    ("$300.00 credit approved, awaiting the credit memo", "", []),
    ("Mon 23 Nov 2026 9:00 AM CST call, reached with Jane Doe", "will pay fri", [("By", "Dana Reyes")]),
    ("Fri 20 Nov 2026 9:30 AM CST call, no-answer", "", [("By", "Dana Reyes")]),
]


def test_status_shows_balance_buckets_promises_holds_disputes_and_contacts(ctx: AppContext) -> None:
    seed_world(ctx)
    say(ctx, "log c100 reached with Jane Doe: will pay fri")
    say(ctx, "promise c100 1,200 fri")
    before = row_counts(ctx)
    [reply] = say(ctx, "status acme dental")
    assert row_counts(ctx) == before
    assert reply.tone is Tone.INFO and reply.title == "Acme Dental Group (C100)"
    assert [(f.label, f.value) for f in reply.fields] == [
        ("Balance", "$3,350.10"),
        ("Current", "$500.00"),
        ("1-30 days", "-$250.00"),
        ("31-60 days", "$1,000.00"),
        ("61-90 days", "$100.10"),
        ("90+ days", "$2,000.00"),
        ("Collector", "Dana Reyes"),
        ("Suspension", "not in sequence"),
    ]
    assert [(r.title, r.detail) for r in reply.rows] == [
        ("Promise: $1,200.00 by Fri 27 Nov 2026", ""),
        ("Hold since Fri 20 Nov 2026 10:00 AM CST", "final invoice over 90 days"),
        ("Dispute: $100.10 since Wed 18 Nov 2026 9:00 AM CST", "INV-4 billed twice"),
        ("Mon 23 Nov 2026 9:00 AM CST call, reached with Jane Doe", "will pay fri"),
        ("Fri 20 Nov 2026 9:30 AM CST call, no-answer", ""),
    ]
    assert reply.rows[3].fields[0].value == "Dana Reyes"
    assert reply.text == ""


def test_status_says_which_sections_are_empty(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = say(ctx, 'status "Zenith Labs"')
    assert reply.text == "No open promises, no active holds, no open disputes, no contacts logged."
    assert field(reply, "Balance") == "900.00 EUR"
    assert field(reply, "Collector") == "unassigned"
    assert reply.rows == ()


def test_status_shows_only_the_last_five_contacts(ctx: AppContext) -> None:
    seed_world(ctx)
    for n in range(7):
        say(ctx, f"log zenith email-sent reminder {n}")
    [reply] = say(ctx, "status zenith")
    assert [r.detail for r in reply.rows] == [f"reminder {n}" for n in (6, 5, 4, 3, 2)]
    assert reply.rows[0].title == "Mon 23 Nov 2026 9:00 AM CST email"


def test_status_refusals(ctx: AppContext) -> None:
    seed_world(ctx)
    assert "which customer?" in refused(say(ctx, "status")).title
    assert "no customer matches 'nobody inc'" in refused(say(ctx, "status nobody inc")).title
    assert "Acme Ortho (C200)" in refused(say(ctx, "status acme")).title
    assert "Usage: status <customer>" in refused(say(ctx, "status acme")).text


def test_status_pins_the_whole_card_of_a_busy_account(ctx: AppContext) -> None:
    """Every section at once: aging, money finance confirmed, a partly paid promise, a hold of a
    kind other than the default, a dispute, a credit approved and not yet imported, contacts and a retainer."""
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "log c100 reached with Jane Doe: will pay fri")
    chat.say(DANA, "promise c100 1,200 fri")
    chat.click(PRIYA, pay(chat, "paid c100 200 today wire FED 8841"), "Confirm")
    decide(chat, MARIA, ask(chat, DANA, "credit acme dental INV-1 300 wrong rate"), "button")
    chat.say(MARIA, "retainer c100 5,000")
    with ctx.sessions.begin() as session:
        session.scalars(select(Hold).where(Hold.customer_id == ids["C100"])).one().kind = "scheduling"
        session.add(
            Invoice(
                customer_id=ids["C100"],
                number="RET-1",
                kind=InvoiceKind.RETAINER,
                due_date=date(2026, 11, 2),
                amount=Decimal("3000.00"),
                open_balance=Decimal("1000.00"),
                currency="USD",
            )
        )
    [reply] = chat.say(DANA, "status c100")
    assert (reply.title, reply.text, reply.tone) == ("Acme Dental Group (C100)", "", Tone.INFO)
    assert [(f.label, f.value) for f in reply.fields] == PINNED_FIELDS
    assert [(r.title, r.detail, [(f.label, f.value) for f in r.fields]) for r in reply.rows] == PINNED_ROWS
