"""What the suspension sequence looks like now: the accounts in it, their next step and its due
day, days past due, balance and the latest note. Read by the ``suspension`` command (privately)
and by the weekly report posted before the suspension meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.context import AppContext
from commands.messages import Field, Reply, Row, Where
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.suspension.steps import NextStep, next_step, step_words
from commands.wording import money, plural
from storage.models import Activity, Customer, Invoice, SuspensionSequence, TeamMember

NOTE_LENGTH = 200  # a long note is cut here in the report; `status` shows it whole
SHOWN = 50  # accounts shown in the report and the `suspension` answer, the earliest due step first


@dataclass(frozen=True)
class InSequence:
    customer: Customer
    sequence: SuspensionSequence
    step: NextStep | None  # None: every step done, the suspension request is with an approver
    days_past_due: int
    balance: Decimal
    collector: str
    latest_note: str | None
    step_words: str | None = None


def in_sequence(session: Session, ctx: AppContext, day: date) -> list[InSequence]:
    """Every account in the sequence, the most overdue step first, then by due day and name."""
    sequences = session.scalars(select(SuspensionSequence).where(SuspensionSequence.ended_on.is_(None)))
    lines = [_line(session, ctx, sequence, day) for sequence in sequences]
    far = date.max
    return sorted(lines, key=lambda x: (x.step.due if x.step else far, x.customer.name, x.customer.id))


def _line(session: Session, ctx: AppContext, sequence: SuspensionSequence, day: date) -> InSequence:
    customer = session.get_one(Customer, sequence.customer_id)
    oldest = session.scalar(
        select(func.min(Invoice.due_date)).where(
            Invoice.customer_id == customer.id,
            Invoice.closed_on.is_(None),
            Invoice.open_balance > 0,
            Invoice.due_date < day,
        )
    )
    collector = session.get(TeamMember, customer.collector_id) if customer.collector_id is not None else None
    note = session.execute(
        select(Activity.occurred_at, Activity.note)
        .where(Activity.customer_id == customer.id, Activity.note.is_not(None), Activity.note != "")
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(1)
    ).first()
    latest = None
    if note is not None and note[1]:
        text = note[1] if len(note[1]) <= NOTE_LENGTH else note[1][: NOTE_LENGTH - 1] + "\u2026"
        latest = f"{format_day(note[0].astimezone(ctx.team.timezone).date())}: {text}"
    return InSequence(
        customer,
        sequence,
        next_step(sequence),
        (day - oldest).days if oldest else 0,
        account_balance(session, customer.id),
        collector.name if collector else "unassigned",
        latest,
        step_words(sequence, ctx.team, day),
    )


def line_row(line: InSequence, day: date) -> Row:
    """One account: its step (or the request waiting), days past due, balance, collector, note."""
    detail = (
        line.step_words
        if line.step is not None and line.step_words
        else (
            f"every step done; suspension request #{line.sequence.request_id} with an approver"
            if line.sequence.request_id is not None
            else "every step done"
        )
    )
    fields = [
        Field("Days past due", str(line.days_past_due)),
        Field("Balance", money(line.customer, line.balance)),
        Field("Collector", line.collector),
        Field("In sequence since", format_day(line.sequence.entered_on)),
    ]
    if line.latest_note:
        fields.append(Field("Latest note", line.latest_note))
    return Row(title=describe(line.customer), detail=detail, fields=tuple(fields))


def rows(lines: list[InSequence], day: date) -> tuple[Row, ...]:
    """The first :data:`SHOWN` accounts' rows (the earliest due steps)."""
    return tuple(line_row(x, day) for x in lines[:SHOWN])


def summary(lines: list[InSequence], day: date) -> str:
    if not lines:
        return "No account is in the suspension sequence."
    shown = f" The {SHOWN} with the earliest due steps are below." if len(lines) > SHOWN else ""
    overdue = sum(1 for x in lines if x.step is not None and x.step.overdue(day))
    waiting = sum(1 for x in lines if x.step is None)
    parts = [f"{plural(len(lines), 'account')} in the suspension sequence"]
    if overdue:
        parts.append(f"{overdue} with an overdue step")
    if waiting:
        parts.append(f"{waiting} waiting for a suspension decision")
    return ", ".join(parts) + "." + shown


def weekly_report(session: Session, ctx: AppContext, day: date) -> Reply:
    """Posted before the weekly suspension meeting, to the suspension channel of the team file
    (``[channels] suspension``, per platform like any channel; default: the collections
    channel)."""
    settings = ctx.team.workflow.suspension
    lines = in_sequence(session, ctx, day)
    return Reply(
        title=f"Suspension report for the meeting of {format_day(day)} at {settings.meeting_at:%H:%M}",
        text=summary(lines, day),
        rows=rows(lines, day),
        where=Where(ctx.team.workflow.channels.suspension or ctx.team.workflow.channels.collections),
    )
