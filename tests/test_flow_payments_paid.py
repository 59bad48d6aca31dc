"""Collector types ``paid ...``: the claim finance is asked about, read the way collectors type
it (dates look back from today), or one refusal that writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.handlers.paid_cmd import read_paid_day
from commands.messages import Tone
from storage.models import PaymentConfirmation
from tests.support.harness import Conversation
from tests.support.world import DANA, refused, row_counts, say, seed_world

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "erp_id", "amount", "paid_on", "method", "reference", "urgent"),
    [
        ("paid c100 1200", "C100", "1200.00", MONDAY, None, None, False),
        ("paid acme dental 1,200.50 yesterday", "C100", "1200.50", date(2026, 11, 22), None, None, False),
        ("paid c100 $1.2k fri wire", "C100", "1200.00", date(2026, 11, 20), "wire", None, False),
        ("paid c100 1200 mon ACH", "C100", "1200.00", MONDAY, "ach", None, False),
        ("paid c100 1200 last mon check 10233", "C100", "1200.00", date(2026, 11, 16), "check", "10233", False),
        ("paid c100 1200 11/20 card ending 4242", "C100", "1200.00", date(2026, 11, 20), "card", "ending 4242", False),
        ("paid c100 1200 nov 2 cash", "C100", "1200.00", date(2026, 11, 2), "cash", None, False),
        ("paid c100 1200 2026-11-19 REF-77", "C100", "1200.00", date(2026, 11, 19), None, "REF-77", False),
        ("paid c100 USD 300 other --urgent", "C100", "300.00", MONDAY, "other", None, True),
        ("paid --urgent c100 300 wire FED 1", "C100", "300.00", MONDAY, "wire", "FED 1", True),
        ("paid c100 300 wire FED \u2014urgent 1", "C100", "300.00", MONDAY, "wire", "FED 1", True),
        ("paid route 66 dental 700 wire", "C400", "700.00", MONDAY, "wire", None, False),
        (
            'paid "Summit Ortho, P.C." 1,500 11/20 check 10233',
            "C300",
            "1500.00",
            date(2026, 11, 20),
            "check",
            "10233",
            False,
        ),
        ("paid zenith 900 EUR", "C600", "900.00", MONDAY, None, None, False),
        ("paid c100 1200 zelle", "C100", "1200.00", MONDAY, "zelle", None, False),
        ("paid c100 1200 fri via wire FED 12", "C100", "1200.00", date(2026, 11, 20), "wire", "FED 12", False),
        ("paid c100 1200 by check 10233", "C100", "1200.00", MONDAY, "check", "10233", False),
        ("paid c100 1200 credit card ending 4242", "C100", "1200.00", MONDAY, "card", "ending 4242", False),
        ("paid c100 1200 cheque 88", "C100", "1200.00", MONDAY, "check", "88", False),
        ("paid c100 1200 by REF-9", "C100", "1200.00", MONDAY, None, "by REF-9", False),
    ],
)
def test_paid_reads_customer_amount_date_method_reference_and_urgency(
    ctx: AppContext,
    text: str,
    erp_id: str,
    amount: str,
    paid_on: date,
    method: str | None,
    reference: str | None,
    urgent: bool,
) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    [ack] = chat.say(DANA, text)
    assert ack.tone is Tone.SUCCESS and len(chat.messenger.posts("finance")) == 1, ack
    with ctx.sessions() as session:
        claim = session.scalars(select(PaymentConfirmation)).one()
    assert (claim.customer_id, claim.amount, claim.paid_on, claim.method, claim.reference, claim.urgent) == (
        ids[erp_id],
        Decimal(amount),
        paid_on,
        method,
        reference,
        urgent,
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("paid xyz 100", "no customer matches 'xyz'"),
        ("paid acme 100", "'acme' matches several customers"),
        ("paid acme dental -500", "amounts must be positive; I read '-500' as -$500.00"),
        ("paid acme dental 0", "amounts must be more than zero"),
        ("paid acme dental", "I need a customer, then the amount it paid"),
        ("paid", "I need a customer, then the amount it paid"),
        ("paid c100 500 tomorrow", "a payment can't be dated in the future; I read 'tomorrow' as Tue 24 Nov 2026"),
        ("paid c100 500 next fri", "can't be dated in the future; I read 'next fri' as Fri 4 Dec 2026"),
        ("paid c100 500 2026-12-01", "can't be dated in the future"),
        ("paid c100 500 12/24", "at most 180 days back; I read '12/24' as Wed 24 Dec 2025"),
        ("paid c100 500 2/30", "'2/30' is not a date"),
        ("paid zenith 900 USD", "Zenith Labs (C600) is billed in EUR, not USD"),
        ("paid c100 500 wire " + "x" * 101, "a reference can be at most 100 characters and yours has 101"),
    ],
)
def test_bad_claims_are_refused_and_write_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(say(ctx, text))
    assert says in reply.title, reply
    assert "Usage: paid <customer> <amount> [date] [method] [reference] [--urgent]" in reply.text
    assert row_counts(ctx) == before


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("today", MONDAY),
        ("on fri", date(2026, 11, 20)),
        ("sunday", date(2026, 11, 22)),
        ("last monday", date(2026, 11, 16)),
        ("nov 23", MONDAY),
        ("23rd of november", MONDAY),
        ("11/24", date(2025, 11, 24)),
        ("wire", None),
    ],
)
def test_payment_days_are_read_looking_back(text: str, day: date | None) -> None:
    assert read_paid_day(text, MONDAY) == day


def test_the_29th_of_february_with_no_year_is_not_moved_to_a_year_without_one() -> None:
    assert read_paid_day("2/29", date(2027, 11, 23)) == date(2028, 2, 29)
