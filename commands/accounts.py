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
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands import account_reads
from commands.account_reads import ADJUSTMENT, CONTACT, DISPUTE, HOLD, PROMISE
from commands.snapshots import awaiting_erp
from storage.models import (
    ActivityKind,
    ApprovalKind,
    Customer,
    Invoice,
    Outcome,
    Payment,
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
class PromiseLine:
    amount: Decimal
    promised_date: date
    paid_amount: Decimal
    note: str | None


@dataclass(frozen=True)
class HoldLine:
    placed_at: datetime
    reason: str
    kind: str


@dataclass(frozen=True)
class DisputeLine:
    amount: Decimal
    opened_at: datetime
    reason: str


@dataclass(frozen=True)
class AdjustmentLine:
    """A credit or write-off approved and set aside, not yet shown by an import."""

    kind: ApprovalKind
    amount: Decimal


@dataclass(frozen=True)
class RetainerFigures:
    """What the retainer's standing is computed from (commands.retainers.standing_of)."""

    required: Decimal
    billed: Decimal  # amounts of its retainer invoices
    still_open: Decimal  # what those invoices have open
    confirmed: Decimal  # money finance confirmed that no import shows yet


@dataclass(frozen=True)
class AccountSummary:
    customer: Customer
    aging: Aging
    open_promises: tuple[PromiseLine, ...]
    recent_contacts: tuple[ContactLine, ...]
    active_holds: tuple[HoldLine, ...]
    open_disputes: tuple[DisputeLine, ...]
    confirmed_unapplied: Decimal = ZERO  # paid, confirmed by finance, not yet in an imported snapshot
    adjustments: tuple[AdjustmentLine, ...] = ()  # credits and write-offs approved, not yet imported
    collector: str | None = None  # the collector's name; None when unassigned
    retainer: RetainerFigures | None = None  # None when no retainer is required
    in_suspension: bool = True  # in the suspension sequence (True: look it up)

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
    total = session.scalar(account_reads.balance(), {"customer_id": customer_id})
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


def account_summary(session: Session, customer: Customer, *, as_of: date) -> AccountSummary:
    """The whole card in two statements (commands.account_reads): one row of figures, one
    UNION ALL of the short lists, each section sorted here as the card shows it."""
    head = account_reads.figures(session, customer.id, customer.collector_id, as_of=as_of)
    rows = account_reads.lists(session, customer.id)
    section = _sections(rows)
    return AccountSummary(
        customer=customer,
        aging=Aging(*(_zero(head._mapping[name]) for name in account_reads.BUCKETS)),
        open_promises=tuple(
            PromiseLine(r.amount, r.day, r.paid, r.note) for r in sorted(section[PROMISE], key=lambda r: (r.day, r.n))
        ),
        recent_contacts=tuple(
            ContactLine(r.at, ActivityKind(r.kind), Outcome(r.outcome), r.text, r.note, r.by)
            for r in sorted(section[CONTACT], key=lambda r: (r.at, r.n), reverse=True)
        ),
        active_holds=tuple(HoldLine(r.at, r.note, r.kind) for r in sorted(section[HOLD], key=lambda r: (r.at, r.n))),
        open_disputes=tuple(
            DisputeLine(r.amount, r.at, r.note) for r in sorted(section[DISPUTE], key=lambda r: (r.at, r.n))
        ),
        confirmed_unapplied=_zero(head.confirmed),
        adjustments=tuple(
            AdjustmentLine(ApprovalKind(r.kind), r.amount) for r in sorted(section[ADJUSTMENT], key=lambda r: r.n)
        ),
        collector=head.collector,
        retainer=RetainerFigures(
            required=_zero(head.required),
            billed=_zero(head.retainer_billed),
            still_open=_zero(head.retainer_open),
            confirmed=_zero(head.confirmed),
        )
        if head.retainers
        else None,
        in_suspension=bool(head.in_suspension),
    )


def _sections(rows: Iterable[Any]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {n: [] for n in (PROMISE, HOLD, DISPUTE, ADJUSTMENT, CONTACT)}
    for row in rows:
        found[row.section].append(row)
    return found


def _zero(value: Decimal | None) -> Decimal:
    """A sum over no rows is NULL in SQL; on the card it is zero."""
    return ZERO if value is None else value
