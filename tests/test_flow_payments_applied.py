"""Money finance confirms pays the oldest open items first, on the list at once: an account that
paid its whole past-due amount leaves the list that afternoon and stays off the next mornings,
through exports that do not show the payment yet; the export that does show it takes over, and
the money counts once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.calllist import CallListRow, build_call_list
from commands.context import AppContext
from commands.importing import import_aging_file
from commands.messages import Tone
from storage.models import Customer, Invoice, InvoiceKind, Payment, TeamMember
from tests.support.harness import Conversation
from tests.support.world import DANA, PRIYA, seed_world

MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
HEADER = "Customer ID,Customer Name,Invoice No.,Invoice Type,Due Date,Amount Due\n"


def harbor_clinic(ctx: AppContext, items: list[tuple[str, InvoiceKind, date, str]]) -> int:
    """Dana's customer C800 with the given open items (number, kind, due date, open balance)."""
    with ctx.sessions.begin() as session:
        dana = session.scalars(select(TeamMember.id).where(TeamMember.email == DANA)).one()
        customer = Customer(
            erp_id="C800",
            name="Harbor Clinic",
            currency="USD",
            collector_id=dana,
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        session.add(customer)
        session.flush()
        for number, kind, due, balance in items:
            session.add(
                Invoice(
                    customer_id=customer.id,
                    number=number,
                    kind=kind,
                    due_date=due,
                    amount=Decimal(balance),
                    open_balance=Decimal(balance),
                    currency="USD",
                )
            )
        return customer.id


def harbor_line(ctx: AppContext, day: date) -> CallListRow | None:
    with ctx.sessions() as session:
        return next(
            (r for r in build_call_list(session, ctx, day=day, collector_email=DANA) if r.erp_id == "C800"), None
        )


def confirmed(chat: Conversation, claim: str) -> None:
    """Dana says Harbor paid; Priya in finance confirms it on the card."""
    [ack] = chat.say(DANA, claim)
    assert ack.tone is Tone.SUCCESS, ack
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")


def export(tmp_path: Path, name: str, rows: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows)
    return path


@pytest.fixture
def chat(ctx: AppContext) -> Conversation:
    seed_world(ctx)
    return Conversation(ctx)


def test_an_account_that_paid_its_whole_past_due_leaves_the_list_until_the_erp_shows_it_and_counts_once(
    chat: Conversation, tmp_path: Path
) -> None:
    ctx = chat.ctx
    harbor_clinic(
        ctx,
        [
            ("FIN-9", InvoiceKind.FINAL, date(2026, 11, 17), "4000.00"),
            ("MRR-9", InvoiceKind.RECURRING, date(2026, 12, 10), "500.00"),
        ],
    )
    morning = harbor_line(ctx, MONDAY)
    assert morning is not None and morning.reasons[0] == "final invoice 6 days past due"

    ctx.clock.advance(hours=5)  # Monday afternoon
    confirmed(chat, "paid c800 4000 today wire FED 1207")
    assert harbor_line(ctx, MONDAY) is None
    assert harbor_line(ctx, TUESDAY) is None

    # Tuesday evening's export was made before the ERP had the payment: FIN-9 still open.
    ctx.clock.advance(hours=30)
    lagging = (
        "C800,Harbor Clinic,FIN-9,Final,2026-11-17,4000.00\nC800,Harbor Clinic,MRR-9,Recurring,2026-12-10,500.00\n"
    )
    import_aging_file(ctx, export(tmp_path, "tuesday.csv", lagging), as_of=TUESDAY)
    assert harbor_line(ctx, WEDNESDAY) is None

    # Wednesday's export shows FIN-9 paid, and a new invoice that fell past due: the payment is
    # the ERP's now, so it pays nothing more and the new invoice is chased.
    ctx.clock.advance(hours=24)
    shown = (
        "C800,Harbor Clinic,MRR-9,Recurring,2026-12-10,500.00\nC800,Harbor Clinic,STD-9,Standard,2026-11-20,1000.00\n"
    )
    import_aging_file(ctx, export(tmp_path, "wednesday.csv", shown), as_of=WEDNESDAY)
    with ctx.sessions() as session:
        [payment] = session.scalars(select(Payment).where(Payment.source == "finance")).all()
        assert payment.batch_id is not None  # the ERP shows it
    line = harbor_line(ctx, WEDNESDAY)
    assert line is not None and line.balance_due == Decimal("1500.00")
    assert "$1,000 past due" in line.reasons
    assert not any("confirmed by finance" in reason for reason in line.reasons)


def test_a_part_payment_pays_the_oldest_items_and_the_reasons_name_what_is_left(chat: Conversation) -> None:
    ctx = chat.ctx
    harbor_clinic(
        ctx,
        [
            ("OLD-1", InvoiceKind.STANDARD, date(2026, 9, 10), "1500.00"),
            ("FIN-9", InvoiceKind.FINAL, date(2026, 11, 17), "4000.00"),
        ],
    )
    before = harbor_line(ctx, MONDAY)
    assert before is not None
    assert before.reasons[:2] == ("final invoice 6 days past due", "$1,500 over 60 days")
    assert before.days_past_due == 74

    confirmed(chat, "paid c800 2000 today ach 55-1")
    after = harbor_line(ctx, MONDAY)
    assert after is not None
    # OLD-1 is paid off and $500 of FIN-9: the final invoice is still past due, nothing is over 60 days.
    assert after.days_past_due == 6
    assert after.reasons[0] == "final invoice 6 days past due"
    assert not any("over 60 days" in reason for reason in after.reasons)
    assert "$3,500 past due" in after.reasons
    assert "$2,000 paid (confirmed by finance), taken off the oldest invoices until the ERP shows it" in after.reasons
