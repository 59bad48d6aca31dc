"""Promises to pay over time: the business-day check that breaks what came due unpaid (and runs
the plans' check beside it, :mod:`commands.plan_checks`), and opening and ending a promise.

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

from datetime import date, datetime

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
from commands.plan_checks import check_plans
from commands.wording import money
from storage.audit import record
from storage.models import (
    Customer,
    Promise,
    PromiseStatus,
)
from storage.row_counts import rows_changed


def check_promises(session: Session, ctx: AppContext) -> list[Reply]:
    """Break every open promise and miss every plan instalment that is broken today by the rule
    above, and say so to the people who act on it. Running it again changes nothing."""
    today, now = ctx.today(), ctx.clock.now()
    grace = ctx.team.workflow.timers.promise_grace_days
    broken = break_overdue_promises(
        session, calendar=ctx.calendar, today=today, grace_days=grace, at=now, actor=SYSTEM_ACTOR
    )
    replies = [r for promise, customer in broken for r in _broken_replies(session, ctx, promise, customer)]
    return replies + check_plans(session, ctx, today=today, at=now, grace=grace)


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
        owner_name = named(session, customer.collector_id) if owner else "nobody on the team"
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
