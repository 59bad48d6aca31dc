"""Per-account facts from the smaller tables: disputes, promises, payment plans, today's
contacts and payment history. Scoring reads counts; the dates that reasons name are read for
the listed accounts only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, and_, bindparam, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from commands.calllist.cutoffs import Cutoffs
from commands.calllist.sql import (
    Statement,
    customer_ids_param,
    cut_params,
    days_between,
    dialect_of,
    number_frame,
    of_collector,
    scanned_customer,
    scoped,
    total,
    typed_frame,
)
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


def account_facts(
    session: Session, cut: Cutoffs, *, collector_id: int | None, customer_ids: Sequence[int] | None = None
) -> list[pd.DataFrame]:
    """Frames indexed by customer id, holding the columns in :data:`COUNTS` between them (of the
    given customers only, when given)."""
    dialect, params = dialect_of(session), cut_params(cut, collector_id)
    if customer_ids is not None:
        params["customer_ids"] = list(customer_ids)
    by_collector, by_customers = collector_id is not None, customer_ids is not None
    return [
        number_frame(session, stmt(dialect, by_collector, by_customers), list(columns), params=params)
        for stmt, columns in _FACTS
    ]


# Each statement is built once per dialect and shape (one collector's accounts or everyone's, a few
# customers of them or all).


@cache
def _dispute_totals(dialect: str, by_collector: bool, by_customers: bool) -> Statement:
    """Disputes set aside, with or without an invoice: what comes off the collectible balance,
    apart as still in dispute and as settled for the customer with the credit not yet imported."""
    cents = type_coerce(Dispute.amount, BigInteger)
    is_open = Dispute.status == DisputeStatus.OPEN
    stmt = (
        select(Dispute.customer_id, total(cents, is_open), total(cents, ~is_open))
        .where(set_aside())
        .group_by(Dispute.customer_id)
    )
    return scoped(stmt, Dispute.customer_id, by_collector, by_customers)


@cache
def _adjustment_totals(dialect: str, by_collector: bool, by_customers: bool) -> Statement:
    """Credit memos and write-offs approved and not yet shown by an import: off the collectible
    balance, apart from disputes (:mod:`commands.workflows.adjustment_ledger`)."""
    cents = type_coerce(AdjustmentTask.amount, BigInteger)
    is_credit = AdjustmentTask.kind == ApprovalKind.CREDIT
    stmt = (
        select(AdjustmentTask.customer_id, total(cents, is_credit), total(cents, ~is_credit))
        .where(set_aside_adjustments())
        .group_by(AdjustmentTask.customer_id)
    )
    return scoped(stmt, AdjustmentTask.customer_id, by_collector, by_customers)


@cache
def _unapplied_payments(dialect: str, by_collector: bool, by_customers: bool) -> Statement:
    """Money finance confirmed that no import has shown yet: paid, but not yet off the imported
    open items (:mod:`commands.calllist.confirmed` takes it off them, oldest first)."""
    stmt = (
        select(Payment.customer_id, total(type_coerce(Payment.amount, BigInteger)))
        .where(awaiting_erp())
        .group_by(Payment.customer_id)
    )
    return scoped(stmt, Payment.customer_id, by_collector, by_customers)


def _promise_conditions() -> dict[str, ColumnElement[bool]]:
    """An open promise is broken once its date plus the grace has passed, whether or not the
    nightly job has marked it yet; "came due" is what the kept rate divides by. The dates are
    the parameters of :func:`commands.calllist.sql.cut_params`."""
    day, status = Promise.promised_date, Promise.status
    broken_by: Any = bindparam("broken_by")
    promises_since: Any = bindparam("promises_since")
    overdue_open = and_(status == PromiseStatus.OPEN, day <= broken_by)
    came_due = or_(status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]), overdue_open)
    return {
        "open_promises": and_(status == PromiseStatus.OPEN, day > broken_by),
        "broken_promises": and_(or_(status == PromiseStatus.BROKEN, overdue_open), day >= bindparam("broken_since")),
        "promises_kept": and_(status == PromiseStatus.KEPT, day >= promises_since),
        "promises_due": and_(came_due, day >= promises_since),
    }


PROMISE_COUNTS = ("open_promises", "broken_promises", "promises_kept", "promises_due")


@cache
def _promises(dialect: str, by_collector: bool, by_customers: bool) -> Statement:
    conditions = _promise_conditions()
    customer = Promise.customer_id if by_customers else scanned_customer(Promise.customer_id)
    stmt = (
        select(customer, *(func.count().filter(conditions[name]) for name in PROMISE_COUNTS))
        .where(Promise.promised_date >= bindparam("promises_from"), Promise.status != PromiseStatus.CANCELLED)
        .group_by(customer)
    )
    return scoped(stmt, Promise.customer_id, by_collector, by_customers)


def promise_dates(session: Session, cut: Cutoffs, customer_ids: Sequence[int]) -> pd.DataFrame:
    """The dates reasons name: the open promise's date and the latest broken one."""
    params = {**cut_params(cut), "customer_ids": list(customer_ids)}
    return typed_frame(session, _promise_dates(), ["open_promise_date", "broken_promise_date"], params)


@cache
def _promise_dates() -> Statement:
    conditions = _promise_conditions()
    return (
        select(
            Promise.customer_id,
            func.min(Promise.promised_date).filter(conditions["open_promises"]),
            func.max(Promise.promised_date).filter(conditions["broken_promises"]),
        )
        .where(Promise.customer_id.in_(customer_ids_param()))
        .group_by(Promise.customer_id)
    )


@cache
def _plans(dialect: str, by_collector: bool, by_customers: bool) -> Statement:
    missed = exists().where(PlanInstalment.plan_id == PaymentPlan.id, PlanInstalment.status == "missed")
    stmt = (
        select(PaymentPlan.customer_id, func.count())
        .where(PaymentPlan.status == PlanStatus.ACTIVE, ~missed)
        .group_by(PaymentPlan.customer_id)
    )
    return scoped(stmt, PaymentPlan.customer_id, by_collector, by_customers)


@cache
def _contacts_today(dialect: str, by_collector: bool, by_customers: bool) -> Statement:
    """Today is the list day in the team's timezone."""
    attempt = Activity.kind.in_([ActivityKind.CALL, ActivityKind.VOICEMAIL])
    customer = Activity.customer_id if by_customers else scanned_customer(Activity.customer_id)
    stmt = (
        select(customer, func.count().filter(Activity.outcome == Outcome.REACHED), func.count().filter(attempt))
        .where(Activity.occurred_at >= bindparam("day_start"), Activity.occurred_at < bindparam("day_end"))
        .group_by(customer)
    )
    return scoped(stmt, Activity.customer_id, by_collector, by_customers)


@cache
def _suspension_steps(dialect: str, by_collector: bool, by_customers: bool) -> Statement:
    """Accounts in the suspension sequence with a step still to do, and whether its day has passed."""
    seq = SuspensionSequence
    stmt = (
        select(seq.customer_id, func.count(), func.count().filter(seq.step_due < bindparam("day")))
        .where(seq.ended_on.is_(None), seq.step_due.is_not(None))
        .group_by(seq.customer_id)
    )
    return scoped(stmt, seq.customer_id, by_collector, by_customers)


_FACTS: tuple[tuple[Callable[[str, bool, bool], Statement], tuple[str, ...]], ...] = (
    (_dispute_totals, ("disputed", "credit_due")),
    (_adjustment_totals, ("credit_approved", "written_off")),
    (_unapplied_payments, ("unapplied",)),
    (_promises, PROMISE_COUNTS),
    (_plans, ("plan_ok",)),
    (_contacts_today, ("reached_today", "attempts_today")),
    (_suspension_steps, ("suspension_step", "suspension_overdue")),
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
    params = cut_params(cut, collector_id)
    if customer_ids is not None:
        params["customer_ids"] = list(customer_ids)
    stmt = _history(dialect_of(session), customer_ids is not None, collector_id is not None)
    return number_frame(session, stmt, ["avg_days_late", "paid_invoices"], floats={"avg_days_late"}, params=params)


@cache
def _history(dialect: str, by_customer: bool, by_collector: bool) -> Statement:
    late = days_between(dialect, Invoice.due_date, Invoice.closed_on)
    customer = Invoice.customer_id if by_customer else scanned_customer(Invoice.customer_id)
    stmt = (
        select(customer, func.avg(late), func.count())
        .where(
            Invoice.closed_on.is_not(None),
            Invoice.closed_on >= bindparam("history_since"),
            Invoice.closed_on <= bindparam("day"),
            Invoice.kind.not_in([InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT]),
        )
        .group_by(customer)
    )
    if by_customer:
        return stmt.where(Invoice.customer_id.in_(customer_ids_param()))
    return of_collector(stmt, Invoice.customer_id, by_collector)
