"""Payment-plan instalments over time: the reminder the day before one is due, the instalment
missed once its deadline passed (the rule shared with promises, :mod:`commands.commitment_rules`),
the plan defaulted when a missed instalment stays unpaid past the plan's grace, and incoming money
applied to the instalments oldest first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.calendar import BusinessCalendar
from commands.call_row import account_buttons
from commands.commitment_rules import SYSTEM_ACTOR, broken_from, reachable_email
from commands.context import AppContext
from commands.member_names import named
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.wording import money
from storage.audit import record
from storage.models import Customer, PaymentPlan, PlanInstalment, PlanStatus
from storage.row_counts import rows_changed

DUE, PAID, MISSED = "due", "paid", "missed"  # PlanInstalment.status values


def check_plans(session: Session, ctx: AppContext, *, today: date, at: datetime, grace: int) -> list[Reply]:
    """Remind the instalments due tomorrow, miss those broken today, default the plans whose
    missed instalment outlasted the grace; what to say to whom. Running it again changes nothing."""
    replies = _remind_instalments(session, ctx, today=today, at=at)
    for plan, missed in _overdue_instalments(session, ctx.calendar, today, grace):
        replies += _miss_instalments(session, ctx, plan, missed, today=today, at=at)
    for plan in _plans_past_default_grace(session, ctx, today):
        replies += _default_plan(session, ctx, plan, today=today, at=at)
    return replies


def _overdue_instalments(
    session: Session, calendar: BusinessCalendar, today: date, grace: int
) -> list[tuple[PaymentPlan, list[PlanInstalment]]]:
    """Active plans with instalments past their deadline and not fully paid, oldest first."""
    instalments = session.scalars(
        select(PlanInstalment)
        .join(PaymentPlan, PaymentPlan.id == PlanInstalment.plan_id)
        .where(
            PaymentPlan.status == PlanStatus.ACTIVE,
            PlanInstalment.status == DUE,
            PlanInstalment.due_date < today,
            PlanInstalment.paid_amount < PlanInstalment.amount,
        )
        .order_by(PlanInstalment.plan_id, PlanInstalment.due_date, PlanInstalment.id)
    ).all()
    by_plan: dict[int, tuple[PaymentPlan, list[PlanInstalment]]] = {}
    for instalment in instalments:
        if broken_from(instalment.due_date, calendar=calendar, grace_days=grace) <= today:
            by_plan.setdefault(instalment.plan_id, (instalment.plan, []))[1].append(instalment)
    return list(by_plan.values())


def _default_day(ctx: AppContext, instalment: PlanInstalment) -> date:
    """The day a plan defaults on an instalment still unpaid: the team's plan grace after the
    day it was missed (``plan_default_grace_days`` business days to pay it late)."""
    timers = ctx.team.workflow.timers
    return broken_from(
        instalment.due_date,
        calendar=ctx.calendar,
        grace_days=timers.promise_grace_days + timers.plan_default_grace_days,
    )


def _remind_instalments(session: Session, ctx: AppContext, *, today: date, at: datetime) -> list[Reply]:
    """The business day before an instalment is due, its collector is reminded once, so the
    call that keeps a plan on track happens before the money is late."""
    if not ctx.calendar.is_business_day(today):
        return []
    tomorrow = ctx.calendar.add_business_days(today, 1)
    due = session.scalars(
        select(PlanInstalment)
        .join(PaymentPlan, PaymentPlan.id == PlanInstalment.plan_id)
        .where(
            PaymentPlan.status == PlanStatus.ACTIVE,
            PlanInstalment.status == DUE,
            PlanInstalment.reminded_on.is_(None),
            PlanInstalment.due_date > today,
            PlanInstalment.due_date <= tomorrow,
            PlanInstalment.paid_amount < PlanInstalment.amount,
        )
        .order_by(PlanInstalment.due_date, PlanInstalment.id)
    ).all()
    replies = []
    for instalment in due:
        taken = rows_changed(
            session,
            update(PlanInstalment)
            .where(PlanInstalment.id == instalment.id, PlanInstalment.reminded_on.is_(None))
            .values(reminded_on=today),
        )
        customer = session.get_one(Customer, instalment.plan.customer_id)
        collector = reachable_email(session, ctx, customer.collector_id)
        if not taken or collector is None:
            continue
        record(
            session,
            at=at,
            actor=SYSTEM_ACTOR,
            action="instalment.reminded",
            entity_type="plan_instalment",
            entity_id=instalment.id,
            customer_id=customer.id,
            plan_id=instalment.plan_id,
            due_date=instalment.due_date,
        )
        number, count = _position(instalment)
        left = money(customer, instalment.amount - instalment.paid_amount)
        replies.append(
            Reply(
                title=f"Plan instalment due {format_day(instalment.due_date)}: {describe(customer)}",
                text=(
                    f"Instalment {number} of {count} of its payment plan: {left} due "
                    f"{format_day(instalment.due_date)}. A call today keeps the plan on track."
                ),
                to_user=collector,
                buttons=account_buttons(customer.erp_id, paid=False),
            )
        )
    return replies


def _position(instalment: PlanInstalment) -> tuple[int, int]:
    ordered = instalment.plan.instalments
    return next(n for n, i in enumerate(ordered, start=1) if i.id == instalment.id), len(ordered)


def _miss_instalments(
    session: Session, ctx: AppContext, plan: PaymentPlan, overdue: list[PlanInstalment], *, today: date, at: datetime
) -> list[Reply]:
    """Mark the instalments missed and warn the plan's approver and the collector: the plan
    still stands until its grace is over (then :func:`_default_plan`), so a late payment can
    save it. When that grace is already over, the default says it all."""
    missed = [i for i in overdue if _mark_missed(session, i)]
    if not missed:
        return []
    customer = session.get_one(Customer, plan.customer_id)
    for instalment in missed:
        record(
            session,
            at=at,
            actor=SYSTEM_ACTOR,
            action="instalment.missed",
            entity_type="plan_instalment",
            entity_id=instalment.id,
            customer_id=customer.id,
            plan_id=plan.id,
            amount=instalment.amount,
            paid_amount=instalment.paid_amount,
            due_date=instalment.due_date,
        )
    default_day = min(_default_day(ctx, i) for i in missed)
    if default_day <= today:
        return []
    what = _describe_missed(plan, customer, missed)
    then = f"The plan defaults on {format_day(default_day)} unless it is paid by then."
    return _plan_replies(
        session,
        ctx,
        plan,
        customer,
        title=f"Missed plan instalment: {describe(customer)}",
        what=what,
        approver_tail=then,
        collector_tail=then,
    )


def _plans_past_default_grace(session: Session, ctx: AppContext, today: date) -> list[PaymentPlan]:
    """Active plans with a missed instalment still unpaid after the plan grace."""
    missed = session.scalars(
        select(PlanInstalment)
        .join(PaymentPlan, PaymentPlan.id == PlanInstalment.plan_id)
        .where(
            PaymentPlan.status == PlanStatus.ACTIVE,
            PlanInstalment.status == MISSED,
            PlanInstalment.paid_amount < PlanInstalment.amount,
        )
        .order_by(PlanInstalment.plan_id, PlanInstalment.id)
    ).all()
    plans = {i.plan_id: i.plan for i in missed if _default_day(ctx, i) <= today}
    return list(plans.values())


def _default_plan(session: Session, ctx: AppContext, plan: PaymentPlan, *, today: date, at: datetime) -> list[Reply]:
    """The plan is over: defaulted (conditional, so two checks default it once), and its approver
    and the collector are told the account is back on the list."""
    defaulted = rows_changed(
        session,
        update(PaymentPlan)
        .where(PaymentPlan.id == plan.id, PaymentPlan.status == PlanStatus.ACTIVE)
        .values(status=PlanStatus.DEFAULTED),
    )
    if not defaulted:
        return []
    missed = [i for i in plan.instalments if i.status == MISSED and i.paid_amount < i.amount]
    customer = session.get_one(Customer, plan.customer_id)
    record(
        session,
        at=at,
        actor=SYSTEM_ACTOR,
        action="plan.defaulted",
        entity_type="payment_plan",
        entity_id=plan.id,
        customer_id=customer.id,
        missed=[i.id for i in missed],
        on=today,
    )
    what = _describe_missed(plan, customer, missed)
    paid = sum((i.paid_amount for i in plan.instalments), Decimal("0.00"))
    standing = f"{money(customer, paid)} of {money(customer, plan.total)} paid under the plan."
    return _plan_replies(
        session,
        ctx,
        plan,
        customer,
        title=f"Payment plan defaulted: {describe(customer)}",
        what=what,
        approver_tail=standing,
        collector_tail="The plan is defaulted and the account is back on your call list.",
    )


def _mark_missed(session: Session, instalment: PlanInstalment) -> bool:
    return bool(
        rows_changed(
            session,
            update(PlanInstalment)
            .where(PlanInstalment.id == instalment.id, PlanInstalment.status == DUE)
            .values(status=MISSED),
        )
    )


def _plan_replies(
    session: Session,
    ctx: AppContext,
    plan: PaymentPlan,
    customer: Customer,
    *,
    title: str,
    what: str,
    approver_tail: str,
    collector_tail: str,
) -> list[Reply]:
    """The plan's approver (or the approvals channel, when nobody on the team approved it) and
    the account's collector hear ``what`` happened, each with what it means for them."""
    approver = reachable_email(session, ctx, plan.approved_by_id)
    collector = reachable_email(session, ctx, customer.collector_id)
    replies: list[Reply] = []
    if approver is not None:
        replies.append(
            Reply(
                title=title,
                tone=Tone.WARNING,
                to_user=approver,
                text=f"{what} of the plan you approved. {approver_tail}",
            )
        )
    else:
        replies.append(
            Reply(
                title=title,
                tone=Tone.WARNING,
                where=Where(ctx.team.workflow.channels.approvals),
                text=(f"{what} of its payment plan; nobody on the team is recorded as its approver. {approver_tail}"),
            )
        )
    if collector is not None and collector != approver:
        approved = f" approved by {named(session, plan.approved_by_id)}" if plan.approved_by_id else ""
        replies.append(
            Reply(
                title=title,
                tone=Tone.WARNING,
                to_user=collector,
                buttons=account_buttons(customer.erp_id, paid=False),
                text=f"{what} of its payment plan{approved}. {collector_tail}",
            )
        )
    return replies


def _describe_missed(plan: PaymentPlan, customer: Customer, missed: list[PlanInstalment]) -> str:
    """'Acme (C100) missed instalment 2 of 4 ($500.00 due Mon 7 Dec 2026)', naming each one."""
    order = {i.id: n for n, i in enumerate(plan.instalments, start=1)}
    total = len(plan.instalments)
    parts = []
    for instalment in missed:
        paid = f", {money(customer, instalment.paid_amount)} paid" if instalment.paid_amount else ""
        parts.append(
            f"instalment {order[instalment.id]} of {total} ({money(customer, instalment.amount)} "
            f"due {format_day(instalment.due_date)}{paid})"
        )
    return f"{describe(customer)} missed " + " and ".join(parts)


# --- paying instalments ----------------------------------------------------------------------


def apply_payment_to_instalments(
    session: Session, *, customer_id: int, amount: Decimal, at: datetime, actor: str
) -> Decimal:
    """Allocate ``amount`` to the customer's active plans, oldest due instalment first (the one
    falling due first is what the customer is paying). A covered instalment becomes paid, a plan
    whose instalments are all paid is completed. Returns what is left for anything else.

    Only active plans take money: a defaulted plan has been escalated, and what the customer
    pays then is for the people handling the escalation to apply."""
    remaining = amount
    open_instalments = session.scalars(
        select(PlanInstalment)
        .join(PaymentPlan, PaymentPlan.id == PlanInstalment.plan_id)
        .where(
            PaymentPlan.customer_id == customer_id,
            PaymentPlan.status == PlanStatus.ACTIVE,
            PlanInstalment.status.in_((DUE, MISSED)),
            PlanInstalment.paid_amount < PlanInstalment.amount,
        )
        .order_by(PlanInstalment.due_date, PlanInstalment.id)
    ).all()
    touched: dict[int, PaymentPlan] = {}
    for instalment in open_instalments:
        if remaining <= 0:
            break
        applied = min(instalment.amount - instalment.paid_amount, remaining)
        remaining -= applied
        instalment.paid_amount += applied
        if instalment.paid_amount >= instalment.amount:
            instalment.status = PAID
        action = "instalment.paid" if instalment.status == PAID else "instalment.part_paid"
        record(
            session,
            at=at,
            actor=actor,
            action=action,
            entity_type="plan_instalment",
            entity_id=instalment.id,
            customer_id=customer_id,
            plan_id=instalment.plan_id,
            applied=applied,
            paid_amount=instalment.paid_amount,
            amount=instalment.amount,
        )
        touched[instalment.plan_id] = instalment.plan
    _complete_paid_plans(session, touched.values(), customer_id=customer_id, at=at, actor=actor)
    return remaining


def _complete_paid_plans(
    session: Session, plans: Iterable[PaymentPlan], *, customer_id: int, at: datetime, actor: str
) -> None:
    """Conditional on the plan still being active: a check that defaulted it meanwhile wins."""
    for plan in plans:
        if not all(i.status == PAID for i in plan.instalments):
            continue
        completed = rows_changed(
            session,
            update(PaymentPlan)
            .where(PaymentPlan.id == plan.id, PaymentPlan.status == PlanStatus.ACTIVE)
            .values(status=PlanStatus.COMPLETED),
        )
        if completed:
            record(
                session,
                at=at,
                actor=actor,
                action="plan.completed",
                entity_type="payment_plan",
                entity_id=plan.id,
                customer_id=customer_id,
                total=plan.total,
            )


# --- people ----------------------------------------------------------------------------------
