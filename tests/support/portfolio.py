"""A small portfolio for the scheduler's jobs: collectors and their accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from storage.models import (
    Customer,
    Invoice,
    InvoiceKind,
    TeamMember,
)

DANA, SAM, LEE = "dana.reyes@example.com", "sam.okafor@example.com", "lee.marsh@example.com"


CREATED = datetime(2026, 1, 5, tzinfo=UTC)
LIST_TITLE = "Your call list for Mon 23 Nov"  # the title of each collector's list on the Monday


def add_customer(
    session: Session, erp_id: str, name: str, collector: str | None, items: list[tuple[InvoiceKind, date, str]]
) -> None:
    member_id = session.scalar(select(TeamMember.id).where(TeamMember.email == collector)) if collector else None
    customer = Customer(erp_id=erp_id, name=name, collector_id=member_id, created_at=CREATED)
    session.add(customer)
    session.flush()
    for n, (kind, due, amount) in enumerate(items, start=1):
        session.add(
            Invoice(
                customer_id=customer.id,
                number=f"{erp_id}-{n}",
                kind=kind,
                issue_date=None,
                due_date=due,
                amount=Decimal(amount),
                open_balance=Decimal(amount),
            )
        )


def seed_portfolio(ctx: AppContext) -> None:
    """Dana has two past-due accounts (one a final invoice), Sam one past-due and one current,
    Lee none; one customer holds only a credit."""
    with ctx.sessions.begin() as session:
        add_customer(session, "C100", "Acme Dental Group", DANA, [(InvoiceKind.STANDARD, date(2026, 10, 1), "5000.00")])
        add_customer(session, "C200", "Birch Logistics", DANA, [(InvoiceKind.FINAL, date(2026, 11, 16), "1200.50")])
        add_customer(session, "C300", "Cobalt Labs", SAM, [(InvoiceKind.STANDARD, date(2026, 9, 1), "12000.00")])
        add_customer(session, "C400", "Delta Foods", SAM, [(InvoiceKind.STANDARD, date(2026, 12, 15), "800.00")])
        add_customer(session, "C600", "Fjord Credit Co", SAM, [(InvoiceKind.CREDIT_MEMO, date(2026, 10, 1), "-50.00")])
