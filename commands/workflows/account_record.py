"""The account's record over the last year, compactly, for cards where an approver signs off on
money leaving the ledger (credit memos, write-offs): how often it was contacted and reached,
promises kept and broken, disputes and how they ended, earlier credits and write-offs, and its
oldest open item. The account card beside it already shows the aging, the open promises and
disputes and the last contacts; these are the counts behind them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.messages import Field
from commands.parsing.dates import format_day
from commands.wording import money
from storage.models import (
    Activity,
    ActivityKind,
    AdjustmentStatus,
    AdjustmentTask,
    Customer,
    Dispute,
    DisputeStatus,
    Invoice,
    Outcome,
    Promise,
    PromiseStatus,
)

LOOK_BACK_DAYS = 365


def account_record(session: Session, customer: Customer, *, today: date) -> tuple[Field, ...]:
    """One field each: contacts, promises, disputes, earlier credits and write-offs, oldest item."""
    since_day = today - timedelta(days=LOOK_BACK_DAYS)
    since = datetime.combine(since_day, time.min, tzinfo=UTC)
    return (
        Field("Contacts, last 12 months", _contacts(session, customer.id, since)),
        Field("Promises, last 12 months", _promises(session, customer.id, since_day)),
        Field("Disputes, last 12 months", _disputes(session, customer.id, since)),
        Field("Credits and write-offs, last 12 months", _adjustments(session, customer, since)),
        Field("Oldest open item", _oldest(session, customer.id, today)),
    )


def _contacts(session: Session, customer_id: int, since: datetime) -> str:
    rows = session.execute(
        select(Activity.kind, Activity.outcome, Activity.occurred_at).where(
            Activity.customer_id == customer_id, Activity.occurred_at >= since
        )
    ).all()
    if not rows:
        return "none logged"
    calls = [r for r in rows if r.kind is not ActivityKind.EMAIL]
    reached = [r.occurred_at for r in rows if r.outcome is Outcome.REACHED]
    text = (
        f"{len(calls)} call{'s' if len(calls) != 1 else ''} ({len(reached)} reached), "
        f"{len(rows) - len(calls)} email{'s' if len(rows) - len(calls) != 1 else ''}"
    )
    return text + (f"; last reached {format_day(max(reached).date())}" if reached else "; never reached")


def _promises(session: Session, customer_id: int, since: date) -> str:
    counts = Counter(
        session.scalars(
            select(Promise.status).where(
                Promise.customer_id == customer_id,
                Promise.promised_date >= since,
                Promise.status != PromiseStatus.CANCELLED,
            )
        )
    )
    if not counts:
        return "none"
    return ", ".join(
        f"{counts[s]} {s.value}" for s in (PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.OPEN) if counts[s]
    )


def _disputes(session: Session, customer_id: int, since: datetime) -> str:
    rows = session.execute(
        select(Dispute.status, Dispute.outcome).where(Dispute.customer_id == customer_id, Dispute.opened_at >= since)
    ).all()
    if not rows:
        return "none"
    ends = Counter(
        "open" if status is DisputeStatus.OPEN else (outcome or "resolved").split(":")[0] for status, outcome in rows
    )
    return f"{len(rows)}: " + ", ".join(f"{n} {word}" for word, n in ends.most_common())


def _adjustments(session: Session, customer: Customer, since: datetime) -> str:
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(AdjustmentTask.amount), 0)).where(
            AdjustmentTask.customer_id == customer.id,
            AdjustmentTask.created_at >= since,
            AdjustmentTask.status != AdjustmentStatus.NOT_DOING,
        )
    ).one()
    return f"{count} approved, {money(customer, total)} in all" if count else "none"


def _oldest(session: Session, customer_id: int, today: date) -> str:
    oldest = session.execute(
        select(Invoice.number, Invoice.due_date)
        .where(Invoice.customer_id == customer_id, Invoice.closed_on.is_(None), Invoice.open_balance > 0)
        .order_by(Invoice.due_date, Invoice.id)
        .limit(1)
    ).first()
    if oldest is None:
        return "none"
    days = (today - oldest.due_date).days
    return f"{oldest.number}, {days} days past due" if days > 0 else f"{oldest.number}, not yet due"
