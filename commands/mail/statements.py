"""Statement day: every customer whose open items net to more than zero and who has a billing
contact with an email gets its statement, attached. Queued in the job's transaction under the
key ``statement:<customer>:<day>``, so a second run of the day (a restart, another replica)
queues nothing new and nobody gets two; the sender posts the count sent and failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from commands.context import AppContext
from commands.mail.followup import billing_contact, how_to_pay, open_items, templates_folder
from commands.mail.queue import Draft, queue_email
from commands.mail.statement import XLSX, statement_name, statement_workbook
from commands.mail.templates import fill
from commands.parsing.dates import format_day
from commands.wording import money, plural
from storage.models import Customer, Invoice
from storage.models.mail import STATEMENT


@dataclass(frozen=True)
class StatementRun:
    owing: int = 0  # customers with an open balance
    queued: int = 0  # statements queued by this run
    earlier: int = 0  # queued by an earlier run of the same day
    no_email: int = 0  # no contact with an email: nobody to send it to


def owing_customers(session: Session) -> list[Customer]:
    """Customers whose open items net to more than zero (a credit alone gets no statement)."""
    owing = (
        select(Invoice.customer_id)
        .where(Invoice.closed_on.is_(None))
        .group_by(Invoice.customer_id)
        .having(func.sum(Invoice.open_balance) > Decimal("0"))
    )
    return list(
        session.scalars(
            select(Customer)
            .where(Customer.id.in_(owing))
            .options(selectinload(Customer.contacts))
            .order_by(Customer.id)
        )
    )


def queue_statements(session: Session, ctx: AppContext, day: date) -> StatementRun:
    queued = earlier = no_email = 0
    customers = owing_customers(session)
    paying = how_to_pay(ctx)
    for customer in customers:
        contact = billing_contact(customer)
        if contact is None or contact.email is None:
            no_email += 1
            continue
        draft = statement_draft(session, ctx, customer, day, contact.name, contact.email, paying)
        row = queue_email(
            session,
            ctx,
            draft,
            key=f"statement:{customer.id}:{day.isoformat()}",
            purpose=STATEMENT,
            customer_id=customer.id,
            actor="scheduler",
            member_id=customer.collector_id,
            statement_day=day,
        )
        if row is None:
            earlier += 1
        else:
            queued += 1
    return StatementRun(len(customers), queued, earlier, no_email)


def statement_draft(
    session: Session, ctx: AppContext, customer: Customer, day: date, contact: str, address: str, paying: str
) -> Draft:
    items = open_items(session, customer.id)
    total = sum((i.open_balance for i in items), start=Decimal("0.00"))
    filled = fill(
        "statement.txt",
        {
            "team": ctx.team.name,
            "customer": customer.name,
            "contact": contact,
            "day": format_day(day),
            "balance": money(customer, total),
            "count_items": plural(len(items), "open item"),
            "how_to_pay": paying,
        },
        folder=templates_folder(ctx),
    )
    data = statement_workbook(customer, items, day=day, team=ctx.team.name, contact=contact, how_to_pay=paying)
    return Draft(address, contact, filled.subject, filled.body, (statement_name(customer, day), XLSX, data))
