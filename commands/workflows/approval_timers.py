"""Approval requests left waiting: a reminder in the card's thread to the people who may decide
after the remind days, then expiry after the expire days, counted in business days of working
hours (a request made Friday at 15:00 has waited one business day on Monday at 15:00). Each step
happens once per request even with two schedulers running, because the request is changed with a
conditional UPDATE before anything is said; approved credit memos and write-offs not yet booked
are finance's reminders (commands.workflows.adjustments)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import Reply, Tone, Where
from commands.workflows import adjustments
from commands.workflows.approval_card import subject
from commands.workflows.approvals import TIMER_ACTOR, approvers, tell_everyone, track_key
from storage.audit import record
from storage.models import ApprovalRequest, ApprovalStatus, Customer
from storage.row_counts import rows_changed


def run_timers(session: Session, ctx: AppContext) -> list[Reply]:
    """Remind, then expire, requests left waiting (counted in business days of working hours:
    a request made Friday at 15:00 has waited one business day on Monday at 15:00); and remind
    finance of approved credit memos and write-offs not yet booked."""
    timers, now = ctx.team.workflow.timers, ctx.clock.now()
    waiting = session.scalars(
        select(ApprovalRequest).where(ApprovalRequest.status == ApprovalStatus.PENDING).order_by(ApprovalRequest.id)
    ).all()
    replies: list[Reply] = []
    for request in waiting:
        if _waited(ctx, request.created_at, now, timers.approval_expire_days):
            replies += _expire(session, ctx, request, now)
        elif request.reminded_at is None and _waited(ctx, request.created_at, now, timers.approval_remind_days):
            replies += _remind(session, ctx, request, now)
    return replies + adjustments.run_timers(session, ctx)


def _waited(ctx: AppContext, since: datetime, now: datetime, days: int) -> bool:
    timers = ctx.team.workflow.timers
    day_hours = (
        datetime.combine(date.min, timers.workday_end) - datetime.combine(date.min, timers.workday_start)
    ).total_seconds() / 3600
    hours = ctx.calendar.business_hours_between(since, now, ctx.team.timezone, timers.workday_start, timers.workday_end)
    return hours >= days * day_hours - 1e-6  # summed float hours of whole days land a hair short


def _remind(session: Session, ctx: AppContext, request: ApprovalRequest, now: datetime) -> list[Reply]:
    marked = rows_changed(
        session,
        update(ApprovalRequest)
        .where(
            ApprovalRequest.id == request.id,
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalRequest.reminded_at.is_(None),
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False),
    )
    if not marked:
        return []
    customer = session.get_one(Customer, request.customer_id)
    record(
        session,
        at=now,
        actor=TIMER_ACTOR,
        action="approval.reminded",
        entity_type="approval_request",
        entity_id=request.id,
        customer_id=customer.id,
        kind=request.kind.value,
    )
    days = ctx.team.workflow.timers.approval_remind_days
    who = ctx.team.workflow.who_may_approve(request.kind.value, request.amount)
    return [
        Reply(
            title=f"Reminder: {subject(request.kind, customer)} is waiting for a decision (request #{request.id})",
            text=(
                f"Waiting {days} business day{'s' if days != 1 else ''} so far. Who may approve: {who}. "
                f"It expires after {ctx.team.workflow.timers.approval_expire_days} business days."
            ),
            tone=Tone.WARNING,
            thread_of=track_key(request.id),
            where=Where(ctx.team.workflow.channels.approvals),
            mentions=approvers(session, ctx, request),
        )
    ]


def _expire(session: Session, ctx: AppContext, request: ApprovalRequest, now: datetime) -> list[Reply]:
    expired = rows_changed(
        session,
        update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(status=ApprovalStatus.EXPIRED, decided_at=now)
        .execution_options(synchronize_session=False),
    )
    if not expired:
        return []
    session.refresh(request)
    customer = session.get_one(Customer, request.customer_id)
    outcome = "Nothing was changed; ask again if it is still needed."
    record(
        session,
        at=now,
        actor=TIMER_ACTOR,
        action="approval.expired",
        entity_type="approval_request",
        entity_id=request.id,
        customer_id=customer.id,
        kind=request.kind.value,
        outcome=outcome,
    )
    return tell_everyone(session, ctx, request, customer, None, outcome)
