"""The payment confirmation card finance sees: what the customer says it paid, who asked, and
the account around it, with Confirm / Not received / Partial while it waits; once answered, the
same card says who answered and when, and has no buttons left to press."""

from __future__ import annotations

from dataclasses import dataclass

from commands.account_card import status_reply
from commands.accounts import AccountSummary
from commands.context import AppContext
from commands.messages import Button, ButtonStyle, Field, Reply, Tone
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.wording import local_moment, money
from storage.models import ConfirmationStatus, Customer, PaymentConfirmation

CONFIRM = "confirmation.confirm"
NOT_RECEIVED = "confirmation.not_received"
PARTIAL = "confirmation.partial"

_ASK = (
    "Did this payment arrive and clear? Press Confirm, Not received, or Partial with the "
    "amount received. Questions for the collector go in this thread."
)
_TITLES = {
    ConfirmationStatus.PENDING: "Payment to confirm",
    ConfirmationStatus.CONFIRMED: "Payment confirmed",
    ConfirmationStatus.PARTIAL: "Payment partly confirmed",
    ConfirmationStatus.NOT_RECEIVED: "Payment not received",
}
_TONES = {
    ConfirmationStatus.PENDING: Tone.INFO,
    ConfirmationStatus.CONFIRMED: Tone.SUCCESS,
    ConfirmationStatus.PARTIAL: Tone.WARNING,
    ConfirmationStatus.NOT_RECEIVED: Tone.WARNING,
}


@dataclass(frozen=True)
class CardFacts:
    """Everything the card shows, read in the transaction that posts or updates it."""

    confirmation: PaymentConfirmation
    summary: AccountSummary
    requester: str
    collector: str | None
    decider: str | None = None


def card_key(confirmation_id: int) -> str:
    """The tracked-post key of a confirmation's card; replies in its thread find it by this."""
    return f"confirmation:{confirmation_id}"


def confirmation_id_of(key: str | None) -> int | None:
    """The confirmation a tracked-post key names, or None for any other kind of post."""
    prefix, _, number = (key or "").partition(":")
    return int(number) if prefix == "confirmation" and number.isdigit() else None


def payment_card(facts: CardFacts, ctx: AppContext) -> Reply:
    """The card as it stands: pending (with buttons) or answered (with who and when)."""
    confirmation, customer = facts.confirmation, facts.summary.customer
    status = confirmation.status
    account = status_reply(facts.summary, ctx, collector=facts.collector)
    lead = _ASK if status is ConfirmationStatus.PENDING else decision_line(confirmation, customer, facts.decider, ctx)
    text = "\n".join(part for part in (lead, account.text) if part)
    buttons = _buttons(confirmation.id) if status is ConfirmationStatus.PENDING else ()
    tone = Tone.WARNING if confirmation.urgent and status is ConfirmationStatus.PENDING else _TONES[status]
    return Reply(
        title=f"{_TITLES[status]}: {describe(customer)}",
        text=text,
        fields=claim_fields(facts) + account.fields,
        rows=account.rows,
        buttons=buttons,
        tone=tone,
    )


def claim_fields(facts: CardFacts) -> tuple[Field, ...]:
    """What was claimed, as the collector typed it; "not given" rather than a blank."""
    confirmation, customer = facts.confirmation, facts.summary.customer
    return (
        Field("Amount", money(customer, confirmation.amount)),
        Field("Date paid", format_day(confirmation.paid_on)),
        Field("Method", confirmation.method or "not given"),
        Field("Reference", confirmation.reference or "not given"),
        Field("Requested by", facts.requester),
        Field("Urgent", "yes (a hold blocks product release or scheduling)" if confirmation.urgent else "no"),
    )


def decision_line(confirmation: PaymentConfirmation, customer: Customer, decider: str | None, ctx: AppContext) -> str:
    """ "Confirmed by Priya Shah at Mon 23 Nov 2026 09:14", as the card and a late clicker see it."""
    who = decider or "finance"
    when = local_moment(ctx, confirmation.decided_at) if confirmation.decided_at else "an unknown time"
    if confirmation.status is ConfirmationStatus.CONFIRMED:
        return f"Confirmed by {who} at {when}"
    if confirmation.status is ConfirmationStatus.PARTIAL:
        received = confirmation.confirmed_amount or confirmation.amount
        return (
            f"Partly confirmed by {who} at {when}: {money(customer, received)} of "
            f"{money(customer, confirmation.amount)} received"
        )
    if confirmation.status is ConfirmationStatus.NOT_RECEIVED:
        return f"Marked not received by {who} at {when}"
    return "Waiting for finance"


def _buttons(confirmation_id: int) -> tuple[Button, ...]:
    return (
        Button("Confirm", CONFIRM, {"id": confirmation_id}, ButtonStyle.PRIMARY),
        Button("Not received", NOT_RECEIVED, {"id": confirmation_id}, ButtonStyle.DANGER),
        Button("Partial", PARTIAL, {"id": confirmation_id, "needs": "amount"}),
    )
