"""Receivables on a past day, as the ledger knew them: the latest snapshot on or before the day.

The ledger keeps each open item's *current* state only (an import updates balances in place and
closes what a snapshot no longer lists), so the state at an earlier snapshot is rolled back from
today's rows with what imports do record:

* an item no import has touched since that snapshot (``last_batch_id`` at or before it) is
  exactly as it was then: open at its balance, or closed by then;
* an item touched since (paid down, closed, inserted) existed then if it was issued by the
  snapshot date; a credit memo closed since had its original amount; an invoice had its balance
  today plus the money the imports since saw the customer pay, applied oldest due date first
  (undoing cash application), never above the invoice's original amount.

That is exact for every item untouched since the snapshot, and for touched ones whenever the
customer's payments since went to items that existed at the snapshot, credit memos were applied
whole, and no balance went up. A ledger built without imports (the demo) is rolled back the same
way from each item's ``closed_on`` and the payments received after the day.

An item without an issue date is taken as issued 30 days before it falls due (net 30).

Batches that kept their receivables (:mod:`commands.kpi.history`, every import since the
rollups exist) are read from what they kept instead: exact, and one small query.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from commands.kpi.history import kept_receivables
from storage.models import Customer, ImportBatch, Invoice, InvoiceKind, Payment

ZERO = Decimal("0.00")
ASSUMED_TERMS = timedelta(days=30)  # an item without an issue date was issued this long before its due date
CREDITS = (InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT)


@dataclass(frozen=True)
class Snapshot:
    """The import whose picture of the ledger holds on a day; ``batch_id`` None when the ledger
    was not built by imports (then the day itself is the picture's date)."""

    batch_id: int | None
    as_of: date


@dataclass(frozen=True)
class Receivables:
    """Open balances on ``day`` (as of ``snapshot``) summed by due date; credits are negative."""

    day: date
    snapshot: Snapshot | None
    by_due: dict[date, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.by_due.values(), ZERO)

    def current(self, on: date) -> Decimal:
        """Not yet past due on ``on``: due that day or later."""
        return sum((v for due, v in self.by_due.items() if due >= on), ZERO)

    def past_due_over(self, on: date, days: int) -> Decimal:
        """More than ``days`` days past due on ``on``."""
        return sum((v for due, v in self.by_due.items() if (on - due).days > days), ZERO)


def issued_by(day: date) -> ColumnElement[bool]:
    """The item was issued on or before ``day`` (by its issue date, else due date less 30 days)."""
    return or_(Invoice.issue_date <= day, and_(Invoice.issue_date.is_(None), Invoice.due_date <= day + ASSUMED_TERMS))


def snapshot_on(session: Session, day: date) -> Snapshot | None:
    """The latest import as of ``day`` or before; a ledger without imports is its own picture
    of every day; None when imports exist but none is that old (the ledger knew nothing yet)."""
    row = session.execute(
        select(ImportBatch.id, ImportBatch.as_of)
        .where(ImportBatch.as_of <= day)
        .order_by(ImportBatch.as_of.desc(), ImportBatch.id.desc())
        .limit(1)
    ).first()
    if row is not None:
        return Snapshot(batch_id=row[0], as_of=row[1])
    if session.scalar(select(ImportBatch.id).limit(1)) is None:
        return Snapshot(batch_id=None, as_of=day)
    return None


def receivables_on(session: Session, day: date, *, collector_id: int | None = None) -> Receivables:
    """Receivables at the close of ``day`` for the team, or for one collector's customers."""
    snap = snapshot_on(session, day)
    if snap is None:
        return Receivables(day=day, snapshot=None)
    if snap.batch_id is not None:
        kept = kept_receivables(session, snap.batch_id, collector_id=collector_id)
        if kept is not None:
            return Receivables(day=day, snapshot=snap, by_due=kept)
    by_due: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for due, balance in _untouched(session, snap, collector_id):
        by_due[due] += balance
    for due, balance in _rolled_back(session, snap, collector_id):
        by_due[due] += balance
    return Receivables(day=day, snapshot=snap, by_due={d: v for d, v in by_due.items() if v})


def of_collector(stmt, collector_id: int | None):  # type: ignore[no-untyped-def]
    """``stmt`` (over invoices) narrowed to the customers one collector holds now."""
    if collector_id is None:
        return stmt
    return stmt.where(Invoice.customer_id.in_(select(Customer.id).where(Customer.collector_id == collector_id)))


def _untouched(session: Session, snap: Snapshot, collector_id: int | None) -> list[tuple[date, Decimal]]:
    """Open items no import changed after the snapshot, summed in the database by due date."""
    if snap.batch_id is None:
        return []
    stmt = (
        select(Invoice.due_date, func.sum(Invoice.open_balance))
        .where(Invoice.closed_on.is_(None), Invoice.last_batch_id <= snap.batch_id)
        .group_by(Invoice.due_date)
    )
    return [(due, Decimal(total)) for due, total in session.execute(of_collector(stmt, collector_id))]


def _rolled_back(session: Session, snap: Snapshot, collector_id: int | None) -> list[tuple[date, Decimal]]:
    """Items changed since the snapshot, at their balance on it."""
    touched = (
        Invoice.last_batch_id.is_(None)
        if snap.batch_id is None
        else or_(Invoice.last_batch_id.is_(None), Invoice.last_batch_id > snap.batch_id)
    )
    stmt = (
        select(
            Invoice.customer_id,
            Invoice.id,
            Invoice.kind,
            Invoice.due_date,
            Invoice.amount,
            Invoice.open_balance,
            Invoice.closed_on,
        )
        .where(touched, or_(Invoice.closed_on.is_(None), Invoice.closed_on > snap.as_of), issued_by(snap.as_of))
        .order_by(Invoice.customer_id, Invoice.due_date, Invoice.id)
    )
    rows = session.execute(of_collector(stmt, collector_id)).all()
    paid = _paid_since(session, snap, {row.customer_id for row in rows})
    out: list[tuple[date, Decimal]] = []
    for row in rows:
        out.append((row.due_date, _balance_then(row, paid)))
    return out


def _balance_then(row: Row[Any], paid: dict[int, Decimal]) -> Decimal:
    """One touched item's balance at the snapshot; draws on (and reduces) its customer's
    payments since, so rows must come oldest due date first per customer."""
    amount: Decimal = row.amount
    now: Decimal = row.open_balance if row.closed_on is None else ZERO
    if row.kind in CREDITS or amount < 0:
        return now if row.closed_on is None else amount
    undone = min(paid.get(row.customer_id, ZERO), max(amount - now, ZERO))
    if undone:
        paid[row.customer_id] -= undone
    return now + undone


def _paid_since(session: Session, snap: Snapshot, customers: set[int]) -> dict[int, Decimal]:
    """What imports after the snapshot saw each customer pay (drops in open balances)."""
    if not customers:
        return {}
    later = (
        Payment.received_on > snap.as_of
        if snap.batch_id is None
        else or_(Payment.batch_id > snap.batch_id, and_(Payment.batch_id.is_(None), Payment.received_on > snap.as_of))
    )
    stmt = (
        select(Payment.customer_id, func.sum(Payment.amount))
        .where(Payment.source == "import", later)
        .group_by(Payment.customer_id)
    )
    return {cid: Decimal(total) for cid, total in session.execute(stmt) if cid in customers}
