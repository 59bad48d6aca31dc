"""Promises to pay and payment-plan instalments over time: the business-day check that breaks
what came due unpaid, and the allocation of incoming money to plan instalments.

The deadline rule, one for promises and instalments: a commitment due on day D with a grace of
G business days may still be met up to D + G business days (the deadline
:func:`commands.settlement.promise_deadline` settles payments against). It is broken from the
first *business* day after that deadline, team-local: that is when the collector can act on it,
and it is the day the call list starts counting it as broken. With G = 1, a promise due Friday
20 Nov 2026 may still be paid on Monday 23 and is broken on Tuesday 24; one due Wednesday 25 Nov
has Friday 27 as its grace day (Thanksgiving on the 26th is no business day) and is broken on
Monday 30 Nov, not over the weekend.

Every state change is a conditional UPDATE on the current status, so the check can run every
quarter hour, from several schedulers at once, and change each row exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.calendar import BusinessCalendar
from commands.call_row import account_buttons
from commands.context import AppContext
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.wording import money
from storage.audit import record
from storage.models import (
    Customer,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)
from storage.row_counts import rows_changed

SYSTEM_ACTOR = "system:promise_checks"
DUE, PAID, MISSED = "due", "paid", "missed"  # PlanInstalment.status values


def check_promises(session: Session, ctx: AppContext) -> list[Reply]:
    """Break every open promise and miss every plan instalment that is broken today by the rule
    above, and say so to the people who act on it. Running it again changes nothing."""
    today, now = ctx.today(), ctx.clock.now()
    grace = ctx.team.workflow.timers.promise_grace_days
    broken = break_overdue_promises(
        session, calendar=ctx.calendar, today=today, grace_days=grace, at=now, actor=SYSTEM_ACTOR
    )
    replies = [r for promise, customer in broken for r in _broken_replies(session, ctx, promise, customer)]
    replies += _remind_instalments(session, ctx, today=today, at=now)
    for plan, missed in _overdue_instalments(session, ctx.calendar, today, grace):
        replies += _miss_instalments(session, ctx, plan, missed, today=today, at=now)
    for plan in _plans_past_default_grace(session, ctx, today):
        replies += _default_plan(session, ctx, plan, today=today, at=now)
    return replies


def break_overdue_promises(
    session: Session, *, calendar: BusinessCalendar, today: date, grace_days: int, at: datetime, actor: str
) -> list[tuple[Promise, Customer]]:
    """Mark BROKEN (and audit) the open promises broken by ``today``; the scheduled check and a
    snapshot import both call this, so a promise breaks by one rule whoever notices first.
    Conditional on the promise still being open: a concurrent run breaks it once."""
    overdue = _overdue_promises(session, calendar, today, grace_days)
    return [
        (promise, customer)
        for promise, customer in overdue
        if _mark_broken(session, promise, customer, today=today, at=at, actor=actor)
    ]


def broken_from(due: date, *, calendar: BusinessCalendar, grace_days: int) -> date:
    """The first day on which a commitment due on ``due`` and still unpaid is broken: the
    business day after its deadline (see the module)."""
    return calendar.add_business_days(due, grace_days + 1)


# --- promises --------------------------------------------------------------------------------


def _overdue_promises(
    session: Session, calendar: BusinessCalendar, today: date, grace: int
) -> list[tuple[Promise, Customer]]:
    rows = session.execute(
        select(Promise, Customer)
        .join(Customer, Customer.id == Promise.customer_id)
        .where(
            Promise.status == PromiseStatus.OPEN, Promise.promised_date < today, Promise.paid_amount < Promise.amount
        )
        .order_by(Promise.promised_date, Promise.id)
    ).all()
    return [
        (promise, customer)
        for promise, customer in rows
        if broken_from(promise.promised_date, calendar=calendar, grace_days=grace) <= today
    ]


def _mark_broken(
    session: Session, promise: Promise, customer: Customer, *, today: date, at: datetime, actor: str
) -> bool:
    changed = rows_changed(
        session,
        update(Promise)
        .where(Promise.id == promise.id, Promise.status == PromiseStatus.OPEN)
        .values(status=PromiseStatus.BROKEN, settled_on=today),
    )
    if changed:
        record(
            session,
            at=at,
            actor=actor,
            action="promise.broken",
            entity_type="promise",
            entity_id=promise.id,
            customer_id=customer.id,
            amount=promise.amount,
            paid_amount=promise.paid_amount,
            promised_date=promise.promised_date,
        )
    return bool(changed)


def _broken_replies(session: Session, ctx: AppContext, promise: Promise, customer: Customer) -> list[Reply]:
    """The account's owner acts on a broken promise (it moves up their list); whoever took the
    promise, if someone else, hears about it too, since the customer broke their word to them.
    With no owner still on the team the collections channel is told, so the account is not lost."""
    text = (
        f"{describe(customer)} broke its promise of {money(customer, promise.amount)} due "
        f"{format_day(promise.promised_date)} (paid {money(customer, promise.paid_amount)})."
    )
    title, buttons = f"Broken promise: {describe(customer)}", account_buttons(customer.erp_id, paid=False)
    owner = reachable_email(session, ctx, customer.collector_id)
    recorder = reachable_email(session, ctx, promise.member_id)
    if owner is None:
        told = [
            Reply(
                title=title,
                tone=Tone.WARNING,
                buttons=buttons,
                text=f"{text} Nobody on the team owns it.",
                where=Where(ctx.team.workflow.channels.collections),
            )
        ]
    else:
        told = [
            Reply(
                title=title,
                tone=Tone.WARNING,
                buttons=buttons,
                text=f"{text} It moves up your call list.",
                to_user=owner,
            )
        ]
    if recorder is not None and recorder != owner:
        owner_name = _member_name(session, customer.collector_id) if owner else "nobody on the team"
        told.append(
            Reply(
                title=title,
                tone=Tone.WARNING,
                to_user=recorder,
                text=f"{text} You took this promise; the account is {owner_name}'s.",
            )
        )
    return told


# --- plan instalments ------------------------------------------------------------------------


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
        approved = f" approved by {_member_name(session, plan.approved_by_id)}" if plan.approved_by_id else ""
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


def open_promise(session: Session, customer_id: int) -> Promise | None:
    """The customer's open promise (at most one is kept open; the latest if older data has more)."""
    return session.scalar(
        select(Promise)
        .where(Promise.customer_id == customer_id, Promise.status == PromiseStatus.OPEN)
        .order_by(Promise.id.desc())
        .limit(1)
    )


def end_promise(
    session: Session, promise: Promise, *, action: str, at: datetime, actor: str, today: date, **data: object
) -> bool:
    """Close an open promise that was neither kept nor broken (replaced by a newer one, or
    withdrawn), with its audit event; conditional, so a concurrent check settles it once."""
    changed = rows_changed(
        session,
        update(Promise)
        .where(Promise.id == promise.id, Promise.status == PromiseStatus.OPEN)
        .values(status=PromiseStatus.CANCELLED, settled_on=today)
        .execution_options(synchronize_session=False),
    )
    if changed:
        record(
            session,
            at=at,
            actor=actor,
            action=action,
            entity_type="promise",
            entity_id=promise.id,
            customer_id=promise.customer_id,
            amount=promise.amount,
            promised_date=promise.promised_date,
            **data,
        )
    return bool(changed)


def reachable_email(session: Session, ctx: AppContext, member_id: int | None) -> str | None:
    """The email of a member still in the team file, so a direct message reaches someone who
    acts on it; None for nobody, or for someone who has left (their messages go to a channel)."""
    if member_id is None:
        return None
    email = session.scalar(select(TeamMember.email).where(TeamMember.id == member_id, TeamMember.active))
    return email if email is not None and ctx.team.member(email) is not None else None


def _member_name(session: Session, member_id: int | None) -> str:
    name = session.scalar(select(TeamMember.name).where(TeamMember.id == member_id))
    return name or "someone no longer on the team"
