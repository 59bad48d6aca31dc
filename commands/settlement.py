"""Settling promises to pay against money that arrived.

A promise is kept when payments covering it arrive by its promised date plus a grace of business
days; broken otherwise. Payments seen at an import and payments finance confirms both go through
:func:`settle_payment`, so the rule lives in one place.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.calendar import BusinessCalendar
from commands.plan_checks import apply_payment_to_instalments
from storage.audit import record
from storage.models import Payment, Promise, PromiseStatus


def promise_deadline(promise: Promise, *, calendar: BusinessCalendar, grace_days: int = 1) -> date:
    """Last day a payment still keeps the promise: the promised date plus the grace business days."""
    return calendar.add_business_days(promise.promised_date, grace_days)


def settle_payment(
    session: Session,
    *,
    payment: Payment,
    at: datetime,
    actor: str,
    grace_days: int = 1,
    calendar: BusinessCalendar,
    tz: tzinfo = UTC,
) -> list[Promise]:
    """Money that arrived pays the instalments of an active payment plan first (a plan replaces
    the promises it was agreed instead of), then open promises. Returns the promises changed."""
    left = apply_payment_to_instalments(
        session, customer_id=payment.customer_id, amount=payment.amount, at=at, actor=actor
    )
    return apply_payment_to_promises(
        session, payment=payment, amount=left, at=at, actor=actor, grace_days=grace_days, calendar=calendar, tz=tz
    )


def apply_payment_to_promises(
    session: Session,
    *,
    payment: Payment,
    at: datetime,
    actor: str,
    amount: Decimal | None = None,
    grace_days: int = 1,
    calendar: BusinessCalendar,
    tz: tzinfo = UTC,
) -> list[Promise]:
    """Allocate ``payment`` (or the part of it given as ``amount``) to the customer's open promises,
    earliest promised date first (the one falling due first is the one the customer was paying).
    A fully covered promise becomes KEPT when the payment arrived by its deadline, BROKEN when it
    came too late; a partly covered one stays open with its ``paid_amount`` raised. One audit event per promise changed.

    Money paid before a promise was made (team-local day, ``tz``) was not paid because of it
    and does not count towards it."""
    promises = session.scalars(
        select(Promise)
        .where(Promise.customer_id == payment.customer_id, Promise.status == PromiseStatus.OPEN)
        .order_by(Promise.promised_date, Promise.created_at, Promise.id)
    ).all()
    remaining = payment.amount if amount is None else amount
    changed: list[Promise] = []
    for promise in promises:
        if remaining <= 0:
            break
        if payment.received_on < promise.created_at.astimezone(tz).date():
            continue
        applied = min(promise.amount - promise.paid_amount, remaining)
        if applied <= 0:
            continue
        remaining -= applied
        promise.paid_amount += applied
        if promise.paid_amount >= promise.amount:
            deadline = promise_deadline(promise, calendar=calendar, grace_days=grace_days)
            on_time = payment.received_on <= deadline
            promise.status = PromiseStatus.KEPT if on_time else PromiseStatus.BROKEN
            promise.settled_on = payment.received_on
        _audit(session, promise, at=at, actor=actor, payment_id=payment.id, applied=applied)
        changed.append(promise)
    return changed


def _audit(session: Session, promise: Promise, *, at: datetime, actor: str, **data: object) -> None:
    action = {PromiseStatus.KEPT: "promise.kept", PromiseStatus.BROKEN: "promise.broken"}.get(
        promise.status, "promise.part_paid"
    )
    record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity_type="promise",
        entity_id=promise.id,
        customer_id=promise.customer_id,
        amount=promise.amount,
        paid_amount=promise.paid_amount,
        promised_date=promise.promised_date,
        **data,
    )
