"""Approved credit memos and write-offs as finance tasks.

Approval opens a task in the finance channel ("Issue a credit memo of $400.00 for INV-1001, Acme
Dental"); from that moment the amount is out of collection (:mod:`commands.workflows.adjustment_ledger`).
Finance closes it with Done (booked; still set aside until an import shows it) or Not doing with
a reason (the amount is collectible again); an import that shows it closes it by itself. Open
tasks are reminded in their thread like payment confirmations: after the finance reminder hours,
then once a business day. Every step is taken with a conditional UPDATE and audited in the same
transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from commands import messages
from commands.accounts import account_balance
from commands.actor import Actor
from commands.commitment_rules import reachable_email
from commands.context import AppContext
from commands.member_names import named
from commands.messages import Reply, Tone, Where
from commands.refusal import Refusal
from commands.wording import money
from commands.workflows.adjustment_card import TaskFacts, closed_line, task_card, task_key, what_to_do
from commands.workflows.adjustment_ledger import adjustment_shown
from commands.workflows.approval_card import asked_amount
from storage.audit import record
from storage.models import (
    AdjustmentStatus,
    AdjustmentTask,
    ApprovalKind,
    ApprovalRequest,
    Customer,
    Invoice,
)

FINANCE_ROLES = frozenset({"finance", "finance_lead"})
TIMER_ACTOR = "system:adjustment_timers"


def open_task(
    session: Session, ctx: AppContext, request: ApprovalRequest, customer: Customer, *, approver: Actor, at: datetime
) -> tuple[list[Reply], str]:
    """The approved request becomes finance's task; its card, and one sentence for the decision."""
    invoice_id = request.details.get("invoice_id") if request.kind is ApprovalKind.CREDIT else None
    open_then = (
        session.scalar(select(Invoice.open_balance).where(Invoice.id == invoice_id))
        if invoice_id is not None
        else account_balance(session, customer.id)
    )
    last_row = session.scalar(select(func.coalesce(func.max(Invoice.id), 0))) or 0
    task = AdjustmentTask(
        request_id=request.id,
        kind=request.kind,
        customer_id=customer.id,
        invoice_id=invoice_id,
        dispute_id=request.details.get("dispute_id"),
        amount=asked_amount(request),
        status=AdjustmentStatus.OPEN,
        open_at_approval=open_then,
        last_invoice_at_approval=last_row,
        created_at=at,
    )
    session.add(task)
    session.flush()
    facts = task_facts(session, task)
    record(
        session,
        at=at,
        actor=approver.email,
        action="adjustment.opened",
        entity_type="adjustment_task",
        entity_id=task.id,
        customer_id=customer.id,
        kind=task.kind.value,
        amount=task.amount,
        invoice=facts.invoice_number,
        request_id=request.id,
        open_at_approval=open_then,
    )
    finance = ctx.team.workflow.channels.finance
    card = replace(task_card(ctx, facts), where=Where(finance), track=task_key(task.id), mentions=_finance(ctx))
    waits_for = "the credit memo" if task.kind is ApprovalKind.CREDIT else "the write-off in the ERP"
    outcome = (
        f"{money(customer, task.amount)} is out of collection, awaiting {waits_for}; "
        f"finance has the task in #{finance} (task #{task.id})."
    )
    return [card], outcome


def finish(
    session: Session, ctx: AppContext, *, task_id: int, actor: Actor, done: bool, note: str | None
) -> list[Reply] | Refusal:
    """Finance's Done / Not doing, exactly once and only by finance."""
    task = session.get(AdjustmentTask, task_id)
    if task is None:
        return Refusal(f"there is no credit or write-off task #{task_id}")
    now = ctx.clock.now()
    if not actor.member.roles & FINANCE_ROLES:
        record(
            session,
            at=now,
            actor=actor.email,
            action="adjustment.refused",
            entity_type="adjustment_task",
            entity_id=task.id,
            customer_id=task.customer_id,
            roles=sorted(actor.member.roles),
        )
        names = " or ".join(m.name for m in ctx.team.members if m.roles & FINANCE_ROLES) or "finance"
        return [
            messages.error(
                f"You can't close task #{task.id}",
                f"Finance books credit memos and write-offs: {names}. Nothing was changed.",
            )
        ]
    if task.status is AdjustmentStatus.OPEN and not done and not note:
        return Refusal("say why it will not be booked, so the requester knows: Not doing with a reason")
    status = AdjustmentStatus.DONE if done else AdjustmentStatus.NOT_DOING
    if not _close(session, task, status, at=now, by=actor.member_id, note=note):
        return [_already_closed(session, ctx, task)]
    facts = task_facts(session, task)
    record(
        session,
        at=now,
        actor=actor.email,
        action=f"adjustment.{status.value}",
        entity_type="adjustment_task",
        entity_id=task.id,
        customer_id=task.customer_id,
        kind=task.kind.value,
        amount=task.amount,
        note=note,
    )
    ack = Reply(title=f"Task #{task.id}: {_status_word(status)}", text=closed_line(ctx, facts), tone=Tone.SUCCESS)
    return _tell(session, ctx, facts) + [ack]


def close_shown(session: Session, ctx: AppContext, *, actor: str) -> list[Reply]:
    """Close every open task an import now shows (called after each import, in its transaction)."""
    now = ctx.clock.now()
    shown = session.scalars(
        select(AdjustmentTask)
        .where(AdjustmentTask.status == AdjustmentStatus.OPEN, adjustment_shown())
        .order_by(AdjustmentTask.id)
    ).all()
    replies: list[Reply] = []
    for task in shown:
        if _close(session, task, AdjustmentStatus.SHOWN, at=now, by=None, note=None):
            record(
                session,
                at=now,
                actor=actor,
                action="adjustment.shown",
                entity_type="adjustment_task",
                entity_id=task.id,
                customer_id=task.customer_id,
                kind=task.kind.value,
                amount=task.amount,
            )
            replies += _tell(session, ctx, task_facts(session, task))
    return replies


def run_timers(session: Session, ctx: AppContext) -> list[Reply]:
    """Remind finance of open tasks in their thread: first after the finance reminder hours, then
    once every business day. Each reminder is stamped with a conditional UPDATE first, so two
    schedulers remind once."""
    timers, now = ctx.team.workflow.timers, ctx.clock.now()
    day_hours = (
        datetime.combine(date.min, timers.workday_end) - datetime.combine(date.min, timers.workday_start)
    ).total_seconds() / 3600
    replies: list[Reply] = []
    for task in session.scalars(
        select(AdjustmentTask).where(AdjustmentTask.status == AdjustmentStatus.OPEN).order_by(AdjustmentTask.id)
    ).all():
        since, wait = (
            (task.created_at, timers.finance_remind_hours)
            if task.reminded_at is None
            else (task.reminded_at, day_hours)
        )
        waited = ctx.calendar.business_hours_between(
            since, now, ctx.team.timezone, timers.workday_start, timers.workday_end
        )
        if waited >= wait - 1e-6 and _stamp_reminder(session, task, now):
            replies.append(_reminder(session, ctx, task, now))
    return replies


def _stamp_reminder(session: Session, task: AdjustmentTask, now: datetime) -> bool:
    last = AdjustmentTask.reminded_at
    stamped = cast(
        CursorResult[Any],
        session.execute(
            update(AdjustmentTask)
            .where(
                AdjustmentTask.id == task.id,
                AdjustmentTask.status == AdjustmentStatus.OPEN,
                last.is_(None) if task.reminded_at is None else last == task.reminded_at,
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return stamped.rowcount == 1


def _reminder(session: Session, ctx: AppContext, task: AdjustmentTask, now: datetime) -> Reply:
    facts = task_facts(session, task)
    record(
        session,
        at=now,
        actor=TIMER_ACTOR,
        action="adjustment.reminded",
        entity_type="adjustment_task",
        entity_id=task.id,
        customer_id=task.customer_id,
    )
    return Reply(
        title=f"Reminder: {what_to_do(task, facts.customer, facts.invoice_number)} (task #{task.id})",
        text=(
            f"Approved by {facts.approver}; the amount is out of collection until it is booked. "
            "Press Done once it is in the ERP, or Not doing with the reason."
        ),
        tone=Tone.WARNING,
        thread_of=task_key(task.id),
        where=Where(ctx.team.workflow.channels.finance),
        mentions=_finance(ctx),
    )


def _close(
    session: Session, task: AdjustmentTask, status: AdjustmentStatus, *, at: datetime, by: int | None, note: str | None
) -> bool:
    """Close an open task if nobody has yet; False when someone else got there first."""
    closed = cast(
        CursorResult[Any],
        session.execute(
            update(AdjustmentTask)
            .where(AdjustmentTask.id == task.id, AdjustmentTask.status == AdjustmentStatus.OPEN)
            .values(status=status, closed_at=at, closed_by_id=by, close_note=note)
            .execution_options(synchronize_session=False)
        ),
    )
    session.refresh(task)
    return closed.rowcount == 1


def _tell(session: Session, ctx: AppContext, facts: TaskFacts) -> list[Reply]:
    """The card redrawn, and the requester told in its thread and directly."""
    task, key = facts.task, task_key(facts.task.id)
    request = session.get_one(ApprovalRequest, task.request_id)
    note = Reply(
        title=f"Task #{task.id}: {what_to_do(task, facts.customer, facts.invoice_number)}",
        text=closed_line(ctx, facts),
        tone=Tone.WARNING if task.status is AdjustmentStatus.NOT_DOING else Tone.SUCCESS,
    )
    replies = [
        replace(task_card(ctx, facts), replaces=key),
        replace(note, thread_of=key, where=Where(ctx.team.workflow.channels.finance)),
    ]
    requester = reachable_email(session, ctx, request.requested_by_id)
    if requester is not None:
        replies.append(replace(note, to_user=requester))
    return replies


def _already_closed(session: Session, ctx: AppContext, task: AdjustmentTask) -> Reply:
    return Reply(
        title=f"Task #{task.id} is already closed",
        text=f"{closed_line(ctx, task_facts(session, task))}\nNothing was changed.",
        tone=Tone.WARNING,
        private=True,
    )


def task_facts(session: Session, task: AdjustmentTask) -> TaskFacts:
    request = session.get_one(ApprovalRequest, task.request_id)
    invoice = session.get(Invoice, task.invoice_id) if task.invoice_id is not None else None
    return TaskFacts(
        task=task,
        customer=session.get_one(Customer, task.customer_id),
        invoice_number=invoice.number if invoice else None,
        requester=named(session, request.requested_by_id),
        approver=named(session, request.decided_by_id),
        reason=request.reason,
        closer=named(session, task.closed_by_id) if task.closed_by_id else None,
    )


def _finance(ctx: AppContext) -> tuple[str, ...]:
    return tuple(m.email for m in ctx.team.members if m.roles & FINANCE_ROLES)


def _status_word(status: AdjustmentStatus) -> str:
    return {AdjustmentStatus.DONE: "done", AdjustmentStatus.NOT_DOING: "not doing"}.get(status, status.value)
