"""Finance's answers to a payment confirmation: the card's buttons (Confirm, Not received,
Partial) and the same answers typed in the card's thread the way finance writes them
("Confirmed!", "received it, thanks", "Not received :(", "partial $500").

A thread is where finance and the collector also talk, so what is taken, what is answered with
how to say it, and what is left alone as conversation is decided by one reader,
:mod:`commands.parsing.decisions`. An amount is taken only after ``partial``, or after
``confirm`` when it is the claim itself: "confirm 500" on an $800 claim is asked again, never
guessed. Outside a tracked thread the same words are refused with where to type them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.delivery import tracked_key
from commands.handlers.common import money
from commands.handlers.registry import ActionHandler, ButtonAction, Command, ParseEnv, Parser, Registry
from commands.messages import Reply
from commands.parsing import decisions
from commands.parsing.amounts import parse_amount
from commands.parsing.decisions import PAYMENT_VERDICTS, Doubtful, Verdict
from commands.parsing.text import quote
from commands.refusal import PointsAtNothing, Refusal
from commands.workflows.payment_card import CONFIRM, NOT_RECEIVED, PARTIAL, confirmation_id_of
from commands.workflows.payments import Decision, decide
from storage.models import ConfirmationStatus, Customer, PaymentConfirmation

_WHERE = "in the thread of a payment card in the finance channel (or press the card's button)"
_OUTCOMES = {
    Verdict.CONFIRM: ConfirmationStatus.CONFIRMED,
    Verdict.NOT_RECEIVED: ConfirmationStatus.NOT_RECEIVED,
    Verdict.PARTIAL: ConfirmationStatus.PARTIAL,
}


@dataclass(frozen=True)
class ThreadAnswer:
    """A line typed in a thread: finance's answer, or None when it is conversation."""

    decision: Decision | None


def _button(outcome: ConfirmationStatus) -> ActionHandler:
    def press(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
        confirmation_id = _id_from_button(value)
        if isinstance(confirmation_id, Refusal):
            return confirmation_id
        if session.get(PaymentConfirmation, confirmation_id) is None:
            return PointsAtNothing(
                f"that button points at payment confirmation #{confirmation_id}, which does not exist"
            )
        partial = value.get("amount") if outcome is ConfirmationStatus.PARTIAL else None
        decision = Decision(confirmation_id, outcome, None if partial is None else str(partial))
        return decide(session, ctx, decision=decision, actor=actor)

    return press


def _id_from_button(value: dict[str, Any]) -> int | Refusal:
    """The request a button points at. Only a pointer: who may answer is checked from the
    person who pressed it, never from the button."""
    raw = value.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return PointsAtNothing("that button doesn't say which payment confirmation it is for")


def _typed(usage: str) -> Parser[ThreadAnswer]:
    """The parser every typed answer shares: the whole line is read, whichever word it starts
    with, since "Thanks, confirmed" and "not received" are the same kind of line."""

    def parse(args: str, env: ParseEnv) -> ThreadAnswer | Refusal:
        key = tracked_key(env.session, env.incoming.where)
        if key is None:
            return Refusal(f"type `{usage}` {_WHERE}")
        text = env.incoming.text or ""
        confirmation_id = confirmation_id_of(key)
        if confirmation_id is None:
            if decisions.read(text) is None:
                return ThreadAnswer(None)
            return Refusal(f"this is not a payment confirmation's thread; type `{usage}` {_WHERE}")
        return read_typed(env.session, text, confirmation_id)

    return parse


def read_typed(session: Session, text: str, confirmation_id: int) -> ThreadAnswer | Refusal:
    """Finance's line in a card's thread: an answer, a question back with how to say it, or talk."""
    reading = decisions.read(text)
    if reading is None:
        return ThreadAnswer(None)
    claim = _claim(session, confirmation_id)
    if isinstance(reading, Doubtful):
        return _not_answered(text, reading.verdict, reading.why, claim)
    if reading.verdict not in PAYMENT_VERDICTS:
        return _not_answered(text, reading.verdict, "this card asks whether the money arrived", claim)
    if reading.verdict is Verdict.CONFIRM and reading.amount is not None:
        mismatch = _not_the_claim(reading.amount, claim)
        if mismatch is not None:
            return _not_answered(text, Verdict.CONFIRM, mismatch, claim)
    partial = reading.amount if reading.verdict is Verdict.PARTIAL else None
    return ThreadAnswer(Decision(confirmation_id, _OUTCOMES[reading.verdict], partial))


@dataclass(frozen=True)
class Claim:
    """What the collector said arrived, to check "confirm <amount>" against and to show."""

    amount: Decimal
    currency: str
    shown: str


def _claim(session: Session, confirmation_id: int) -> Claim | None:
    confirmation = session.get(PaymentConfirmation, confirmation_id)
    if confirmation is None:
        return None
    customer = session.get_one(Customer, confirmation.customer_id)
    return Claim(confirmation.amount, customer.currency, money(customer, confirmation.amount))


def _not_the_claim(amount: str, claim: Claim | None) -> str | None:
    """Why "confirm <amount>" cannot be taken, or None when the amount is the claim itself."""
    read = parse_amount(amount)
    if claim is None or isinstance(read, Refusal):
        return f"I can't read {quote(amount)} as the claimed amount"
    if read.value != claim.amount or read.currency not in (None, claim.currency):
        return f"the claim is {claim.shown}, not {amount}"
    return None


def _not_answered(text: str, verdict: Verdict | None, why: str, claim: Claim | None) -> Refusal:
    """Nothing answered, said with what was read and the words that would answer."""
    of = f" (all {claim.shown} arrived)" if claim else ""
    less = f" (less than {claim.shown})" if claim else ""
    return Refusal(
        f"Not answered: {why}. To answer, reply here with `confirm`{of}, `not received`, or `partial <amount>`{less}",
        understood=f"{quote(text)} as {decisions.describe(verdict)}",
    )


def _answer(request: ThreadAnswer, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    if request.decision is None:
        return []
    return decide(session, ctx, decision=request.decision, actor=actor)


COMMANDS = (
    Command(
        name="confirm",
        usage="confirm",
        parse=_typed("confirm"),
        handle=_answer,
        summary="Finance: the claimed payment arrived (type it in the payment card's thread).",
        examples=("confirm", "Confirmed, thanks"),
    ),
    Command(
        name="notreceived",
        usage="not received",
        aliases=("not",),
        parse=_typed("not received"),
        handle=_answer,
        summary="Finance: the claimed payment has not arrived (in the payment card's thread).",
        examples=("not received", "notreceived"),
    ),
    Command(
        name="partial",
        usage="partial <amount>",
        parse=_typed("partial <amount>"),
        handle=_answer,
        summary="Finance: only part of the claimed payment arrived (in the payment card's thread).",
        examples=("partial 500", "partial $1,250.50"),
    ),
)


def register(registry: Registry) -> None:
    for command in COMMANDS:
        registry.add(command)
    registry.add_action(ButtonAction(CONFIRM, _button(ConfirmationStatus.CONFIRMED)))
    registry.add_action(ButtonAction(NOT_RECEIVED, _button(ConfirmationStatus.NOT_RECEIVED)))
    registry.add_action(ButtonAction(PARTIAL, _button(ConfirmationStatus.PARTIAL)))
