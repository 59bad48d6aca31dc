"""Reminding and escalating requests that wait for someone: payment confirmations (finance) and
clearance requests (the collector). Both follow one rule, kept here once: after the remind hours
a reminder in the card's thread, after the escalate hours an escalation (the urgent hours for an
urgent request), hours counted as business hours inside the working day, each step once per
request even with two schedulers running, because the request is stamped with a conditional
UPDATE before anything is said. What each says, and whom it tells, is the workflow's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.approval_rules import Timers
from commands.context import AppContext
from commands.messages import Reply
from storage.row_counts import rows_changed


class Waiting(Protocol):
    """What a request that can be reminded has (PaymentConfirmation, ClearanceRequest)."""

    id: Any
    created_at: Any
    urgent: Any


R = TypeVar("R", bound=Waiting)
Say = Callable[[Session, AppContext, R, float, datetime], list[Reply]]


@dataclass(frozen=True)
class RequestTimers(Generic[R]):
    model: type[R]
    pending: object  # the status value of a request still waiting
    hours: Callable[[Timers], tuple[float, float]]  # (remind, escalate) for a request that is not urgent
    remind: Say[R]
    escalate: Say[R]


def run_request_timers(session: Session, ctx: AppContext, timed: RequestTimers[R]) -> list[Reply]:
    """Remind, then escalate, every request of ``timed.model`` still waiting, each step once."""
    timers, now = ctx.team.workflow.timers, ctx.clock.now()
    model: Any = timed.model  # a mapped class: its columns are read by name
    replies: list[Reply] = []
    for request in session.scalars(select(model).where(model.status == timed.pending).order_by(model.id)).all():
        waited = ctx.calendar.business_hours_between(
            request.created_at, now, ctx.team.timezone, timers.workday_start, timers.workday_end
        )
        remind, escalate = (
            (timers.urgent_remind_hours, timers.urgent_escalate_hours) if request.urgent else timed.hours(timers)
        )
        if waited >= remind and _stamp(session, timed, request, "reminded_at", now):
            replies += timed.remind(session, ctx, request, remind, now)
        if waited >= escalate and _stamp(session, timed, request, "escalated_at", now):
            replies += timed.escalate(session, ctx, request, escalate, now)
    return replies


def _stamp(session: Session, timed: RequestTimers[R], request: R, column: str, now: datetime) -> bool:
    """Set ``column`` if it is still empty and the request still waiting; True if this call did."""
    model: Any = timed.model
    changed = rows_changed(
        session,
        update(model)
        .where(model.id == request.id, model.status == timed.pending, getattr(model, column).is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False),
    )
    return changed == 1


def hours_text(hours: float) -> str:
    """``1 business hour``, ``2.5 business hours``: how long a request has waited, in words."""
    return f"{hours:g} business hour" + ("" if hours == 1 else "s")
