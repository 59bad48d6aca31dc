"""The follow-up email a collector sends when the day's calls reached nobody: drafted from the
team's template with the account's open items and how to pay, shown in chat, edited, queued.

The collector edits the recipient, the subject and the message; the open items table and the
how-to-pay text are added below the message when it is queued, from the ledger as it is then."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.context import AppContext
from commands.mail.templates import fill, read
from commands.parsing.dates import format_day
from commands.wording import money
from storage.models import Activity, ActivityKind, Contact, Customer, Invoice, Outcome

MAX_SUBJECT_LENGTH = 200  # a subject is one line
BILLING_WORDS = ("billing", "accounts payable", "a/p", "ap", "finance", "accounting")


@dataclass(frozen=True)
class FollowUp:
    to_address: str
    contact_name: str | None
    subject: str
    message: str


def tried_unreached_today(session: Session, ctx: AppContext, customer_ids: Collection[int]) -> set[int]:
    """Accounts called today (no answer, voicemail, wrong number) where nobody was reached: their
    list lines offer Email."""
    if not customer_ids:
        return set()
    start, end = day_bounds(ctx, ctx.today())
    attempt = Activity.kind.in_([ActivityKind.CALL, ActivityKind.VOICEMAIL])
    rows = session.execute(
        select(
            Activity.customer_id,
            func.count().filter(attempt),
            func.count().filter(Activity.outcome.in_([Outcome.REACHED, Outcome.EMAIL_SENT])),
        )
        .where(Activity.customer_id.in_(list(customer_ids)), Activity.occurred_at >= start, Activity.occurred_at < end)
        .group_by(Activity.customer_id)
    ).all()
    return {customer_id for customer_id, attempts, answered in rows if attempts and not answered}


def day_bounds(ctx: AppContext, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=ctx.team.timezone)
    return start, start + timedelta(days=1)


def billing_contact(customer: Customer) -> Contact | None:
    """Who gets email: a contact whose role says billing or payables, else the primary contact,
    else the first one; only contacts with an email address."""
    with_email = [c for c in customer.contacts if c.email]
    for contact in with_email:
        role = (contact.title or "").lower()
        if any(word in role.replace("-", " ").split() or word in role for word in BILLING_WORDS if len(word) > 2):
            return contact
    return next((c for c in with_email if c.is_primary), with_email[0] if with_email else None)


def open_items(session: Session, customer_id: int) -> Sequence[Invoice]:
    return session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer_id, Invoice.closed_on.is_(None), Invoice.open_balance != 0)
        .order_by(Invoice.due_date, Invoice.number)
    ).all()


def items_table(customer: Customer, items: Sequence[Invoice], as_of: date) -> str:
    """The open items as a fixed-width table for a plain-text email, with the total."""
    lines = [f"{'Invoice':<14}{'Due':>14}{'Days late':>11}{'Open':>16}"]
    for item in items:
        late = max(0, (as_of - item.due_date).days) if item.open_balance > 0 else 0
        lines.append(
            f"{item.number[:13]:<14}{format_day(item.due_date)[4:]:>14}{late or '':>11}"
            f"{money(customer, item.open_balance):>16}"
        )
    total = sum((i.open_balance for i in items), start=Decimal("0.00"))
    lines.append(f"{'Total':<39}{money(customer, total):>16}")
    return "\n".join(lines)


def draft(session: Session, ctx: AppContext, customer: Customer, *, collector: str) -> FollowUp | None:
    """The drafted follow-up, or None when the account has no contact with an email."""
    contact = billing_contact(customer)
    if contact is None or contact.email is None:
        return None
    member = ctx.team.member(collector)
    filled = fill(
        "followup.txt",
        {
            "team": ctx.team.name,
            "customer": customer.name,
            "contact": contact.name,
            "balance": money(customer, account_balance(session, customer.id)),
            "collector": member.name if member is not None else collector,
        },
        folder=templates_folder(ctx),
    )
    return FollowUp(contact.email, contact.name, filled.subject[:MAX_SUBJECT_LENGTH], filled.body)


def full_body(session: Session, ctx: AppContext, customer: Customer, message: str) -> str:
    """The message, then the open items as of today and how to pay."""
    table = items_table(customer, open_items(session, customer.id), ctx.today())
    return f"{message.strip()}\n\nOpen items\n\n{table}\n\n{how_to_pay(ctx)}\n"


def how_to_pay(ctx: AppContext) -> str:
    return read("how_to_pay.txt", folder=templates_folder(ctx)).strip()


def templates_folder(ctx: AppContext) -> Path | None:
    """The team's own templates: ``mail/`` in the team file's folder."""
    return ctx.team_folder / "mail" if ctx.team_folder is not None else None
