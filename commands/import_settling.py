"""What the payments an import saw do to promises and plan instalments: a payment settles the
customer's open promises and instalments, a reversal takes back what earlier import payments
settled, and promises past their deadline that no payment covered break."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.import_money import settle_recording, unsettle
from commands.promise_checks import break_overdue_promises
from storage.aging import SnapshotChanges
from storage.models import ImportBatch, Payment, PaymentPlan, PlanStatus, Promise, PromiseStatus


def settle_imported(
    ctx: AppContext, session: Session, batch: ImportBatch, changes: SnapshotChanges, actor: str
) -> tuple[int, int, int]:
    """Settle and unsettle by this batch's payments, then break what is overdue. Returns
    (kept, broken, reopened) promise counts. Only payments of customers with an open promise or
    an active plan, and reversals, are read back: the rest settle nothing."""
    now, grace = ctx.clock.now(), ctx.team.workflow.timers.promise_grace_days
    settled: list[Promise] = []
    reopened: list[Promise] = []
    if len(changes.payments):
        promised = select(Promise.customer_id).where(Promise.status == PromiseStatus.OPEN)
        planned = select(PaymentPlan.customer_id).where(PaymentPlan.status == PlanStatus.ACTIVE)
        reversals = [int(c) for c in changes.payments.loc[changes.payments["cents"] < 0, "customer_id"]]
        payments = session.scalars(
            select(Payment)
            .where(
                Payment.id >= int(changes.payments["id"].min()),
                Payment.batch_id == batch.id,
                Payment.customer_id.in_(promised.union(planned)) | Payment.customer_id.in_(reversals),
            )
            .order_by(Payment.id)
        ).all()
        for payment in payments:
            if payment.amount < 0:
                reopened += unsettle(session, reversal=payment, at=now, actor=actor)
            else:
                settled += settle_recording(
                    session,
                    payment=payment,
                    at=now,
                    actor=actor,
                    grace_days=grace,
                    calendar=ctx.calendar,
                    tz=ctx.team.timezone,
                )
    broken = break_overdue_promises(
        session, calendar=ctx.calendar, today=batch.as_of, grace_days=grace, at=now, actor=actor
    )
    kept = sum(promise.status == PromiseStatus.KEPT for promise in settled)
    late = sum(promise.status == PromiseStatus.BROKEN for promise in settled)
    return kept, late + len(broken), len({p.id for p in reopened})
