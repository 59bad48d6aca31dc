"""``credit <customer> <invoice> <amount> <reason>``: ask for a credit memo on an open invoice
(a pricing error, a service not delivered). The approvals channel gets a card with the account's
record; who may approve depends on the amount (the team file's ``credit`` rules). Once approved
the amount leaves collection and finance gets the task of issuing the memo
(:mod:`commands.workflows.adjustments`). The Done / Not doing buttons of that task are here too."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.disputes import disputable_left
from commands.handlers.common import money
from commands.handlers.registry import ButtonAction, Command, ParseEnv, Registry
from commands.messages import Reply
from commands.parsing.amounts import Amount, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, customer_and_invoice, describe
from commands.parsing.notes import read_note
from commands.parsing.text import Token, name_ends, quote, tokenize
from commands.refusal import Refusal
from commands.workflows.adjustment_card import DONE_ACTION, NOT_DOING_ACTION
from commands.workflows.adjustment_ledger import already_asked
from commands.workflows.adjustments import finish
from commands.workflows.approvals import open_request
from storage.models import ApprovalKind, Customer, Invoice

USAGE = "credit <customer> <invoice> <amount> <reason>"
NEEDS = "I need a customer, then an invoice number, the amount to credit and the reason"


@dataclass(frozen=True)
class CreditRequest:
    customer: Customer
    invoice: Invoice
    amount: Amount
    reason: str


def parse(args: str, env: ParseEnv) -> CreditRequest | Refusal:
    tokens = tokenize(args)
    problem: Refusal | None = None
    for at, amount in _splits(tokens):
        found = _customer_and_invoice(env.session, tokens, at)
        if not isinstance(found, Refusal):
            return _request(args, tokens, at, amount, *found)
        if problem is None or (found.understood and not problem.understood):
            problem = found  # a wrong invoice of a customer we found says more than an unknown name
    return problem or Refusal(NEEDS)


def _splits(tokens: list[Token]) -> list[tuple[int, Amount | Refusal]]:
    """Every place the invoice number can stand with an amount after it."""
    found = []
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        if i + 1 < len(tokens) and not tokens[i + 1].quoted:
            amount = read_amount(tokens[i + 1].text)
            if amount is not None:
                found.append((i, amount))
    return found


def _customer_and_invoice(session: Session, tokens: list[Token], at: int) -> tuple[Customer, Invoice] | Refusal:
    found = customer_and_invoice(session, tokens, at)
    if isinstance(found, Refusal):
        return found
    customer, number, invoice = found
    if invoice is not None and invoice.closed_on is None and invoice.open_balance > 0:
        return customer, invoice
    why = "is not an invoice of theirs" if invoice is None else "is not open"
    return Refusal(
        f"{quote(number)} {why}: a credit memo is asked for on an open invoice of {describe(customer)}",
        f"customer {describe(customer)}",
    )


def _request(
    args: str, tokens: list[Token], at: int, amount: Amount | Refusal, customer: Customer, invoice: Invoice
) -> CreditRequest | Refusal:
    understood = f"customer {describe(customer)}, invoice {invoice.number}"
    if isinstance(amount, Refusal):
        return amount.with_understood(understood)
    if amount.currency and amount.currency != customer.currency:
        return Refusal(f"{describe(customer)} is billed in {customer.currency}, not {amount.currency}", understood)
    understood += f", amount {money(customer, amount.value)}"
    reason = read_note(args[tokens[at + 1].end :])
    if isinstance(reason, Refusal):
        return reason.with_understood(understood)
    if reason is None:
        return Refusal("say why the customer should be credited, after the amount", understood)
    return CreditRequest(customer, invoice, amount, reason)


def handle(request: CreditRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer, invoice, amount = request.customer, request.invoice, request.amount.value
    refused = credit_over_open(session, customer, invoice, amount)
    if refused is not None:
        return refused
    return open_request(
        session,
        ctx,
        actor=actor,
        kind=ApprovalKind.CREDIT,
        customer=customer,
        reason=request.reason,
        amount=amount,
        details={"invoice_id": invoice.id, "invoice": invoice.number},
    )


def credit_over_open(session: Session, customer: Customer, invoice: Invoice, amount: Decimal) -> Refusal | None:
    """A credit cannot exceed what is open on the invoice less what is in dispute on it and what
    other credits already ask for or await."""
    disputed, left = disputable_left(session, invoice)
    asked = already_asked(session, customer_id=customer.id, invoice_id=invoice.id)
    left -= asked
    if amount <= left:
        return None
    taken = [f"{money(customer, disputed)} in dispute"] if disputed else []
    taken += [f"{money(customer, asked)} already asked for or approved as credit"] if asked else []
    already = f" ({', '.join(taken)})" if taken else ""
    most = money(customer, max(left, Decimal(0)))
    return Refusal(
        f"{money(customer, amount)} is more than the {most} that can still be "
        f"credited on {invoice.number}: it has {money(customer, invoice.open_balance)} open{already}",
        f"customer {describe(customer)}, invoice {invoice.number}, amount {money(customer, amount)}",
    )


def _task_button(done: bool) -> Any:
    def press(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
        task_id = value.get("id")
        if isinstance(task_id, str) and task_id.isdigit():
            task_id = int(task_id)
        if not isinstance(task_id, int) or isinstance(task_id, bool):
            return Refusal("that button doesn't say which task it is for")
        note = read_note(str(value.get("reason") or value.get("value") or ""))
        if isinstance(note, Refusal):
            return note
        return finish(session, ctx, task_id=task_id, actor=actor, done=done, note=note)

    return press


COMMAND = Command(
    name="credit",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=(
        "Ask for a credit memo on an open invoice; once approved the amount leaves collection and "
        "finance gets the task of issuing it."
    ),
    examples=(
        "credit acme dental INV-1 400 rate charged above the contract",
        'credit "Summit Ortho, P.C." S-1 $150 visit cancelled by us',
    ),
    try_it="credit <customer> <invoice> <amount> rate charged above the contract",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
    registry.add_action(ButtonAction(DONE_ACTION, _task_button(True)))
    registry.add_action(ButtonAction(NOT_DOING_ACTION, _task_button(False)))
