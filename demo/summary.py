"""What a loaded portfolio holds, read back from the database: the numbers ``arbot demo``
prints, so what it reports is what was stored, not what the generator meant to write."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from demo.timeline import Timeline
from storage.models import (
    Activity,
    ActivityKind,
    Base,
    Customer,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Invoice,
    Outcome,
    PaymentPlan,
    PlanStatus,
    Promise,
    TeamMember,
)

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def bucket(days_past_due: int) -> str:
    """Aging bucket for days past due (zero or less is current)."""
    if days_past_due <= 0:
        return "current"
    for limit, name in ((30, "1-30"), (60, "31-60"), (90, "61-90")):
        if days_past_due <= limit:
            return name
    return "90+"


@dataclass(frozen=True)
class DemoSummary:
    anchor: date
    customers: int
    segments: dict[str, int]
    collectors: dict[str, int]  # collector name -> accounts owned
    open_items: dict[str, dict[str, int]]  # invoice kind -> bucket -> open items
    bucket_totals: dict[str, Decimal]  # bucket -> open balance
    paid_invoices: int
    promises: dict[str, int]  # status -> promises
    open_disputes: int
    active_holds: int
    active_plans: int
    credit_accounts: int  # customers whose net open balance is a credit
    reached_today: int
    tried_today: int  # three calls or voicemails today, nobody reached

    @property
    def open_total(self) -> Decimal:
        return sum(self.bucket_totals.values(), Decimal("0.00"))

    @property
    def invoices(self) -> int:
        return self.paid_invoices + sum(sum(row.values()) for row in self.open_items.values())


def summarize(session: Session, t: Timeline) -> DemoSummary:
    open_items: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    totals = dict.fromkeys(BUCKETS, Decimal("0.00"))
    rows = session.execute(
        select(Invoice.kind, Invoice.due_date, Invoice.open_balance).where(Invoice.closed_on.is_(None))
    )
    for kind, due, balance in rows:
        name = bucket((t.anchor - due).days)
        open_items[kind.value][name] += 1
        totals[name] += balance
    reached, tried = _today(session, t)
    return DemoSummary(
        anchor=t.anchor,
        customers=session.scalar(select(func.count(Customer.id))) or 0,
        segments=_grouped(session, Customer.segment, Customer.id),
        collectors={
            name: n
            for name, n in session.execute(
                select(TeamMember.name, func.count(Customer.id))
                .join(Customer, Customer.collector_id == TeamMember.id)
                .group_by(TeamMember.name)
                .order_by(TeamMember.name)
            )
        },
        open_items=dict(open_items),
        bucket_totals=totals,
        paid_invoices=session.scalar(select(func.count(Invoice.id)).where(Invoice.closed_on.is_not(None))) or 0,
        promises={
            status.value: n
            for status, n in session.execute(select(Promise.status, func.count(Promise.id)).group_by(Promise.status))
        },
        open_disputes=_count(session, Dispute, Dispute.status == DisputeStatus.OPEN),
        active_holds=_count(session, Hold, Hold.status == HoldStatus.ACTIVE),
        active_plans=_count(session, PaymentPlan, PaymentPlan.status == PlanStatus.ACTIVE),
        credit_accounts=len(
            session.scalars(
                select(Invoice.customer_id)
                .where(Invoice.closed_on.is_(None))
                .group_by(Invoice.customer_id)
                .having(func.sum(Invoice.open_balance) < Decimal("0"))
            ).all()
        ),
        reached_today=len(reached),
        tried_today=len(tried - reached),
    )


def _grouped(session: Session, key: InstrumentedAttribute[Any], counted: InstrumentedAttribute[Any]) -> dict[str, int]:
    """Counts per value of ``key``, largest first."""
    count = func.count(counted)
    rows = session.execute(select(key, count).group_by(key).order_by(count.desc(), key))
    return {str(k): n for k, n in rows}


def _count(session: Session, model: type[Base], condition: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(condition)) or 0


def _today(session: Session, t: Timeline) -> tuple[set[int], set[int]]:
    """Customers reached on the anchor day, and customers phoned (calls, voicemails) three or
    more times on it: the daily attempt limit."""
    start, end = t.at(t.anchor, 0), t.at(t.anchor + timedelta(days=1), 0)
    today = (Activity.occurred_at >= start) & (Activity.occurred_at < end)
    reached = set(session.scalars(select(Activity.customer_id).where(today, Activity.outcome == Outcome.REACHED)))
    tried = set(
        session.scalars(
            select(Activity.customer_id)
            .where(today, Activity.kind.in_([ActivityKind.CALL, ActivityKind.VOICEMAIL]))
            .group_by(Activity.customer_id)
            .having(func.count(Activity.id) >= 3)
        )
    )
    return reached, tried
