"""One customer's account as collectors and approvers see it: balance, aging buckets, open
promises, recent contacts, active holds, open disputes, and credits and write-offs approved but
not yet in the ledger.

Shared by ``status`` and by anything that shows an account on a card (approvals), so every
place that says "balance" means the same number: open items net of credits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.snapshots import awaiting_erp
from commands.workflows.adjustment_ledger import awaiting_adjustments
from storage.models import (
    Activity,
    ActivityKind,
    AdjustmentTask,
    Customer,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Invoice,
    Outcome,
    Payment,
    Promise,
    PromiseStatus,
    TeamMember,
)

ZERO = Decimal("0.00")
BUCKET_LABELS = ("current", "1-30", "31-60", "61-90", "90+")


@dataclass(frozen=True)
class Aging:
    """Open balance by days past due on ``as_of``; credits sit in the bucket of their due date."""

    current: Decimal = ZERO
    days_1_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    over_90: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.current + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90

    def buckets(self) -> tuple[tuple[str, Decimal], ...]:
        values = (self.current, self.days_1_30, self.days_31_60, self.days_61_90, self.over_90)
        return tuple(zip(BUCKET_LABELS, values, strict=True))


@dataclass(frozen=True)
class ContactLine:
    occurred_at: datetime
    kind: ActivityKind
    outcome: Outcome
    contact_name: str | None
    note: str | None
    by: str | None  # the team member's name


@dataclass(frozen=True)
class AccountSummary:
    customer: Customer
    aging: Aging
    open_promises: tuple[Promise, ...]
    recent_contacts: tuple[ContactLine, ...]
    active_holds: tuple[Hold, ...]
    open_disputes: tuple[Dispute, ...]
    confirmed_unapplied: Decimal = ZERO  # paid, confirmed by finance, not yet in an imported snapshot
    adjustments: tuple[AdjustmentTask, ...] = ()  # credits and write-offs approved, not yet imported

    @property
    def balance(self) -> Decimal:
        return self.aging.total


def confirmed_unapplied(session: Session, customer_id: int) -> Decimal:
    """Money finance confirmed that no import has shown yet (:func:`commands.snapshots.awaiting_erp`,
    which holds through exports that lag): paid, though the imported open items still carry it."""
    total = session.scalar(select(func.sum(Payment.amount)).where(Payment.customer_id == customer_id, awaiting_erp()))
    return total if total is not None else ZERO


def account_balance(session: Session, customer_id: int) -> Decimal:
    """Net open balance: open invoices minus credit memos and unapplied payments."""
    total = session.scalar(
        select(func.coalesce(func.sum(Invoice.open_balance), 0)).where(
            Invoice.customer_id == customer_id, Invoice.closed_on.is_(None)
        )
    )
    return Decimal(total or 0).quantize(ZERO)


def aging(session: Session, customer_id: int, *, as_of: date) -> Aging:
    rows = session.execute(
        select(Invoice.due_date, Invoice.open_balance).where(
            Invoice.customer_id == customer_id, Invoice.closed_on.is_(None)
        )
    )
    return aging_of(((due, amount) for due, amount in rows), as_of=as_of)


def aging_of(items: Iterable[tuple[date, Decimal]], *, as_of: date) -> Aging:
    """Bucket (due date, open amount) pairs: current (not yet past due), 1-30, 31-60, 61-90, 90+."""
    sums = [ZERO] * len(BUCKET_LABELS)
    for due, amount in items:
        sums[_bucket((as_of - due).days)] += amount
    return Aging(*sums)


def _bucket(days_past_due: int) -> int:
    """Index into BUCKET_LABELS."""
    if days_past_due <= 0:
        return 0
    if days_past_due <= 30:
        return 1
    if days_past_due <= 60:
        return 2
    return 3 if days_past_due <= 90 else 4


def recent_contacts(session: Session, customer_id: int, *, limit: int = 5) -> tuple[ContactLine, ...]:
    rows = session.execute(
        select(Activity, TeamMember.name)
        .outerjoin(TeamMember, TeamMember.id == Activity.member_id)
        .where(Activity.customer_id == customer_id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
    )
    return tuple(ContactLine(a.occurred_at, a.kind, a.outcome, a.contact_name, a.note, by) for a, by in rows)


def open_promises(session: Session, customer_id: int) -> tuple[Promise, ...]:
    return tuple(
        session.scalars(
            select(Promise)
            .where(Promise.customer_id == customer_id, Promise.status == PromiseStatus.OPEN)
            .order_by(Promise.promised_date, Promise.id)
        )
    )


def account_summary(session: Session, customer: Customer, *, as_of: date) -> AccountSummary:
    holds = session.scalars(
        select(Hold).where(Hold.customer_id == customer.id, Hold.status == HoldStatus.ACTIVE).order_by(Hold.placed_at)
    )
    disputes = session.scalars(
        select(Dispute)
        .where(Dispute.customer_id == customer.id, Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.opened_at)
    )
    return AccountSummary(
        customer=customer,
        aging=aging(session, customer.id, as_of=as_of),
        open_promises=open_promises(session, customer.id),
        recent_contacts=recent_contacts(session, customer.id),
        active_holds=tuple(holds),
        open_disputes=tuple(disputes),
        confirmed_unapplied=confirmed_unapplied(session, customer.id),
        adjustments=awaiting_adjustments(session, customer.id),
    )
