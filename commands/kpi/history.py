"""What each import keeps of the receivables it left, so the KPI report reads any past day from
a few thousand rows instead of rolling a million items back.

An import writes, in its own transaction, the open balances the ledger holds once it is applied,
summed by collector and due date (``receivable_rollups``): that is the snapshot exactly, whatever
the import changed, and it names who held each customer that day, so a collector's figures for a
past month follow the assignment of that month. Batches imported before the rollups existed have
none; :mod:`commands.kpi.receivables` rolls those back from the ledger as before.

Credit sales by issue day need no history (an invoice's original amount and date do not change
with time), only a short read: each import rewrites ``sales_days`` from the invoices it leaves,
so the report sums a few thousand rows instead of every invoice ever imported. A collector's
sales are those of the customers they hold at the latest import."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from storage.models import Customer, ImportBatch, Invoice, InvoiceKind, ReceivableRollup, SalesDay

ZERO = Decimal("0.00")
CREDITS = (InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT)


def keep_receivables(session: Session, batch: ImportBatch) -> None:
    """Record the open balances the ledger holds now as ``batch``'s snapshot. Each total is one
    aggregate over the ledger, read and then written (a few thousand rows): PostgreSQL runs an
    ``INSERT … SELECT`` on one core but a plain ``SELECT`` with parallel workers, which halves
    the time of a million-invoice import's rollups."""
    balance = func.sum(Invoice.open_balance)
    totals = (
        select(Customer.collector_id, Invoice.due_date, balance)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.closed_on.is_(None))
        .group_by(Customer.collector_id, Invoice.due_date)
        .having(balance != 0)
    )
    _insert_rows(
        session,
        ReceivableRollup,
        [
            {"batch_id": batch.id, "collector_id": collector_id, "due_date": due_date, "balance": total}
            for collector_id, due_date, total in session.execute(totals)
        ],
    )
    batch.rollup_kept = True
    _keep_sales(session)


def _keep_sales(session: Session) -> None:
    """Rewrite ``sales_days`` from every invoice the ledger holds: dated ones by issue day,
    undated ones by due date (the reader shifts those by the assumed terms)."""
    session.execute(delete(SalesDay))
    for undated, day in ((False, Invoice.issue_date), (True, Invoice.due_date)):
        dated = Invoice.issue_date.is_(None) if undated else Invoice.issue_date.is_not(None)
        totals = (
            select(day, Customer.collector_id, func.sum(Invoice.amount))
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.kind.not_in(CREDITS), dated)
            .group_by(day, Customer.collector_id)
        )
        _insert_rows(
            session,
            SalesDay,
            [
                {"day": when, "undated": undated, "collector_id": collector_id, "amount": total}
                for when, collector_id, total in session.execute(totals)
            ],
        )


def _insert_rows(
    session: Session, model: type[ReceivableRollup] | type[SalesDay], rows: list[dict[str, object]]
) -> None:
    if rows:
        session.execute(insert(model), rows)


def sales_kept(session: Session) -> bool:
    """The latest import kept the sales (every import since ``sales_days`` exists does)."""
    return bool(session.scalar(select(ImportBatch.rollup_kept).order_by(ImportBatch.id.desc()).limit(1)))


def kept_receivables(session: Session, batch_id: int, *, collector_id: int | None = None) -> dict[date, Decimal] | None:
    """The balances ``batch_id`` left, by due date, for the team or one collector; None when
    the batch kept none (imported before rollups existed)."""
    if not session.scalar(select(ImportBatch.rollup_kept).where(ImportBatch.id == batch_id)):
        return None
    stmt = (
        select(ReceivableRollup.due_date, func.sum(ReceivableRollup.balance))
        .where(ReceivableRollup.batch_id == batch_id)
        .group_by(ReceivableRollup.due_date)
    )
    if collector_id is not None:
        stmt = stmt.where(ReceivableRollup.collector_id == collector_id)
    by_due: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for due, total in session.execute(stmt):
        by_due[due] += Decimal(total)
    return {due: total for due, total in by_due.items() if total}
