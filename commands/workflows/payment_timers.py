"""Payment confirmations finance has not answered: a reminder in the card's thread mentioning
finance after the remind hours, then an escalation to every finance lead after the escalate hours
(the urgent hours for an urgent request). The rule (business hours, once per request) is
:mod:`commands.workflows.request_timers`'s; the words are here."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.delivery import posted
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.wording import money
from commands.workflows.payment_card import card_key
from commands.workflows.payment_effects import in_thread_of
from commands.workflows.payments import PENDING, TIMER_ACTOR, card_facts
from commands.workflows.request_timers import RequestTimers, hours_text, run_request_timers
from storage.audit import record
from storage.models import PaymentConfirmation


def run_timers(session: Session, ctx: AppContext) -> list[Reply]:
    """Remind unanswered requests in their thread after the remind hours, and escalate to every
    finance lead after the escalate hours (the urgent hours for urgent requests); the rule is
    :mod:`commands.workflows.request_timers`'s, the words are below."""
    return run_request_timers(session, ctx, _TIMERS)


def _reminder(
    session: Session, ctx: AppContext, confirmation: PaymentConfirmation, hours: float, now: datetime
) -> list[Reply]:
    facts = card_facts(session, ctx, confirmation)
    customer = facts.summary.customer
    record(
        session,
        at=now,
        actor=TIMER_ACTOR,
        action="confirmation.reminded",
        entity_type="payment_confirmation",
        entity_id=confirmation.id,
        customer_id=customer.id,
        business_hours=hours,
    )
    reminder = Reply(
        title=f"Reminder: {money(customer, confirmation.amount)} from {describe(customer)} has waited "
        f"{hours_text(hours)} for finance",
        text=f"{facts.requester} is waiting. Answer on the card: Confirm, Not received or Partial.",
        tone=Tone.WARNING,
        mentions=tuple(m.email for m in ctx.team.members if m.has("finance")),
    )
    return [_in_thread(ctx, confirmation, reminder)]


def _escalation(
    session: Session, ctx: AppContext, confirmation: PaymentConfirmation, hours: float, now: datetime
) -> list[Reply]:
    facts = card_facts(session, ctx, confirmation)
    customer = facts.summary.customer
    leads = [m for m in ctx.team.members if m.has("finance_lead")]
    record(
        session,
        at=now,
        actor=TIMER_ACTOR,
        action="confirmation.escalated",
        entity_type="payment_confirmation",
        entity_id=confirmation.id,
        customer_id=customer.id,
        business_hours=hours,
        to=[m.email for m in leads],
    )
    ref = posted(session, card_key(confirmation.id))
    where = f"#{ctx.team.workflow.channels.finance}" + (f", message {ref.message_id}" if ref else "")
    details = ", ".join(filter(None, (confirmation.method, confirmation.reference)))
    how = f" ({details})" if details else ""
    note = Reply(
        title=f"Payment confirmation unanswered for {hours_text(hours)}: {describe(customer)}",
        text=(
            f"{facts.requester} asked finance to confirm {money(customer, confirmation.amount)} paid "
            f"{format_day(confirmation.paid_on)}{how}. Nobody has answered yet. The card is in {where}."
            + (" Urgent: a hold blocks product release or scheduling." if confirmation.urgent else "")
        ),
        tone=Tone.WARNING,
    )
    names = " and ".join(m.name for m in leads) or "nobody (the team file names no finance lead)"
    thread_note = Reply(
        title=f"Escalated to {names} after {hours_text(hours)}",
        tone=Tone.WARNING,
        mentions=tuple(m.email for m in leads),
    )
    return [replace(note, to_user=m.email) for m in leads] + [_in_thread(ctx, confirmation, thread_note)]


def _in_thread(ctx: AppContext, confirmation: PaymentConfirmation, reply: Reply) -> Reply:
    """In the card's thread; in the finance channel itself if the card was never posted."""
    return in_thread_of(reply, card_key(confirmation.id), where=Where(ctx.team.workflow.channels.finance))


_TIMERS = RequestTimers(
    model=PaymentConfirmation,
    pending=PENDING,
    hours=lambda t: (t.finance_remind_hours, t.finance_escalate_hours),
    remind=_reminder,
    escalate=_escalation,
)
