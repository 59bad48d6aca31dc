"""Credit memos and write-offs between approval and the ERP: what is set aside from collection.

An approved credit memo or write-off leaves collection at once, but the ledger only learns of it
by import. Until an import shows it (:func:`adjustment_shown`), the call list, ``status`` and the
approval limits take it off; once shown, the imported items carry it and it counts once. A
credit that settles an upheld dispute is already set aside by that dispute, so it is not taken
off twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from commands.disputes import credit_lines_landed
from storage.models import (
    AdjustmentStatus,
    AdjustmentTask,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Invoice,
    Payment,
)

ZERO = Decimal("0.00")
STILL_BOOKING = (AdjustmentStatus.OPEN, AdjustmentStatus.DONE)


def adjustment_shown() -> ColumnElement[bool]:
    """An import shows the credit memo or write-off itself, not a payment.

    The rule (domain: an open item is an invoice *or a credit memo, negative*; a fall in an
    item's balance is money received, which is how the import books every fall,
    :mod:`storage.aging.payments`): the adjustment is shown when **credit lines** of the customer
    that are new since the approval (credit memos, adjustments: negative open items) add up to
    its amount. An invoice or an account whose balance fell by the amount is *not* enough while
    the task is open: an aging export shows a payment exactly so, and a customer who pays must
    not close finance's task. Once finance has said the adjustment is booked (Done), a fall of
    the invoice (credit memo) or the account (write-off) by the amount beyond the confirmed
    money the ERP took in since the approval is taken to be it, for an ERP that applies the
    credit straight to the invoice and never lists it."""
    line = credit_lines_landed(
        AdjustmentTask,
        customer_id=AdjustmentTask.customer_id,
        amount=AdjustmentTask.amount,
        last_row=AdjustmentTask.last_invoice_at_approval,
    )
    return or_(line, and_(AdjustmentTask.status == AdjustmentStatus.DONE, _fell_beyond_money()))


def _fell_beyond_money() -> ColumnElement[bool]:
    """The task's invoice (credit memo) or account (write-off) is lower than at approval by
    its amount plus the money finance confirmed since and the ERP now shows."""
    item = aliased(Invoice)
    open_now = case((item.closed_on.is_not(None), 0), else_=item.open_balance)
    invoice_open = (
        select(func.coalesce(func.sum(open_now), 0))
        .where(
            item.customer_id == AdjustmentTask.customer_id,
            or_(
                and_(AdjustmentTask.invoice_id.is_not(None), item.id == AdjustmentTask.invoice_id),
                and_(AdjustmentTask.invoice_id.is_(None), item.closed_on.is_(None)),
            ),
        )
        .correlate(AdjustmentTask)
        .scalar_subquery()
    )
    paid_since = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(
            Payment.customer_id == AdjustmentTask.customer_id,
            Payment.source == "finance",
            Payment.batch_id.is_not(None),
            Payment.created_at >= AdjustmentTask.created_at,
        )
        .correlate(AdjustmentTask)
        .scalar_subquery()
    )
    return invoice_open <= AdjustmentTask.open_at_approval - AdjustmentTask.amount - paid_since


def set_aside_adjustments() -> ColumnElement[bool]:
    """Tasks whose amount is out of collection now: approved, not declined by finance, not yet
    shown by an import, and not already set aside by the dispute they settle."""
    return and_(AdjustmentTask.status.in_(STILL_BOOKING), AdjustmentTask.dispute_id.is_(None), ~adjustment_shown())


def approved_not_shown(session: Session, customer_id: int) -> Decimal:
    """Credits and write-offs approved on the account (including those settling a dispute), not
    declined by finance and not yet shown by an import: money the customer no longer owes,
    though the imported balance still carries it."""
    total = session.scalar(
        select(func.coalesce(func.sum(AdjustmentTask.amount), 0)).where(
            AdjustmentTask.customer_id == customer_id,
            AdjustmentTask.status.in_(STILL_BOOKING),
            ~adjustment_shown(),
        )
    )
    return Decimal(total or 0).quantize(ZERO)


def approved_against_past_due(session: Session, customer_id: int, *, as_of: date) -> Decimal:
    """The part of :func:`approved_not_shown` that lowers what is past due on ``as_of``: every
    write-off (it is on the account, and what cannot be collected is the oldest money) and each
    credit on an invoice already due. A credit on an invoice not yet due lowers only what is
    current, so a hold or a clearance is not let through on it."""
    due = (
        select(Invoice.due_date)
        .where(Invoice.id == AdjustmentTask.invoice_id)
        .correlate(AdjustmentTask)
        .scalar_subquery()
    )
    total = session.scalar(
        select(func.coalesce(func.sum(AdjustmentTask.amount), 0)).where(
            AdjustmentTask.customer_id == customer_id,
            AdjustmentTask.status.in_(STILL_BOOKING),
            ~adjustment_shown(),
            or_(AdjustmentTask.invoice_id.is_(None), due < as_of),
        )
    )
    return Decimal(total or 0).quantize(ZERO)


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
