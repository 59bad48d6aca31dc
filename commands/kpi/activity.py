"""What the team did in a period, from the chat side of the ledger: promises kept and broken,
meaningful contacts, how long disputes, payment confirmations and approvals took.

Times people wait on each other (confirmations, approvals) are counted in business hours inside
the team's working day, the same clock the reminders run on; a dispute's cycle is calendar days
(a customer's dispute does not stop at weekends)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.disputes import cycle_days
from commands.kpi.receivables import ZERO
from storage.models import (
    Activity,
    ApprovalRequest,
    ApprovalStatus,
    ConfirmationStatus,
    Customer,
    Dispute,
    DisputeStatus,
    Outcome,
    PaymentConfirmation,
    Promise,
    PromiseStatus,
    TeamMember,
)

TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Promises:
    """Promises whose promised date falls in the period, by how they ended."""

    kept: int
    broken: int
    kept_amount: Decimal
    broken_amount: Decimal


@dataclass(frozen=True)
class Spread:
    """Average, median and longest of some durations (None when there were none)."""

    count: int
    average: Decimal | None
    median: Decimal | None
    longest: Decimal | None

    @classmethod
    def of(cls, values: Sequence[Decimal]) -> Spread:
        if not values:
            return cls(0, None, None, None)
        return cls(
            len(values),
            (sum(values, Decimal(0)) / len(values)).quantize(TENTH),
            Decimal(statistics.median(values)).quantize(TENTH),
            max(values).quantize(TENTH),
        )


@dataclass(frozen=True)
class Confirmations:
    """Payment confirmations answered in the period, in business hours from request to answer."""

    hours: Spread
    within_target: int  # answered within one business day (one working day's hours)


@dataclass(frozen=True)
class Window:
    """The period as instants: local midnight of ``first`` to local midnight after ``last``."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, ctx: AppContext, first: date, last: date) -> Window:
        tz = ctx.team.timezone
        return cls(
            first, last, datetime.combine(first, time(0), tz), datetime.combine(last + timedelta(days=1), time(0), tz)
        )


def _customers_of(collector_id: int):  # type: ignore[no-untyped-def]
    return select(Customer.id).where(Customer.collector_id == collector_id)


def promises(session: Session, window: Window, *, collector_id: int | None = None) -> Promises:
    """Promises due in the period that were kept or broken (open or cancelled ones are neither)."""
    stmt = (
        select(Promise.status, func.count(), func.sum(Promise.amount))
        .where(
            Promise.promised_date.between(window.first, window.last),
            Promise.status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]),
        )
        .group_by(Promise.status)
    )
    if collector_id is not None:
        stmt = stmt.where(Promise.customer_id.in_(_customers_of(collector_id)))
    found = {status: (count, Decimal(total)) for status, count, total in session.execute(stmt)}
    kept, broken = found.get(PromiseStatus.KEPT, (0, ZERO)), found.get(PromiseStatus.BROKEN, (0, ZERO))
    return Promises(kept=kept[0], broken=broken[0], kept_amount=kept[1], broken_amount=broken[1])


def meaningful_contacts(session: Session, window: Window, *, collector_id: int | None = None) -> dict[str, int]:
    """Reached contacts with a named person, per collector (by email), in the period."""
    stmt = (
        select(TeamMember.email, func.count())
        .select_from(Activity)
        .join(TeamMember, TeamMember.id == Activity.member_id)
        .where(
            Activity.outcome == Outcome.REACHED,
            Activity.contact_name.is_not(None),
            func.trim(Activity.contact_name) != "",
            Activity.occurred_at >= window.start,
            Activity.occurred_at < window.end,
        )
        .group_by(TeamMember.email)
        .order_by(TeamMember.email)
    )
    if collector_id is not None:
        stmt = stmt.where(Activity.member_id == collector_id)
    return {email: count for email, count in session.execute(stmt)}


def dispute_cycles(session: Session, window: Window, *, collector_id: int | None = None) -> dict[str, Spread]:
    """Days from opened to resolved of the disputes resolved in the period, by reason (as typed,
    without case), with every reason together under "all"."""
    stmt = select(Dispute.reason, Dispute.opened_at, Dispute.resolved_at).where(
        Dispute.status == DisputeStatus.RESOLVED, Dispute.resolved_at >= window.start, Dispute.resolved_at < window.end
    )
    if collector_id is not None:
        stmt = stmt.where(Dispute.customer_id.in_(_customers_of(collector_id)))
    by_reason: dict[str, list[Decimal]] = defaultdict(list)
    for reason, opened, resolved in session.execute(stmt):
        if resolved is None:  # the query asks for resolved disputes only
            continue
        days = cycle_days(opened, resolved)
        by_reason[" ".join(reason.lower().split())].append(days)
        by_reason["all"].append(days)
    return {reason: Spread.of(days) for reason, days in sorted(by_reason.items())}


def _business_hours(ctx: AppContext, start: datetime, end: datetime) -> Decimal:
    timers = ctx.team.workflow.timers
    hours = ctx.calendar.business_hours_between(start, end, ctx.team.timezone, timers.workday_start, timers.workday_end)
    return Decimal(str(round(hours, 2)))


def workday_hours(ctx: AppContext) -> Decimal:
    """One business day, in hours: the team's working day."""
    timers = ctx.team.workflow.timers
    start = datetime.combine(date(2000, 1, 3), timers.workday_start)
    return Decimal((datetime.combine(date(2000, 1, 3), timers.workday_end) - start).seconds) / 3600


def confirmations(
    ctx: AppContext, session: Session, window: Window, *, collector_id: int | None = None
) -> Confirmations:
    """Payment confirmations finance answered in the period, against the one-business-day target."""
    stmt = select(PaymentConfirmation.created_at, PaymentConfirmation.decided_at).where(
        PaymentConfirmation.status != ConfirmationStatus.PENDING,
        PaymentConfirmation.decided_at >= window.start,
        PaymentConfirmation.decided_at < window.end,
    )
    if collector_id is not None:
        stmt = stmt.where(PaymentConfirmation.requested_by_id == collector_id)
    hours = [_business_hours(ctx, asked, answered) for asked, answered in session.execute(stmt) if answered is not None]
    target = workday_hours(ctx)
    return Confirmations(hours=Spread.of(hours), within_target=sum(h <= target for h in hours))


def approvals(ctx: AppContext, session: Session, window: Window, *, collector_id: int | None = None) -> Spread:
    """Business hours from request to decision of the approvals decided in the period."""
    stmt = select(ApprovalRequest.created_at, ApprovalRequest.decided_at).where(
        ApprovalRequest.status.in_([ApprovalStatus.APPROVED, ApprovalStatus.REJECTED]),
        ApprovalRequest.decided_at >= window.start,
        ApprovalRequest.decided_at < window.end,
    )
    if collector_id is not None:
        stmt = stmt.where(ApprovalRequest.requested_by_id == collector_id)
    return Spread.of(
        [_business_hours(ctx, asked, decided) for asked, decided in session.execute(stmt) if decided is not None]
    )
