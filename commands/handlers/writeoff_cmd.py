"""``writeoff <customer> <amount> <reason>``: recommend writing off part or all of an account's
balance as uncollectible. The approvals channel gets a card with the account's record for the
controller or VP finance (the team file's ``writeoff`` rules); once approved the amount leaves
collection and finance gets the task of booking it (:mod:`commands.workflows.adjustments`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.common import money
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Reply
from commands.parsing.amounts import Amount, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_first
from commands.parsing.notes import read_note
from commands.parsing.text import name_ends, phrase, quote, tokenize
from commands.refusal import Refusal
from commands.workflows.adjustment_ledger import already_asked
from commands.workflows.approvals import open_request
from storage.models import ApprovalKind, Customer

USAGE = "writeoff <customer> <amount> <reason>"


@dataclass(frozen=True)
class WriteoffRequest:
    customer: Customer
    amount: Amount
    reason: str


def parse(args: str, env: ParseEnv) -> WriteoffRequest | Refusal:
    tokens = tokenize(args)
    readings: list[tuple[int, Amount]] = []
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        amount = None if tokens[i].quoted else read_amount(tokens[i].text)
        if isinstance(amount, Refusal):  # looks like an amount but cannot be one: zero, negative
            return amount.with_understood(f"customer {quote(phrase(tokens[:i]))}")
        if amount is not None:
            readings.append((i, amount))
    if not readings:
        return Refusal(
            "I need a customer, then the amount to write off and the reason",
            f"customer {quote(phrase(tokens))}" if tokens else "",
        )
    found = resolve_first(env.session, [(phrase(tokens[:i]), (i, amount)) for i, amount in readings])
    if isinstance(found, Refusal):
        return found
    customer, (i, amount) = found
    understood = f"customer {describe(customer)}, amount {money(customer, amount.value)}"
    if amount.currency and amount.currency != customer.currency:
        return Refusal(f"{describe(customer)} is billed in {customer.currency}, not {amount.currency}", understood)
    reason = read_note(args[tokens[i].end :])
    if isinstance(reason, Refusal):
        return reason.with_understood(understood)
    if reason is None:
        return Refusal("say why it cannot be collected, after the amount", understood)
    return WriteoffRequest(customer, amount, reason)


def handle(request: WriteoffRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer, amount = request.customer, request.amount.value
    balance = account_balance(session, customer.id)
    asked = already_asked(session, customer_id=customer.id)
    left = balance - asked
    if amount > left:
        also = f", {money(customer, asked)} of it already asked for or approved as credit or write-off" if asked else ""
        return Refusal(
            f"{money(customer, amount)} is more than the {money(customer, max(left, Decimal(0)))} "
            f"that can be written off: {describe(customer)} owes {money(customer, balance)}{also}",
            f"customer {describe(customer)}, amount {money(customer, amount)}",
        )
    return open_request(
        session, ctx, actor=actor, kind=ApprovalKind.WRITEOFF, customer=customer, reason=request.reason, amount=amount
    )


COMMAND = Command(
    name="writeoff",
    usage=USAGE,
    parse=parse,
    handle=handle,
    aliases=("write-off",),
    summary=(
        "Recommend writing off part of a balance; the controller or VP finance approves, then the amount "
        "leaves collection and finance books it."
    ),
    examples=(
        "writeoff acme dental 120 customer closed, no assets left",
        'writeoff "Summit Ortho, P.C." 1,500 bankruptcy discharge received',
    ),
    try_it="writeoff <customer> <amount> customer closed, no assets left",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
