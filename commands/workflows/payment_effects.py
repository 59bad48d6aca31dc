"""What finance's answer does to the ledger and who hears about it: the confirmed money becomes a
Payment, settles the customer's open promises, frees a held account (or tells the approvals
channel it may be freed), and the collector who asked is told in the card's thread. A promise it
keeps can move the promise-kept rate past its target; the collections channel is told then."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.holds import Clearing, active_holds, clearing, release_hold
from commands.kpi.alerts import check_targets
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.retainer_replenishment import replenishment_requests
from commands.retainers import Standing
from commands.settlement import settle_payment
from commands.wording import money, typed_name
from commands.workflows import retainer_gate
from commands.workflows.payment_card import CardFacts
from storage.audit import record
from storage.models import (
    ApprovalRequest,
    ConfirmationStatus,
    Customer,
    Hold,
    Payment,
    PaymentConfirmation,
    Promise,
    PromiseStatus,
    TeamMember,
)

RELEASE_REASON = "payment confirmed by finance"
_NOT_RECEIVED_ADVICE = (
    "Nothing was recorded. Check the payment details with the customer (date, amount, "
    "reference) and ask again once they can show it was sent."
)


@dataclass(frozen=True)
class Effects:
    """What happened, as lines for the collector, and the posts for other channels."""

    lines: tuple[str, ...] = ()
    announcements: tuple[Reply, ...] = ()


def effects_of_payment(
    session: Session,
    ctx: AppContext,
    *,
    confirmation: PaymentConfirmation,
    customer: Customer,
    actor: Actor,
    at: datetime,
) -> Effects:
    """Record what finance confirmed; nothing at all when it was not received."""
    received = confirmation.confirmed_amount
    if received is None:
        return Effects()
    payment = Payment(
        customer_id=customer.id,
        amount=received,
        received_on=confirmation.paid_on,
        method=confirmation.method,
        reference=confirmation.reference,
        source="finance",
        created_at=at,
    )
    session.add(payment)
    session.flush()
    confirmation.payment_id = payment.id
    record(
        session,
        at=at,
        actor=actor.email,
        action="payment.recorded",
        entity_type="payment",
        entity_id=payment.id,
        customer_id=customer.id,
        amount=received,
        received_on=payment.received_on,
        confirmation_id=confirmation.id,
        source="finance",
    )
    settled = settle_payment(
        session,
        payment=payment,
        at=at,
        actor=actor.email,
        grace_days=ctx.team.workflow.timers.promise_grace_days,
        calendar=ctx.calendar,
        tz=ctx.team.timezone,
    )
    lines = [f"Recorded as a payment received {format_day(payment.received_on)}."]
    lines += [_promise_line(customer, promise) for promise in settled]
    hold_lines, announcements = _free_held_account(session, ctx, confirmation, customer, actor, at)
    # A promise kept moves the promise-kept rate: the channel hears if it crossed its target.
    crossed = check_targets(ctx, session, ctx.today()) if settled else []
    retainer = replenishment_requests(session, ctx, actor=actor.email, customer_ids=[customer.id])
    return Effects(tuple(lines + hold_lines), tuple(announcements) + tuple(crossed) + tuple(retainer))


def _promise_line(customer: Customer, promise: Promise) -> str:
    what = f"Promise of {money(customer, promise.amount)} due {format_day(promise.promised_date)}"
    if promise.status is PromiseStatus.KEPT:
        return f"{what}: kept."
    if promise.status is PromiseStatus.BROKEN:
        return f"{what}: covered, but after its deadline, so it counts as broken."
    return f"{what}: {money(customer, promise.paid_amount)} paid so far."


def _free_held_account(
    session: Session, ctx: AppContext, confirmation: PaymentConfirmation, customer: Customer, actor: Actor, at: datetime
) -> tuple[list[str], list[Reply]]:
    """A hold ends when the money it was placed for is paid (:func:`commands.holds.clearing`),
    the retainer gate lets it (:func:`commands.workflows.retainer_gate.closed`, the same check
    an approver's release passes) and the team's policy lets a confirmed payment release it. A
    smaller payment leaves it in place and says in the hold's thread what is left; a short
    retainer keeps it and says why and how to go on; a policy that wants a person to decide only
    tells the approvals channel the account can be released and how to ask."""
    holds = active_holds(session, customer.id)
    if not holds:
        return [], []
    short = [(hold, owed) for hold in holds if not (owed := clearing(session, hold, today=ctx.today())).cleared]
    if short:
        return _still_held(ctx, customer, *short[0])
    retainer = retainer_gate.closed(session, customer)
    if retainer is not None:
        return _retainer_keeps_hold(session, ctx, confirmation, customer, holds[0], retainer, actor, at)
    channels = ctx.team.workflow.channels
    if ctx.team.workflow.timers.release_on_confirmed_payment:
        announced = [
            reply
            for hold in holds
            for reply in release_hold(session, ctx, hold=hold, actor_email=actor.email, reason=RELEASE_REASON, at=at)
        ]
        told = ", ".join(f"#{c}" for c in channels.hold_announcements)
        return [f"The hold is released{'; announced to ' + told if told else ''}."], announced
    record(
        session,
        at=at,
        actor=actor.email,
        action="confirmation.release_eligible",
        entity_type="payment_confirmation",
        entity_id=confirmation.id,
        customer_id=customer.id,
        holds=[h.id for h in holds],
    )
    note = Reply(
        title=f"{describe(customer)} is on hold and has paid what the hold was for",
        text=(
            "The account can be released from hold on request. To ask, type: "
            f"release {typed_name(customer)} {RELEASE_REASON}"
        ),
        where=Where(channels.approvals),
    )
    return [f"The account stays on hold; #{channels.approvals} is told it can be released on request."], [note]


def _retainer_keeps_hold(
    session: Session,
    ctx: AppContext,
    confirmation: PaymentConfirmation,
    customer: Customer,
    hold: Hold,
    retainer: Standing,
    actor: Actor,
    at: datetime,
) -> tuple[list[str], list[Reply]]:
    """The money the hold was for is paid, but the retainer is short: the same gate an
    approver's release passes (:mod:`commands.workflows.retainer_gate`) keeps the hold, since
    nobody is here to override it. The collector (in the answer) and whoever approved the hold
    (directly) hear the shortfall and the two ways on: replenish it, or a release approved with
    an override."""
    record(
        session,
        at=at,
        actor=actor.email,
        action="hold.release_waits_for_retainer",
        entity_type="hold",
        entity_id=hold.id,
        customer_id=customer.id,
        confirmation_id=confirmation.id,
        required=retainer.required,
        held=retainer.held,
        shortfall=retainer.shortfall,
    )
    why = f"The account stays on hold: its {retainer_gate.short_line(customer, retainer)}."
    how = (
        f"Get the {money(customer, retainer.shortfall)} replenished (the confirmed payment that meets the retainer "
        f"releases the hold), or to release it now type: release {typed_name(customer)} <reason>, and an "
        "approver answers approve override <reason> in the card's thread."
    )
    approver = _hold_approver(session, hold)
    if approver is None or approver.id == confirmation.requested_by_id:
        return [why, how], []
    note = Reply(
        title=f"{describe(customer)} has paid what its hold was for, but its retainer is short",
        text=f"{why}\n{how}",
        tone=Tone.WARNING,
        to_user=approver.email,
    )
    return [why, how], [note]


def _hold_approver(session: Session, hold: Hold) -> TeamMember | None:
    """Who decided the hold: the approver of its request, else whoever placed it."""
    request = session.get(ApprovalRequest, hold.request_id) if hold.request_id else None
    member_id = request.decided_by_id if request is not None else hold.placed_by_id
    return session.get(TeamMember, member_id) if member_id is not None else None


def _still_held(ctx: AppContext, customer: Customer, hold: Hold, owed: Clearing) -> tuple[list[str], list[Reply]]:
    """The payment does not cover what the hold is for: it stays, and the hold's thread (or the
    approvals channel) hears how much is left and how to release it sooner."""
    left, needed = money(customer, owed.left), money(customer, owed.needed)
    note = Reply(
        title=f"{describe(customer)} stays on hold: {left} still to pay",
        text=(
            f"The hold is for {needed} past due; {money(customer, owed.paid)} has been paid since it "
            f"was placed. To release it sooner, type: release {typed_name(customer)} <reason> "
            "(it needs approval)."
        ),
        tone=Tone.WARNING,
    )
    approvals = Where(ctx.team.workflow.channels.approvals)
    in_thread = (
        in_thread_of(note, f"approval:{hold.request_id}", where=approvals)
        if hold.request_id
        else replace(note, where=approvals)
    )
    return [f"The account stays on hold: {left} of the {needed} past due it was placed for is still to pay."], [
        in_thread
    ]


def tell_requester(facts: CardFacts, effects: Effects, card: str, requester_email: str) -> list[Reply]:
    """The collector who asked hears the answer in the card's thread, by name; a payment that
    did not arrive also reaches them directly, since they have to go back to the customer."""
    confirmation, customer = facts.confirmation, facts.summary.customer
    decider, claimed = facts.decider or "Finance", money(customer, confirmation.amount)
    if confirmation.status is ConfirmationStatus.NOT_RECEIVED:
        headline = (
            f"{decider} has not received the {claimed} {describe(customer)} says it paid "
            f"{format_day(confirmation.paid_on)}"
        )
        text, tone = _NOT_RECEIVED_ADVICE, Tone.WARNING
    elif confirmation.status is ConfirmationStatus.PARTIAL:
        received = money(customer, confirmation.confirmed_amount or confirmation.amount)
        headline = f"{decider} confirmed {received} of the {claimed} from {describe(customer)}"
        text, tone = "\n".join(effects.lines), Tone.WARNING
    else:
        headline = f"{decider} confirmed {claimed} from {describe(customer)}"
        text, tone = "\n".join(effects.lines), Tone.SUCCESS
    note = Reply(title=f"{facts.requester}: {headline}", text=text, tone=tone)
    # One message in the card's thread, mentioning the collector so their client notifies them,
    # and the same directly to them: a thread in #finance is not where a collector works.
    in_thread = in_thread_of(replace(note, mentions=(requester_email,)), card)
    return [in_thread, replace(note, to_user=requester_email)]


def in_thread_of(reply: Reply, card: str, *, where: Where | None = None) -> Reply:
    """``reply`` in the thread under the tracked post ``card``; in ``where`` (a channel) when
    that card never went out, so the message still reaches someone. Without ``where`` a reply
    whose card never went out is not sent (a direct message usually says the same)."""
    return replace(reply, thread_of=card, where=where)
