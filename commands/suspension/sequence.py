"""Who is in the suspension sequence, and each step ticked off.

An account enters when it has money more than the team's threshold (30 days by default) past due
that nobody is already handling another way, and leaves when that money is paid (or credited,
or disputed). The daily job (:func:`run_daily`) does both, business mornings before the call
list; a logged call or email ticks the account's next step when it is of the step's kind
(:func:`tick`); the last step, once the others are done and its day has come, opens a service
suspension hold request in the collector's name (:func:`open_due_request`), once.

Every change writes its audit event in the same transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from commands.accounts import ZERO
from commands.actor import Actor
from commands.context import AppContext
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.snapshots import awaiting_erp
from commands.suspension.settings import REQUEST
from commands.suspension.steps import TICKED_BY, copy_list, next_step
from commands.wording import money, plural
from commands.workflows.approval_card import HOLD_KIND
from commands.workflows.approvals import open_request, pending_request
from storage.audit import record, record_many
from storage.models import (
    Activity,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Customer,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Invoice,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    SuspensionSequence,
    TeamMember,
)
from storage.models.suspension import ON_HOLD, PAID_DOWN, REQUEST_REJECTED, SUSPENDED

JOB_ACTOR = "system:suspension_sequence"
SUSPENSION_KIND = "service_suspension"


def active_sequence(session: Session, customer_id: int) -> SuspensionSequence | None:
    return session.scalar(
        select(SuspensionSequence).where(
            SuspensionSequence.customer_id == customer_id, SuspensionSequence.ended_on.is_(None)
        )
    )


def over_threshold(session: Session, ctx: AppContext, day: date) -> dict[int, Decimal]:
    """Customers with money more than the threshold past due on ``day`` that is still to be
    collected, and how much: the items over the threshold, less the account's credits, open
    disputes and payments finance confirmed that no import shows yet."""
    last_due = date.fromordinal(day.toordinal() - ctx.team.workflow.suspension.threshold_days - 1)
    over = dict(
        session.execute(
            select(Invoice.customer_id, func.sum(Invoice.open_balance))
            .where(Invoice.closed_on.is_(None), Invoice.open_balance > 0, Invoice.due_date <= last_due)
            .group_by(Invoice.customer_id)
        ).all()
    )
    if not over:
        return {}
    credits = dict(
        session.execute(
            select(Invoice.customer_id, func.sum(Invoice.open_balance))
            .where(Invoice.closed_on.is_(None), Invoice.open_balance < 0)
            .group_by(Invoice.customer_id)
        ).all()
    )
    disputed = dict(
        session.execute(
            select(Dispute.customer_id, func.sum(Dispute.amount))
            .where(Dispute.status == DisputeStatus.OPEN)
            .group_by(Dispute.customer_id)
        ).all()
    )
    confirmed = dict(
        session.execute(
            select(Payment.customer_id, func.sum(Payment.amount)).where(awaiting_erp()).group_by(Payment.customer_id)
        ).all()
    )
    left = {}
    for customer_id, amount in over.items():
        owed = (
            Decimal(amount)
            + Decimal(credits.get(customer_id) or 0)
            - Decimal(disputed.get(customer_id) or 0)
            - Decimal(confirmed.get(customer_id) or 0)
        )
        if owed > ZERO:
            left[customer_id] = owed
    return left


def _kept_out(session: Session, customer_ids: set[int]) -> dict[int, str]:
    """Accounts over the threshold that do not enter, and why. An active hold already stops the
    service or the work, and has its own release path; a payment plan in good standing is the
    agreed way the money comes in; a sequence stopped by a manager, refused or ended by a
    suspension keeps the account out until it is no longer over the threshold, so the same
    account does not start over the next morning. (An account whose past-due money is all in
    dispute is not over the threshold at all: :func:`over_threshold`.)"""
    why: dict[int, str] = {}
    for customer_id in session.scalars(select(Hold.customer_id).where(Hold.status == HoldStatus.ACTIVE)):
        why[customer_id] = "on hold"
    missed = (
        select(PlanInstalment.id)
        .where(PlanInstalment.plan_id == PaymentPlan.id, PlanInstalment.status == "missed")
        .exists()
    )
    for customer_id in session.scalars(
        select(PaymentPlan.customer_id).where(PaymentPlan.status == PlanStatus.ACTIVE, ~missed)
    ):
        why.setdefault(customer_id, "payment plan in good standing")
    for customer_id in session.scalars(
        select(SuspensionSequence.customer_id).where(
            SuspensionSequence.ended_on.is_not(None),
            SuspensionSequence.end_reason != PAID_DOWN,
            SuspensionSequence.cleared_on.is_(None),
        )
    ):
        why.setdefault(customer_id, "sequence ended, not paid down since")
    return {customer_id: reason for customer_id, reason in why.items() if customer_id in customer_ids}


def enter_all(session: Session, ctx: AppContext, owed: dict[int, Decimal], day: date) -> list[int]:
    """Put these accounts (customer id -> money over the threshold) in the sequence on ``day``,
    set-based: one multi-row INSERT of the sequences and one of their audit events, whatever
    their number (a first morning on a large portfolio enters tens of thousands). Each step's
    due day is its business-day offset from ``day`` (a day that is not a business day enters on
    the next one); it is the same for every account, so it is worked out once. Returns the new
    sequences' ids, in customer id order."""
    if not owed:
        return []
    settings = ctx.team.workflow.suspension
    start = ctx.calendar.on_or_after(day)
    dues = [ctx.calendar.add_business_days(start, s.day) for s in settings.steps]
    steps = [
        {"name": s.name, "does": s.does, "due": due.isoformat(), "done_on": None, "done_by": None}
        for s, due in zip(settings.steps, dues, strict=True)
    ]
    now = ctx.clock.now()
    customer_ids = sorted(owed)
    inserted = session.execute(
        insert(SuspensionSequence).returning(
            SuspensionSequence.id, SuspensionSequence.customer_id, sort_by_parameter_order=True
        ),
        [
            {"customer_id": c, "entered_on": day, "steps": steps, "step": 0, "step_due": dues[0], "created_at": now}
            for c in customer_ids
        ],
    ).all()
    record_many(
        session,
        [
            {
                "at": now,
                "actor": JOB_ACTOR,
                "action": "suspension.entered",
                "entity_type": "suspension_sequence",
                "entity_id": sequence_id,
                "customer_id": customer_id,
                "data": {
                    "over_threshold": owed[customer_id],
                    "threshold_days": settings.threshold_days,
                    "steps": steps,
                },
            }
            for sequence_id, customer_id in inserted
        ],
    )
    return [sequence_id for sequence_id, _ in inserted]


def end(
    session: Session, ctx: AppContext, sequence: SuspensionSequence, *, reason: str, actor: str, note: str | None = None
) -> None:
    day, now = ctx.today(), ctx.clock.now()
    sequence.ended_on, sequence.end_reason, sequence.ended_by, sequence.end_note = day, reason, actor, note
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        action="suspension.ended",
        entity_type="suspension_sequence",
        entity_id=sequence.id,
        customer_id=sequence.customer_id,
        reason=reason,
        note=note,
        step=sequence.step,
        steps=len(sequence.steps),
    )


CHUNK = 5_000  # ids per IN (...) when sequences are read back
NAMED = 20  # accounts named in the morning's message; the rest are counted


def run_daily(session: Session, ctx: AppContext) -> list[Reply]:
    """The morning's changes: sequences end (paid down, suspended, request refused, another hold
    placed), newly eligible accounts enter, and the last step's request opens where it is due.
    The collections channel hears what changed (nothing when nothing did). What decides an end
    is read in one query per table, not per account: a first morning may put tens of thousands
    of accounts in the sequence, and every later morning looks at all of them."""
    day = ctx.today()
    owed = over_threshold(session, ctx, day)
    holds = dict(session.execute(select(Hold.customer_id, Hold.kind).where(Hold.status == HoldStatus.ACTIVE)).all())
    decided = dict(
        session.execute(
            select(ApprovalRequest.id, ApprovalRequest.status)
            .join(SuspensionSequence, SuspensionSequence.request_id == ApprovalRequest.id)
            .where(SuspensionSequence.ended_on.is_(None))
        ).all()
    )
    going: list[SuspensionSequence] = []
    left: list[tuple[int, str]] = []
    for sequence in session.scalars(
        select(SuspensionSequence).where(SuspensionSequence.ended_on.is_(None)).order_by(SuspensionSequence.id)
    ).all():
        reason = _ends_because(sequence, owed, holds, decided)
        if reason is None:
            going.append(sequence)
        else:
            end(session, ctx, sequence, reason=reason, actor=JOB_ACTOR)
            left.append((sequence.customer_id, ENDED_WORDS[reason]))
    for sequence in session.scalars(
        select(SuspensionSequence).where(
            SuspensionSequence.ended_on.is_not(None),
            SuspensionSequence.cleared_on.is_(None),
            SuspensionSequence.end_reason != PAID_DOWN,
        )
    ):
        if sequence.customer_id not in owed:  # paid down since: it may enter again later
            sequence.cleared_on = day
            record(
                session,
                at=ctx.clock.now(),
                actor=JOB_ACTOR,
                action="suspension.cleared",
                entity_type="suspension_sequence",
                entity_id=sequence.id,
                customer_id=sequence.customer_id,
            )
    candidates = set(owed) - {s.customer_id for s in going}
    kept_out = _kept_out(session, candidates) if candidates else {}
    entered = sorted(candidates - set(kept_out))
    new_ids = enter_all(session, ctx, {c: owed[c] for c in entered}, day)
    if _may_be_due_on_entry(ctx):
        going += _sequences(session, new_ids)
    replies: list[Reply] = []
    for sequence in going:
        replies += open_due_request(session, ctx, sequence, requester=None)
    if entered or left:
        names = _names(session, [*entered[:NAMED], *(c for c, _ in left[:NAMED])])
        lines = []
        if entered:
            lines.append(f"Entered ({len(entered)}): {_listed([names[c] for c in entered[:NAMED]], len(entered))}.")
        if left:
            gone = [f"{names[c]}: {why}" for c, why in left[:NAMED]]
            lines.append(f"Left ({len(left)}): {_listed(gone, len(left), '; ')}.")
        replies.insert(
            0,
            Reply(
                title="Suspension sequence", text="\n".join(lines), where=Where(ctx.team.workflow.channels.collections)
            ),
        )
    return replies


def _may_be_due_on_entry(ctx: AppContext) -> bool:
    """Only a sequence whose first step is the request itself can have it due the day it enters
    (the request is the last step, so the sequence has just that one); the rest need not be read
    back as objects."""
    return ctx.team.workflow.suspension.steps[0].does == REQUEST


def _sequences(session: Session, ids: list[int]) -> list[SuspensionSequence]:
    found: list[SuspensionSequence] = []
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        found += session.scalars(
            select(SuspensionSequence).where(SuspensionSequence.id.in_(chunk)).order_by(SuspensionSequence.id)
        )
    return found


def _listed(shown: list[str], total: int, separator: str = ", ") -> str:
    more = f"{separator}and {total - len(shown)} more (`suspension` lists them)" if total > len(shown) else ""
    return separator.join(shown) + more


def _names(session: Session, customer_ids: list[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    return {c.id: describe(c) for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}


ENDED_WORDS = {
    PAID_DOWN: "no longer over the threshold",
    SUSPENDED: "service suspended",
    REQUEST_REJECTED: "suspension request not approved",
    ON_HOLD: "put on hold",
    "stopped": "stopped by a manager",
}


def _ends_because(
    sequence: SuspensionSequence, owed: dict[int, Decimal], holds: dict[int, str], decided: dict[int, ApprovalStatus]
) -> str | None:
    kind = holds.get(sequence.customer_id)
    if kind is not None:
        return SUSPENDED if kind == SUSPENSION_KIND else ON_HOLD
    if sequence.request_id is not None and decided.get(sequence.request_id) in (
        ApprovalStatus.REJECTED,
        ApprovalStatus.EXPIRED,
    ):
        return REQUEST_REJECTED
    if sequence.customer_id not in owed:
        return PAID_DOWN
    return None


def tick(session: Session, ctx: AppContext, activity: Activity, actor: Actor | None) -> list[Reply]:
    """A logged call, voicemail or email on an account in the sequence: when it is what the next
    step asks for, the step is done (by this activity). The person who logged it hears so, and
    what comes next; when that is the request and its day has come, it is opened now."""
    sequence = active_sequence(session, activity.customer_id)
    step = next_step(sequence) if sequence is not None else None
    if sequence is None or step is None or activity.kind not in TICKED_BY[step.does]:
        return []
    day, now = ctx.today(), ctx.clock.now()
    steps = list(sequence.steps)
    steps[sequence.step] = {**steps[sequence.step], "done_on": day.isoformat(), "done_by": {"activity": activity.id}}
    _advance(sequence, steps)
    session.flush()
    record(
        session,
        at=now,
        actor=actor.email if actor else "mail",
        action="suspension.step_done",
        entity_type="suspension_sequence",
        entity_id=sequence.id,
        customer_id=sequence.customer_id,
        step=step.number,
        name=step.name,
        activity_id=activity.id,
    )
    following = next_step(sequence)
    text = f"Suspension step {step.number} of {step.of} done: {step.name}."
    if following is not None:
        text += f" Next: {following.name}, due {format_day(following.due)}."
        if following.does == "notice" and ctx.team.workflow.suspension.notice_copy:
            text += f" Copy {copy_list(ctx.team)}."
    replies = [Reply(title="Suspension sequence", text=text, tone=Tone.SUCCESS)]
    return replies + open_due_request(session, ctx, sequence, requester=actor)


def _advance(sequence: SuspensionSequence, steps: list[dict[str, object]]) -> None:
    sequence.steps = steps  # a new list, so the JSON column is written
    sequence.step += 1
    following = next_step(sequence)
    sequence.step_due = following.due if following is not None else None


def open_due_request(
    session: Session, ctx: AppContext, sequence: SuspensionSequence, *, requester: Actor | None
) -> list[Reply]:
    """The last step, when it is next and its day has come: a service suspension hold request in
    the account collector's name (so the collector cannot approve it), once. An account with a
    hold request already waiting is tied to that one; an account without a collector is said so
    in the collections channel, every morning, until it has one."""
    step = next_step(sequence)
    if step is None or step.does != REQUEST or step.due > ctx.today():
        return []
    customer = session.get_one(Customer, sequence.customer_id)
    actor = _collector(session, ctx, customer) or (
        requester if requester and requester.member.has("collector") else None
    )
    waiting = pending_request(session, customer_id=customer.id, kind=ApprovalKind.HOLD)
    if waiting is None and actor is None:
        return [
            Reply(
                title=f"Suspension request for {describe(customer)} waits for a collector",
                text=(
                    f"{describe(customer)} has done every suspension step but has no collector to ask for "
                    "the suspension. Assign one in the next import."
                ),
                tone=Tone.WARNING,
                where=Where(ctx.team.workflow.channels.collections),
            )
        ]
    replies: list[Reply] = []
    if waiting is None and actor is not None:
        replies = open_request(
            session,
            ctx,
            actor=actor,
            kind=ApprovalKind.HOLD,
            customer=customer,
            reason=_request_reason(session, ctx, sequence, customer),
            details={HOLD_KIND: SUSPENSION_KIND, "suspension_sequence": sequence.id},
        )
        waiting = pending_request(session, customer_id=customer.id, kind=ApprovalKind.HOLD)
        if requester is None or actor.email != requester.email:
            # Opened by the morning job: the acknowledgement goes to the collector in private.
            replies = [r if r.where is not None else replace(r, to_user=actor.email) for r in replies]
    if waiting is None:
        return replies
    steps = list(sequence.steps)
    steps[sequence.step] = {
        **steps[sequence.step],
        "done_on": ctx.today().isoformat(),
        "done_by": {"request": waiting.id},
    }
    sequence.request_id = waiting.id
    _advance(sequence, steps)
    session.flush()
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email if actor else JOB_ACTOR,
        action="suspension.step_done",
        entity_type="suspension_sequence",
        entity_id=sequence.id,
        customer_id=customer.id,
        step=step.number,
        name=step.name,
        request_id=waiting.id,
    )
    return replies


def _request_reason(session: Session, ctx: AppContext, sequence: SuspensionSequence, customer: Customer) -> str:
    owed = over_threshold(session, ctx, ctx.today()).get(customer.id, ZERO)
    done = sum(1 for s in sequence.steps if s["done_on"])
    return (
        f"suspension sequence since {format_day(sequence.entered_on)}: {plural(done, 'step')} done, "
        f"{money(customer, owed)} over {ctx.team.workflow.suspension.threshold_days} days past due"
    )


def _collector(session: Session, ctx: AppContext, customer: Customer) -> Actor | None:
    if customer.collector_id is None:
        return None
    row = session.get(TeamMember, customer.collector_id)
    member = ctx.team.member(row.email) if row is not None and row.active else None
    return Actor(member, customer.collector_id) if member is not None and row is not None else None
