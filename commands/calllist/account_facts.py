"""Per-account facts from the smaller tables: disputes, promises, payment plans, today's
contacts and payment history. Scoring reads counts; the dates that reasons name are read for
the listed accounts only."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, and_, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from commands.calllist.cutoffs import Cutoffs
from commands.calllist.sql import days_between, number_frame, of_collector, scanned_customer, total, typed_frame
from commands.disputes import set_aside
from commands.snapshots import awaiting_erp
from commands.suspension.steps import step_words
from commands.team import Team
from commands.workflows.adjustment_ledger import set_aside_adjustments
from storage.models import (
    Activity,
    ActivityKind,
    AdjustmentTask,
    ApprovalKind,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    Outcome,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
    SuspensionSequence,
)

COUNTS = (
    "disputed",
    "credit_due",
    "credit_approved",
    "written_off",
    "unapplied",
    "plan_ok",
    "reached_today",
    "attempts_today",
    "open_promises",
    "broken_promises",
    "promises_kept",
    "promises_due",
    "suspension_step",
    "suspension_overdue",
)


def account_facts(session: Session, cut: Cutoffs, *, collector_id: int | None) -> list[pd.DataFrame]:
    """Frames indexed by customer id, holding the columns in :data:`COUNTS` between them."""
    return [
        part(session, cut, collector_id)
        for part in (
            _dispute_totals,
            _adjustment_totals,
            _unapplied_payments,
            _promises,
            _plans,
            _contacts_today,
            _suspension_steps,
        )
    ]


def _dispute_totals(session: Session, cut: Cutoffs, collector_id: int | None) -> pd.DataFrame:
    """Disputes set aside, with or without an invoice: what comes off the collectible balance,
    apart as still in dispute and as settled for the customer with the credit not yet imported."""
    cents = type_coerce(Dispute.amount, BigInteger)
    is_open = Dispute.status == DisputeStatus.OPEN
    stmt = (
        select(Dispute.customer_id, total(cents, is_open), total(cents, ~is_open))
        .where(set_aside())
        .group_by(Dispute.customer_id)
    )
    return number_frame(session, of_collector(stmt, Dispute.customer_id, collector_id), ["disputed", "credit_due"])


def _adjustment_totals(session: Session, cut: Cutoffs, collector_id: int | None) -> pd.DataFrame:
    """Credit memos and write-offs approved and not yet shown by an import: off the collectible
    balance, apart from disputes (:mod:`commands.workflows.adjustment_ledger`)."""
    cents = type_coerce(AdjustmentTask.amount, BigInteger)
    is_credit = AdjustmentTask.kind == ApprovalKind.CREDIT
    stmt = (
        select(AdjustmentTask.customer_id, total(cents, is_credit), total(cents, ~is_credit))
        .where(set_aside_adjustments())
        .group_by(AdjustmentTask.customer_id)
    )
    return number_frame(
        session, of_collector(stmt, AdjustmentTask.customer_id, collector_id), ["credit_approved", "written_off"]
    )


def _unapplied_payments(session: Session, cut: Cutoffs, collector_id: int | None) -> pd.DataFrame:
    """Money finance confirmed that no import has shown yet: paid, but not yet off the imported
    open items (:mod:`commands.calllist.confirmed` takes it off them, oldest first)."""
    stmt = (
        select(Payment.customer_id, total(type_coerce(Payment.amount, BigInteger)))
        .where(awaiting_erp())
        .group_by(Payment.customer_id)
    )
    return number_frame(session, of_collector(stmt, Payment.customer_id, collector_id), ["unapplied"])


def _promise_conditions(cut: Cutoffs) -> dict[str, ColumnElement[bool]]:
    """An open promise is broken once its date plus the grace has passed, whether or not the
    nightly job has marked it yet; "came due" is what the kept rate divides by."""
    day, status = Promise.promised_date, Promise.status
    overdue_open = and_(status == PromiseStatus.OPEN, day <= cut.broken_by)
    came_due = or_(status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]), overdue_open)
    return {
        "open_promises": and_(status == PromiseStatus.OPEN, day > cut.broken_by),
        "broken_promises": and_(or_(status == PromiseStatus.BROKEN, overdue_open), day >= cut.broken_since),
        "promises_kept": and_(status == PromiseStatus.KEPT, day >= cut.promises_since),
        "promises_due": and_(came_due, day >= cut.promises_since),
    }


def _promises(session: Session, cut: Cutoffs, collector_id: int | None) -> pd.DataFrame:
    conditions = _promise_conditions(cut)
    since = min(cut.broken_since, cut.promises_since)
    customer = scanned_customer(Promise.customer_id)
    stmt = (
        select(customer, *(func.count().filter(c) for c in conditions.values()))
        .where(Promise.promised_date >= since, Promise.status != PromiseStatus.CANCELLED)
        .group_by(customer)
    )
    return number_frame(session, of_collector(stmt, Promise.customer_id, collector_id), list(conditions))


def promise_dates(session: Session, cut: Cutoffs, customer_ids: Sequence[int]) -> pd.DataFrame:
    """The dates reasons name: the open promise's date and the latest broken one."""
    conditions = _promise_conditions(cut)
    stmt = (
        select(
            Promise.customer_id,
            func.min(Promise.promised_date).filter(conditions["open_promises"]),
            func.max(Promise.promised_date).filter(conditions["broken_promises"]),
        )
        .where(Promise.customer_id.in_(customer_ids))
        .group_by(Promise.customer_id)
    )
    return typed_frame(session, stmt, ["open_promise_date", "broken_promise_date"])


def _plans(session: Session, cut: Cutoffs, collector_id: int | None) -> pd.DataFrame:
    missed = exists().where(PlanInstalment.plan_id == PaymentPlan.id, PlanInstalment.status == "missed")
    stmt = (
        select(PaymentPlan.customer_id, func.count())
        .where(PaymentPlan.status == PlanStatus.ACTIVE, ~missed)
        .group_by(PaymentPlan.customer_id)
    )
    return number_frame(session, of_collector(stmt, PaymentPlan.customer_id, collector_id), ["plan_ok"])


def _contacts_today(session: Session, cut: Cutoffs, collector_id: int | None) -> pd.DataFrame:
    """Today is the list day in the team's timezone."""
    attempt = Activity.kind.in_([ActivityKind.CALL, ActivityKind.VOICEMAIL])
    customer = scanned_customer(Activity.customer_id)
    stmt = (
        select(customer, func.count().filter(Activity.outcome == Outcome.REACHED), func.count().filter(attempt))
        .where(Activity.occurred_at >= cut.day_start, Activity.occurred_at < cut.day_end)
        .group_by(customer)
    )
    return number_frame(
        session, of_collector(stmt, Activity.customer_id, collector_id), ["reached_today", "attempts_today"]
    )


def _suspension_steps(session: Session, cut: Cutoffs, collector_id: int | None) -> pd.DataFrame:
    """Accounts in the suspension sequence with a step still to do, and whether its day has passed."""
    seq = SuspensionSequence
    stmt = (
        select(seq.customer_id, func.count(), func.count().filter(seq.step_due < cut.day))
        .where(seq.ended_on.is_(None), seq.step_due.is_not(None))
        .group_by(seq.customer_id)
    )
    return number_frame(
        session, of_collector(stmt, seq.customer_id, collector_id), ["suspension_step", "suspension_overdue"]
    )


def suspension_steps(session: Session, cut: Cutoffs, team: Team, customer_ids: Sequence[int]) -> pd.DataFrame:
    """The words a listed account's next suspension step reads as."""
    sequences = session.scalars(
        select(SuspensionSequence).where(
            SuspensionSequence.ended_on.is_(None), SuspensionSequence.customer_id.in_(customer_ids)
        )
    )
    rows = [(s.customer_id, step_words(s, team, cut.day)) for s in sequences]
    return pd.DataFrame(rows, columns=["customer_id", "suspension_next"]).set_index("customer_id")


def load_history(
    session: Session, cut: Cutoffs, customer_ids: Sequence[int] | None, *, collector_id: int | None
) -> pd.DataFrame:
    """Average days late of invoices closed recently (closed date minus due date), for the given
    customers (read through the (customer_id, number) index), or for everyone when None: closed
    invoices pile up for years, so reading them all is the expensive case."""
    late = days_between(session, Invoice.due_date, Invoice.closed_on)
    customer = Invoice.customer_id if customer_ids is not None else scanned_customer(Invoice.customer_id)
    stmt = (
        select(customer, func.avg(late), func.count())
        .where(
            Invoice.closed_on.is_not(None),
            Invoice.closed_on >= cut.history_since,
            Invoice.closed_on <= cut.day,
            Invoice.kind.not_in([InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT]),
        )
        .group_by(customer)
    )
    if customer_ids is None:
        stmt = of_collector(stmt, Invoice.customer_id, collector_id)
    else:
        stmt = stmt.where(Invoice.customer_id.in_(customer_ids))
    return number_frame(session, stmt, ["avg_days_late", "paid_invoices"], floats={"avg_days_late"})
