"""``hold <customer> <reason>``: ask for a hold on an account (stop releasing work or booking
it) in the approvals channel; an approver's decision places it and tells the channels that act
on holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.common import local_moment
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.holds import active_holds
from commands.messages import Reply
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_customer, resolve_first
from commands.parsing.notes import read_note
from commands.parsing.text import name_ends, phrase, tokenize
from commands.refusal import Refusal
from commands.workflows.approvals import open_request, pending_request
from storage.models import ApprovalKind, Customer

USAGE = "hold <customer> <reason>"


@dataclass(frozen=True)
class CustomerAndText:
    customer: Customer
    text: str | None  # the free text after the customer's name, None when there is none


def read_customer_and_text(env: ParseEnv, args: str) -> CustomerAndText | Refusal:
    """A customer followed by free text (a reason). The longest run of leading words that names
    exactly one customer is the name, so ``summit ortho 90 days late`` is Summit Ortho with the
    reason "90 days late", not "Summit" with "ortho 90 days late"; a quoted name is taken whole."""
    tokens = tokenize(args)
    if not tokens:
        return Refusal("which customer? Name it by its ERP id or by part of its name")
    ends = [1] if tokens[0].quoted else [*name_ends(tokens, MAX_NAME_LENGTH), len(tokens)]
    found = resolve_first(env.session, [(phrase(tokens[:i]), i) for i in reversed(ends)])
    if isinstance(found, Refusal):
        # No run of words names one customer; what the first word matches explains it best.
        first_word = resolve_customer(env.session, tokens[0].text)
        return first_word if isinstance(first_word, Refusal) else found
    customer, i = found
    text = read_note(args[tokens[i - 1].end:]) if i < len(tokens) else None
    if isinstance(text, Refusal):
        return text.with_understood(f"customer {describe(customer)}")
    return CustomerAndText(customer, text)


def parse(args: str, env: ParseEnv) -> CustomerAndText | Refusal:
    read = read_customer_and_text(env, args)
    if isinstance(read, Refusal):
        return read
    if read.text is None:
        return Refusal("say why the account should go on hold, after the customer",
                       f"customer {describe(read.customer)}")
    return read


def handle(request: CustomerAndText, actor: Actor, ctx: AppContext, *,
           session: Session) -> list[Reply] | Refusal:
    customer, understood = request.customer, f"customer {describe(request.customer)}"
    held = active_holds(session, customer.id)
    if held:
        return Refusal(f"{describe(customer)} is already on hold since {local_moment(ctx, held[0].placed_at)}: "
                       f"{held[0].reason}", understood)
    waiting = pending_request(session, customer_id=customer.id, kind=ApprovalKind.HOLD)
    if waiting is not None:
        return Refusal(f"a hold on {describe(customer)} is already waiting for approval "
                       f"(request #{waiting.id})", understood)
    return open_request(session, ctx, actor=actor, kind=ApprovalKind.HOLD, customer=customer,
                        reason=request.text or "")


COMMAND = Command(
    name="hold", usage=USAGE, parse=parse, handle=handle,
    summary="Ask for a hold on an account; an approver decides in the approvals channel.",
    examples=("hold acme dental final invoice 120 days past due", 'hold "Summit Ortho, P.C." retainer unpaid'),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
