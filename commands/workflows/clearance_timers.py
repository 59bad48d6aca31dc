"""Clearance requests nobody decided: a reminder in the card's thread to whoever may decide it after
the remind hours, then an escalation to the managers after the escalate hours (the urgent hours for
an urgent request). The rule (business hours, once per request) is
:mod:`commands.workflows.request_timers`'s; the words are here."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.member_names import member_name
from commands.messages import Reply, Tone
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.workflows.clearance import PENDING, TIMER_ACTOR, decider_emails, manager_emails, placed
from commands.workflows.clearance_card import asked, card_key
from commands.workflows.request_timers import RequestTimers, hours_text, run_request_timers
from storage.audit import record
from storage.models import ClearanceRequest, Customer


def run_timers(session: Session, ctx: AppContext) -> list[Reply]:
    """Remind undecided requests in the card's thread after the remind hours, and tell the
    managers after the escalate hours (the urgent hours for urgent requests); the rule is
    :mod:`commands.workflows.request_timers`'s, the words are below."""
    return run_request_timers(session, ctx, _TIMERS)


def _reminder(
    session: Session, ctx: AppContext, clearance: ClearanceRequest, hours: float, now: datetime
) -> list[Reply]:
    customer = session.get_one(Customer, clearance.customer_id)
    record(
        session,
        at=now,
        actor=TIMER_ACTOR,
        action="clearance.reminded",
        entity_type="clearance_request",
        entity_id=clearance.id,
        customer_id=customer.id,
        business_hours=hours,
    )
    asker = member_name(session, clearance.requested_by_id) or "Client services"
    reminder = Reply(
        title=f"Reminder: {asked(clearance, describe(customer))} has waited {hours_text(hours)}",
        text=f"{asker} is waiting. Press Clear or Refuse on the card.",
        tone=Tone.WARNING,
        mentions=decider_emails(session, ctx, clearance),
    )
    return [replace(placed(session, ctx, clearance, reminder), thread_of=card_key(clearance.id))]


def _escalation(
    session: Session, ctx: AppContext, clearance: ClearanceRequest, hours: float, now: datetime
) -> list[Reply]:
    customer = session.get_one(Customer, clearance.customer_id)
    managers = manager_emails(ctx)
    record(
        session,
        at=now,
        actor=TIMER_ACTOR,
        action="clearance.escalated",
        entity_type="clearance_request",
        entity_id=clearance.id,
        customer_id=customer.id,
        business_hours=hours,
        to=list(managers),
    )
    asker = member_name(session, clearance.requested_by_id) or "Client services"
    routed = member_name(session, clearance.routed_to_id)
    waiting_on = f"{routed} has not decided it" if routed else "nobody has decided it"
    urgent = " Urgent: needed the same day." if clearance.urgent else ""
    needed = f" (needed {format_day(clearance.needed_on)})" if clearance.needed_on else ""
    note = Reply(
        title=f"Clearance unanswered for {hours_text(hours)}: {describe(customer)}",
        text=(
            f"{asker} asked to clear {describe(customer)} for {clearance.what}{needed}; {waiting_on}. "
            f"Not cleared at once: {'; '.join(clearance.blockers)}.{urgent}"
        ),
        tone=Tone.WARNING,
    )
    thread_note = Reply(
        title=f"Escalated to the managers after {hours_text(hours)}", tone=Tone.WARNING, mentions=managers
    )
    return [replace(note, to_user=m) for m in managers] + [
        replace(placed(session, ctx, clearance, thread_note), thread_of=card_key(clearance.id))
    ]


_TIMERS = RequestTimers(
    model=ClearanceRequest,
    pending=PENDING,
    hours=lambda t: (t.clearance_remind_hours, t.clearance_escalate_hours),
    remind=_reminder,
    escalate=_escalation,
)
