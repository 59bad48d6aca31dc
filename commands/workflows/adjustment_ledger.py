"""Credit memos and write-offs between approval and the ERP: what is set aside from collection.

An approved credit memo or write-off leaves collection at once, but the ledger only learns of it
by import. Until an import shows it (:func:`adjustment_shown`, the same test as for a dispute
settled for the customer, :func:`commands.disputes.credit_landed`), the call list, ``status`` and
the approval limits take it off; once shown, the imported items carry it and it counts once.
A credit that settles an upheld dispute is already set aside by that dispute, so it is not taken
off twice."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from commands.disputes import credit_landed
from storage.models import (
    AdjustmentStatus,
    AdjustmentTask,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Invoice,
)

ZERO = Decimal("0.00")
STILL_BOOKING = (AdjustmentStatus.OPEN, AdjustmentStatus.DONE)


def adjustment_shown() -> ColumnElement[bool]:
    """An import shows the task's credit memo (its invoice closed or fell by the amount, or new
    credit memos of the customer add up to it) or, for a write-off, the account's open balance
    fell by the amount since the approval."""
    landed = credit_landed(
        AdjustmentTask,
        customer_id=AdjustmentTask.customer_id,
        invoice_id=AdjustmentTask.invoice_id,
        amount=AdjustmentTask.amount,
        open_then=AdjustmentTask.open_at_approval,
        last_row=AdjustmentTask.last_invoice_at_approval,
    )
    item = aliased(Invoice)
    account_open = (
        select(func.coalesce(func.sum(item.open_balance), 0))
        .where(item.customer_id == AdjustmentTask.customer_id, item.closed_on.is_(None))
        .correlate(AdjustmentTask)
        .scalar_subquery()
    )
    account_fell = and_(
        AdjustmentTask.invoice_id.is_(None), account_open <= AdjustmentTask.open_at_approval - AdjustmentTask.amount
    )
    return or_(landed, account_fell)


def set_aside_adjustments() -> ColumnElement[bool]:
    """Tasks whose amount is out of collection now: approved, not declined by finance, not yet
    shown by an import, and not already set aside by the dispute they settle."""
    return and_(AdjustmentTask.status.in_(STILL_BOOKING), AdjustmentTask.dispute_id.is_(None), ~adjustment_shown())


def awaiting_adjustments(session: Session, customer_id: int) -> tuple[AdjustmentTask, ...]:
    """The account's credits and write-offs approved and set aside, oldest first."""
    return tuple(
        session.scalars(
            select(AdjustmentTask)
            .where(AdjustmentTask.customer_id == customer_id, set_aside_adjustments())
            .order_by(AdjustmentTask.id)
        )
    )


def already_asked(session: Session, *, customer_id: int, invoice_id: int | None = None) -> Decimal:
    """Credits and write-offs on the account (or on one invoice) waiting for a decision or
    approved and not yet shown: what a new request cannot ask for again."""
    waiting = select(func.coalesce(func.sum(ApprovalRequest.amount), 0)).where(
        ApprovalRequest.customer_id == customer_id,
        ApprovalRequest.status == ApprovalStatus.PENDING,
        ApprovalRequest.kind.in_([ApprovalKind.CREDIT, ApprovalKind.WRITEOFF]),
    )
    approved = select(func.coalesce(func.sum(AdjustmentTask.amount), 0)).where(
        AdjustmentTask.customer_id == customer_id, set_aside_adjustments()
    )
    if invoice_id is not None:
        waiting = waiting.where(ApprovalRequest.details["invoice_id"].as_integer() == invoice_id)
        approved = approved.where(AdjustmentTask.invoice_id == invoice_id)
    return (Decimal(session.scalar(waiting) or 0) + Decimal(session.scalar(approved) or 0)).quantize(ZERO)
