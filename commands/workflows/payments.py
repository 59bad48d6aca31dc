"""Payment confirmation: a collector says the customer paid, finance says whether the money
arrived. The request posts a card in the finance channel; the answer (Confirm, Not received,
Partial) records the payment, settles promises, frees a held account and tells the collector in
the card's thread; unanswered requests are reminded and then escalated to the finance lead.

An answer is taken with a conditional UPDATE on the request still being pending, so a double
click or two finance members at once decide it exactly once; whoever comes second is told who
answered first and nothing else happens."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from commands.accounts import account_balance, account_summary, confirmed_unapplied
from commands.actor import Actor
from commands.context import AppContext
from commands.member_names import member_name, named
from commands.messages import Reply, Tone, Where
from commands.parsing.amounts import parse_amount
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.refusal import Refusal
from commands.wording import money
from commands.workflows.adjustment_ledger import approved_not_shown
from commands.workflows.payment_card import CardFacts, card_key, decision_line, payment_card
from commands.workflows.payment_effects import effects_of_payment, in_thread_of, tell_requester
from storage.audit import record
from storage.models import ConfirmationStatus, Customer, PaymentConfirmation, TeamMember
from storage.row_counts import rows_changed

DECIDER_ROLES = frozenset({"finance", "finance_lead"})
PENDING = ConfirmationStatus.PENDING
TIMER_ACTOR = "system:confirmation_timers"


@dataclass(frozen=True)
class PaymentClaim:
    """What the collector typed: the customer says it paid this, on this day, this way."""

    customer: Customer
    amount: Decimal
    paid_on: date
    method: str | None
    reference: str | None
    urgent: bool


@dataclass(frozen=True)
class Decision:
    """Finance's answer to one request; ``partial`` is the amount received as typed (PARTIAL
    only), read after the answerer's role is checked so a refused attempt is audited whatever
    it says."""

    confirmation_id: int
    outcome: ConfirmationStatus
    partial: str | None = None


def request_confirmation(
    session: Session, ctx: AppContext, *, claim: PaymentClaim, actor: Actor
) -> list[Reply] | Refusal:
    """Open a request and post its card to finance; the same claim twice is refused, so a
    repeated message does not ask finance twice."""
    customer = claim.customer
    twin = session.scalar(
        select(PaymentConfirmation).where(
            PaymentConfirmation.customer_id == customer.id,
            PaymentConfirmation.amount == claim.amount,
            PaymentConfirmation.paid_on == claim.paid_on,
            PaymentConfirmation.status == PENDING,
        )
    )
    if twin is not None:
        if claim.urgent and not twin.urgent:
            return _make_urgent(session, ctx, twin, customer, actor)
        return Refusal(
            f"finance is already asked to confirm {money(customer, claim.amount)} paid "
            f"{format_day(claim.paid_on)} by {describe(customer)} (request #{twin.id}); "
            "follow it in that card's thread"
        )
    too_much = _claim_exceeds_balance(session, customer, claim.amount)
    if too_much is not None:
        return too_much
    now = ctx.clock.now()
    confirmation = PaymentConfirmation(
        customer_id=customer.id,
        requested_by_id=actor.member_id,
        amount=claim.amount,
        paid_on=claim.paid_on,
        method=claim.method,
        reference=claim.reference,
        urgent=claim.urgent,
        status=PENDING,
        created_at=now,
    )
    session.add(confirmation)
    session.flush()
    record(
        session,
        at=now,
        actor=actor.email,
        action="confirmation.requested",
        entity_type="payment_confirmation",
        entity_id=confirmation.id,
        customer_id=customer.id,
        amount=claim.amount,
        paid_on=claim.paid_on,
        method=claim.method,
        reference=claim.reference,
        urgent=claim.urgent,
    )
    finance = ctx.team.workflow.channels.finance
    card = replace(
        payment_card(card_facts(session, ctx, confirmation), ctx), where=Where(finance), track=card_key(confirmation.id)
    )
    ack = Reply(
        title=f"Asked finance to confirm {money(customer, claim.amount)} from {describe(customer)}",
        text=f"Request #{confirmation.id}. Finance answers on the card in #{finance}; you will be told in its thread.",
        tone=Tone.SUCCESS,
    )
    return [card, ack]


def _claim_exceeds_balance(session: Session, customer: Customer, amount: Decimal) -> Refusal | None:
    """A claim for more than the customer owes is a typo or an overpayment; neither is finance's
    confirmation to make. What it owes is the open balance less the credits and write-offs
    approved and not yet in the ERP (the customer no longer owes them), what finance already
    confirmed since the last import and what is already waiting for confirmation."""
    balance = account_balance(session, customer.id)
    credited = approved_not_shown(session, customer.id)
    confirmed = confirmed_unapplied(session, customer.id)
    waiting = (
        session.scalar(
            select(func.coalesce(func.sum(PaymentConfirmation.amount), 0)).where(
                PaymentConfirmation.customer_id == customer.id, PaymentConfirmation.status == PENDING
            )
        )
        or 0
    )
    owed = balance - credited - confirmed - Decimal(waiting)
    if balance <= 0:
        state = "is in credit by " + money(customer, -balance) if balance < 0 else "owes nothing"
        return Refusal(
            f"{describe(customer)} {state}: there is no payment for finance to confirm. "
            "If the customer paid again, tell finance directly"
        )
    if balance - credited <= 0:
        return Refusal(
            f"{describe(customer)} owes {money(customer, balance)}, all of it approved as credits or write-offs: "
            "there is no payment for finance to confirm. If the customer paid anyway, tell finance directly"
        )
    if amount <= owed:
        return None
    parts = [f"{describe(customer)} owes {money(customer, balance)}"]
    if credited:
        parts.append(f"{money(customer, credited)} of it approved as credits or write-offs")
    if confirmed:
        parts.append(f"{money(customer, confirmed)} of it already confirmed by finance")
    if waiting:
        parts.append(f"{money(customer, Decimal(waiting))} already waiting for finance to confirm")
    return Refusal(
        f"{'; '.join(parts)}: a payment of {money(customer, amount)} is more than the "
        f"{money(customer, max(owed, Decimal(0)))} left. Check the amount"
    )


def _make_urgent(
    session: Session, ctx: AppContext, confirmation: PaymentConfirmation, customer: Customer, actor: Actor
) -> list[Reply] | Refusal:
    """The same claim again with ``--urgent``: the pending request is escalated (shorter
    reminder and escalation times from now on) instead of being refused as a repeat."""
    changed = rows_changed(
        session,
        update(PaymentConfirmation)
        .where(
            PaymentConfirmation.id == confirmation.id,
            PaymentConfirmation.status == PENDING,
            PaymentConfirmation.urgent.is_(False),
        )
        .values(urgent=True)
        .execution_options(synchronize_session=False),
    )
    if not changed:
        return Refusal(f"request #{confirmation.id} was answered or made urgent a moment ago; see its card")
    session.refresh(confirmation)
    now = ctx.clock.now()
    record(
        session,
        at=now,
        actor=actor.email,
        action="confirmation.made_urgent",
        entity_type="payment_confirmation",
        entity_id=confirmation.id,
        customer_id=customer.id,
    )
    key = card_key(confirmation.id)
    card = replace(payment_card(card_facts(session, ctx, confirmation), ctx), replaces=key)
    note = in_thread_of(
        Reply(
            title=f"Now urgent: {money(customer, confirmation.amount)} from {describe(customer)}",
            text=f"{actor.member.name} marked this request urgent: a hold is blocking release or scheduling.",
            tone=Tone.WARNING,
        ),
        key,
        where=Where(ctx.team.workflow.channels.finance),
    )
    ack = Reply(
        title=f"Request #{confirmation.id} is now urgent",
        tone=Tone.SUCCESS,
        text=f"Finance is told in the card's thread in #{ctx.team.workflow.channels.finance}.",
    )
    return [card, note, ack]


def decide(session: Session, ctx: AppContext, *, decision: Decision, actor: Actor) -> list[Reply] | Refusal:
    """Finance's answer, from a button or a reply in the card's thread."""
    confirmation = session.get(PaymentConfirmation, decision.confirmation_id)
    if confirmation is None:
        return Refusal(f"there is no payment confirmation #{decision.confirmation_id}")
    customer = session.get_one(Customer, confirmation.customer_id)
    refused = _refuse_decider(session, ctx, confirmation, decision, actor)
    if refused is not None:
        return [refused]
    if confirmation.status is not PENDING:
        return [_already_answered(session, ctx, confirmation, customer)]
    amount = _amount_received(confirmation, customer, decision)
    if isinstance(amount, Refusal):
        return amount
    now = ctx.clock.now()
    if not _take(session, confirmation, decision.outcome, amount, actor, now):
        session.refresh(confirmation)
        return [_already_answered(session, ctx, confirmation, customer)]
    session.refresh(confirmation)
    record(
        session,
        at=now,
        actor=actor.email,
        action=f"confirmation.{decision.outcome.value}",
        entity_type="payment_confirmation",
        entity_id=confirmation.id,
        customer_id=customer.id,
        claimed=confirmation.amount,
        confirmed_amount=amount,
    )
    effects = effects_of_payment(session, ctx, confirmation=confirmation, customer=customer, actor=actor, at=now)
    facts = card_facts(session, ctx, confirmation)
    key = card_key(confirmation.id)
    card = replace(payment_card(facts, ctx), replaces=key)
    requester = session.get_one(TeamMember, confirmation.requested_by_id)
    return [card, *tell_requester(facts, effects, key, requester.email), *effects.announcements]


def _refuse_decider(
    session: Session, ctx: AppContext, confirmation: PaymentConfirmation, decision: Decision, actor: Actor
) -> Reply | None:
    """Only finance answers, and never the person who asked. The refusal is an error reply,
    not a Refusal, so the audit event of the attempt is kept."""
    if not actor.member.roles & DECIDER_ROLES:
        reason, text = "wrong role", f"Only finance can answer payment confirmations: {_finance_names(ctx)}."
    elif confirmation.requested_by_id == actor.member_id:
        others = _finance_names(ctx, besides=actor.email)
        reason = "own request"
        text = f"You asked for this confirmation, so someone else in finance answers it: {others}."
    else:
        return None
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email,
        action="confirmation.refused",
        entity_type="payment_confirmation",
        entity_id=confirmation.id,
        customer_id=confirmation.customer_id,
        reason=reason,
        attempted=decision.outcome.value,
        roles=sorted(actor.member.roles),
    )
    return Reply(
        title=f"You can't answer payment confirmation #{confirmation.id}",
        text=f"{text} Nothing was changed.",
        tone=Tone.ERROR,
        private=True,
    )


def _finance_names(ctx: AppContext, besides: str | None = None) -> str:
    names = [m.name for m in ctx.team.members if m.roles & DECIDER_ROLES and m.email != besides]
    return " or ".join(names) if names else "nobody on the team file has the finance role"


def _amount_received(
    confirmation: PaymentConfirmation, customer: Customer, decision: Decision
) -> Decimal | None | Refusal:
    """What arrived: the claim on Confirm, nothing on Not received, the typed part on Partial
    (more than zero, less than the claim, in the customer's currency)."""
    if decision.outcome is ConfirmationStatus.CONFIRMED:
        return confirmation.amount
    if decision.outcome is ConfirmationStatus.NOT_RECEIVED:
        return None
    if not decision.partial:
        return Refusal("Partial needs the amount that arrived, like Partial 500")
    partial = parse_amount(decision.partial)
    if isinstance(partial, Refusal):
        return partial
    if partial.currency and partial.currency != customer.currency:
        return Refusal(f"{describe(customer)} is billed in {customer.currency}, not {partial.currency}")
    if partial.value >= confirmation.amount:
        return Refusal(
            f"a partial amount must be less than the {money(customer, confirmation.amount)} claimed; "
            f"I read {money(customer, partial.value)}. If it all arrived, press Confirm"
        )
    return partial.value


def _take(
    session: Session,
    confirmation: PaymentConfirmation,
    outcome: ConfirmationStatus,
    amount: Decimal | None,
    actor: Actor,
    now: datetime,
) -> bool:
    """Decide the request if nobody has yet; False when someone else got there first."""
    taken = rows_changed(
        session,
        update(PaymentConfirmation)
        .where(PaymentConfirmation.id == confirmation.id, PaymentConfirmation.status == PENDING)
        .values(status=outcome, confirmed_amount=amount, decided_by_id=actor.member_id, decided_at=now)
        .execution_options(synchronize_session=False),
    )
    return taken == 1


def _already_answered(
    session: Session, ctx: AppContext, confirmation: PaymentConfirmation, customer: Customer
) -> Reply:
    decider = member_name(session, confirmation.decided_by_id)
    return Reply(
        title=f"Payment confirmation #{confirmation.id} was already answered",
        text=f"{decision_line(confirmation, customer, decider, ctx)}. Nothing was changed.",
        private=True,
    )


def card_facts(session: Session, ctx: AppContext, confirmation: PaymentConfirmation) -> CardFacts:
    """The card's content as the ledger stands now (promises just settled show as settled)."""
    customer = session.get_one(Customer, confirmation.customer_id)
    return CardFacts(
        confirmation=confirmation,
        summary=account_summary(session, customer, as_of=ctx.today()),
        requester=named(session, confirmation.requested_by_id),
        collector=member_name(session, customer.collector_id),
        decider=member_name(session, confirmation.decided_by_id),
    )
