"""The audit trail an import leaves, in its own transaction: the batch event with its counts and
content digest (which later imports compare with, commands.import_refusals), one event per
customer the file changed and one per payment seen or reversed, naming the invoices it was for
(the history later reversals are capped by, storage.aging.payments)."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.import_report import ImportResult
from storage.aging import SnapshotChanges
from storage.audit import record
from storage.models import AuditEvent, ImportBatch
from storage.types import from_cents


def audit_import(
    ctx: AppContext,
    session: Session,
    batch: ImportBatch,
    changes: SnapshotChanges,
    result: ImportResult,
    actor: str,
    content: str,
) -> None:
    """Every event of one import. Many events go in as one multi-row insert."""
    now = ctx.clock.now()
    events = [
        dict(
            at=now,
            actor=actor,
            action="customer_updated",
            entity_type="customer",
            entity_id=change["customer_id"],
            customer_id=change["customer_id"],
            data={**{k: v for k, v in change.items() if k != "customer_id"}, "batch_id": batch.id},
        )
        for change in changes.customer_changes
    ]
    payments = changes.payments
    events += [
        dict(
            at=now,
            actor=actor,
            action="payment_seen" if cents > 0 else "payment_reversed",
            entity_type="payment",
            entity_id=int(payment_id),
            customer_id=int(customer_id),
            data={
                "amount": str(from_cents(int(cents))),
                "received_on": batch.as_of.isoformat(),
                "batch_id": batch.id,
                "invoices": changes.paid_invoices.get(int(customer_id), {}),
            },
        )
        for payment_id, customer_id, cents in zip(
            payments["id"].tolist(), payments["customer_id"].tolist(), payments["cents"].tolist(), strict=True
        )
    ]
    if events:
        session.execute(insert(AuditEvent), events)
    record(
        session,
        at=now,
        actor=actor,
        action="import",
        entity_type="import_batch",
        entity_id=batch.id,
        file=batch.file_name,
        layout=batch.layout,
        as_of=batch.as_of,
        rows=batch.rows,
        skipped=batch.skipped,
        customers=result.customers,
        customers_created=result.customers_created,
        customers_updated=result.customers_updated,
        inserted=batch.inserted,
        updated=batch.updated,
        closed=batch.closed,
        payments=result.payments,
        payments_total=result.payments_total,
        promises_kept=result.promises_kept,
        promises_broken=result.promises_broken,
        open_total=result.open_total,
        reopened=result.reopened,
        reversed_total=result.reversed_total,
        promises_reopened=result.promises_reopened,
        confirmed_in_erp=result.confirmed_in_erp,
        content=content,
    )
