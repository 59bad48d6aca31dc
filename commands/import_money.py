"""Promises and plan instalments against the money an import sees, both ways.

A payment an import inferred settles like any payment (commands.settlement), and what it settled is
written down in a ``payment.applied`` event (promise and instalment ids with cents), because an
inferred payment can be taken back: when the invoice whose disappearance it was comes back, the
import records a negative payment, and :func:`unsettle` takes that much back out of what import
payments settled, newest first, so promises return to open with ``paid_amount`` reduced and
instalments likewise. Finance-confirmed payments never write ``payment.applied`` and are never
taken back by an import.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.calendar import BusinessCalendar
from commands.settlement import settle_payment
from storage.audit import record
from storage.models import AuditEvent, Payment, PaymentPlan, PlanInstalment, PlanStatus, Promise, PromiseStatus
from storage.types import from_cents, to_cents

PAID = "paid"


def settle_recording(
    session: Session,
    *,
    payment: Payment,
    at: datetime,
    actor: str,
    grace_days: int,
    calendar: BusinessCalendar,
    tz: tzinfo = UTC,
) -> list[Promise]:
    """:func:`settle_payment`, then a ``payment.applied`` event naming what it paid into."""
    before = _paid_amounts(session, payment.customer_id)
    changed = settle_payment(
        session, payment=payment, at=at, actor=actor, grace_days=grace_days, calendar=calendar, tz=tz
    )
    after = _paid_amounts(session, payment.customer_id)
    applied = {
        kind: {
            str(i): to_cents(after[kind][i] - before[kind].get(i, Decimal(0)))
            for i in after[kind]
            if after[kind][i] != before[kind].get(i, Decimal(0))
        }
        for kind in after
    }
    if any(applied.values()):
        record(
            session,
            at=at,
            actor=actor,
            action="payment.applied",
            entity_type="payment",
            entity_id=payment.id,
            customer_id=payment.customer_id,
            **applied,
        )
    return changed


def unsettle(session: Session, *, reversal: Payment, at: datetime, actor: str) -> list[Promise]:
    """Take ``-reversal.amount`` back out of what earlier import payments of the customer
    settled, newest payment first, promises before instalments (the reverse of how money is
    applied). Returns the promises changed."""
    left = to_cents(-reversal.amount)
    changed: list[Promise] = []
    for payment_id, kind, item_id, cents in _still_applied(session, reversal.customer_id):
        if left <= 0:
            break
        take = min(cents, left)
        left -= take
        if kind == "promises":
            changed.append(
                _reopen_promise(
                    session, item_id, take, at=at, actor=actor, payment_id=payment_id, reversal_id=reversal.id
                )
            )
        else:
            _reopen_instalment(
                session, item_id, take, at=at, actor=actor, payment_id=payment_id, reversal_id=reversal.id
            )
        record(
            session,
            at=at,
            actor=actor,
            action="payment.unapplied",
            entity_type="payment",
            entity_id=payment_id,
            customer_id=reversal.customer_id,
            reversal_id=reversal.id,
            **{kind: {str(item_id): take}},
        )
    return changed


def _paid_amounts(session: Session, customer_id: int) -> dict[str, dict[int, Decimal]]:
    promises = session.execute(select(Promise.id, Promise.paid_amount).where(Promise.customer_id == customer_id))
    instalments = session.execute(
        select(PlanInstalment.id, PlanInstalment.paid_amount)
        .join(PaymentPlan, PaymentPlan.id == PlanInstalment.plan_id)
        .where(PaymentPlan.customer_id == customer_id)
    )
    return {"promises": {i: v for i, v in promises}, "instalments": {i: v for i, v in instalments}}


def _still_applied(session: Session, customer_id: int) -> list[tuple[int, str, int, int]]:
    """(payment id, "promises"|"instalments", item id, cents) still applied, newest payment first
    and within one payment promises first."""
    events = session.execute(
        select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.data).where(
            AuditEvent.entity_type == "payment",
            AuditEvent.customer_id == customer_id,
            AuditEvent.action.in_(("payment.applied", "payment.unapplied")),
        )
    )
    left: dict[tuple[int, str, int], int] = {}
    for payment_id, action, data in events:
        sign = 1 if action == "payment.applied" else -1
        for kind in ("promises", "instalments"):
            for item_id, cents in (data.get(kind) or {}).items():
                key = (payment_id, kind, int(item_id))
                left[key] = left.get(key, 0) + sign * int(cents)
    ordered = sorted(
        ((p, k, i, c) for (p, k, i), c in left.items() if c > 0),
        key=lambda row: (-row[0], row[1] != "promises", -row[2]),
    )
    return ordered


def _reopen_promise(session: Session, promise_id: int, cents: int, *, at: datetime, actor: str, **data: int) -> Promise:
    promise = session.get_one(Promise, promise_id)
    promise.paid_amount -= from_cents(cents)
    if promise.status in (PromiseStatus.KEPT, PromiseStatus.BROKEN) and promise.paid_amount < promise.amount:
        promise.status, promise.settled_on = PromiseStatus.OPEN, None
    record(
        session,
        at=at,
        actor=actor,
        action="promise.unsettled",
        entity_type="promise",
        entity_id=promise.id,
        customer_id=promise.customer_id,
        amount=promise.amount,
        paid_amount=promise.paid_amount,
        taken_back=from_cents(cents),
        status=promise.status.value,
        **data,
    )
    return promise


def _reopen_instalment(
    session: Session, instalment_id: int, cents: int, *, at: datetime, actor: str, **data: int
) -> None:
    instalment = session.get_one(PlanInstalment, instalment_id)
    instalment.paid_amount -= from_cents(cents)
    if instalment.status == PAID and instalment.paid_amount < instalment.amount:
        instalment.status = "due"
    plan = instalment.plan
    record(
        session,
        at=at,
        actor=actor,
        action="instalment.unpaid",
        entity_type="plan_instalment",
        entity_id=instalment.id,
        customer_id=plan.customer_id,
        plan_id=plan.id,
        paid_amount=instalment.paid_amount,
        taken_back=from_cents(cents),
        **data,
    )
    if plan.status == PlanStatus.COMPLETED:
        plan.status = PlanStatus.ACTIVE
        record(
            session,
            at=at,
            actor=actor,
            action="plan.reactivated",
            entity_type="payment_plan",
            entity_id=plan.id,
            customer_id=plan.customer_id,
            **data,
        )
