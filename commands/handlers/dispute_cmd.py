"""``dispute <customer> <invoice> <amount> <reason>``: the customer contests part of an open
invoice. The amount leaves collection until ``resolve``; the collections channel is told, and a
reply in that note's thread can resolve it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.disputes import OPENER_ROLES, OUTCOMES, disputable_left, open_dispute, refuse_recorded
from commands.handlers.common import money
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Field, Reply, Tone, Where
from commands.parsing.amounts import Amount, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, customer_and_invoice, describe
from commands.parsing.dates import format_day
from commands.parsing.notes import read_note
from commands.parsing.text import Token, name_ends, quote, tokenize
from commands.refusal import Refusal
from storage.models import Customer, Invoice

USAGE = "dispute <customer> <invoice> <amount> <reason>"
SHOWN_INVOICES = 8
OUTCOME_WORDS = ", ".join(OUTCOMES)


@dataclass(frozen=True)
class DisputeRequest:
    customer: Customer
    invoice: Invoice
    amount: Amount
    reason: str


@dataclass(frozen=True)
class _Split:
    """One way to read the words: customer words before ``at``, then invoice, amount, reason."""

    at: int
    amount: Amount | Refusal


def parse(args: str, env: ParseEnv) -> DisputeRequest | Refusal:
    tokens = tokenize(args)
    splits = _splits(tokens)
    if not splits:
        return Refusal("I need a customer, then an invoice number, an amount and the reason")
    problem: Refusal | None = None
    for split in splits:
        found = _customer_and_invoice(env.session, tokens, split.at)
        if not isinstance(found, Refusal):
            return _request(args, tokens, split, *found)
        # A wrong invoice of a customer we found says more than a name we could not find.
        if problem is None or (found.understood and not problem.understood):
            problem = found
    return problem or Refusal("I need a customer, then an invoice number, an amount and the reason")


def _splits(tokens: list[Token]) -> list[_Split]:
    """Every place the invoice number can stand so that an amount follows it."""
    splits = []
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        if i + 1 >= len(tokens) or tokens[i + 1].quoted:
            continue
        amount = read_amount(tokens[i + 1].text)
        if amount is not None:
            splits.append(_Split(i, amount))
    return splits


def _customer_and_invoice(session: Session, tokens: list[Token], at: int) -> tuple[Customer, Invoice] | Refusal:
    found = customer_and_invoice(session, tokens, at)
    if isinstance(found, Refusal):
        return found
    customer, number, invoice = found
    if invoice is None or invoice.closed_on is not None or invoice.open_balance <= 0:
        return _no_such_invoice(session, customer, number, invoice)
    return customer, invoice


def _no_such_invoice(session: Session, customer: Customer, number: str, found: Invoice | None) -> Refusal:
    if found is None:
        what = "is not an invoice of theirs"
    elif found.closed_on is not None:
        what = f"was closed on {format_day(found.closed_on)}"
    else:
        what = "has nothing owed on it"
    numbers = session.scalars(
        select(Invoice.number)
        .where(Invoice.customer_id == customer.id, Invoice.closed_on.is_(None), Invoice.open_balance > 0)
        .order_by(Invoice.due_date, Invoice.number)
        .limit(SHOWN_INVOICES + 1)
    ).all()
    listed = ", ".join(numbers[:SHOWN_INVOICES]) + (" and more" if len(numbers) > SHOWN_INVOICES else "")
    hint = f"their open invoices are {listed}" if numbers else "they have no open invoice to dispute"
    return Refusal(
        f"{quote(number)} {what}: only an open invoice of {describe(customer)} can be disputed; {hint}",
        f"customer {describe(customer)}",
    )


def _request(
    args: str, tokens: list[Token], split: _Split, customer: Customer, invoice: Invoice
) -> DisputeRequest | Refusal:
    understood = f"customer {describe(customer)}, invoice {invoice.number}"
    if isinstance(split.amount, Refusal):
        return split.amount.with_understood(understood)
    amount = split.amount
    if amount.currency and amount.currency != customer.currency:
        return Refusal(
            f"{describe(customer)} is billed in {customer.currency}, not {amount.currency}; "
            f"write the amount in {customer.currency}",
            understood,
        )
    understood += f", amount {money(customer, amount.value)}"
    reason = read_note(args[tokens[split.at + 1].end :])
    if isinstance(reason, Refusal):
        return reason.with_understood(understood)
    if reason is None:
        return Refusal("say why the customer disputes it, after the amount (for example: billed twice)", understood)
    return DisputeRequest(customer, invoice, amount, reason)


def handle(request: DisputeRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer, invoice, amount = request.customer, request.invoice, request.amount.value
    now = ctx.clock.now()
    if not actor.member.roles & OPENER_ROLES:
        return refuse_recorded(
            session,
            at=now,
            actor=actor.email,
            action="dispute.refused",
            customer_id=customer.id,
            message="disputes are opened by collectors, finance or managers, and you are none of these on this team",
            invoice=invoice.number,
            amount=amount,
        )
    disputed, left = disputable_left(session, invoice)
    if amount > left:
        already = f" and {money(customer, disputed)} already in dispute" if disputed else ""
        return Refusal(
            f"at most {money(customer, left)} of {invoice.number} can be disputed: it has "
            f"{money(customer, invoice.open_balance)} open{already}",
            f"customer {describe(customer)}, invoice {invoice.number}, amount {money(customer, amount)}",
        )
    dispute = open_dispute(
        session,
        customer=customer,
        invoice=invoice,
        amount=amount,
        reason=request.reason,
        opened_by_id=actor.member_id,
        actor=actor.email,
        at=now,
    )
    fields = (
        Field("Invoice", invoice.number),
        Field("Disputed", money(customer, amount)),
        Field("Invoice open", money(customer, invoice.open_balance)),
        Field("Reason", request.reason),
    )
    return [
        Reply(
            title=f"Dispute #{dispute.id} opened for {describe(customer)}",
            fields=fields,
            tone=Tone.SUCCESS,
            text=(
                f"{money(customer, amount)} is set aside from collection until the dispute is resolved. "
                f"Resolve with `resolve {dispute.id} <outcome> [note]` ({OUTCOME_WORDS})."
            ),
        ),
        Reply(
            title=f"Dispute #{dispute.id}: {describe(customer)} disputes {money(customer, amount)} of {invoice.number}",
            text=(
                f"Opened by {actor.member.name}: {request.reason}\nReply in this thread with "
                f"`resolve <outcome> [note]` ({OUTCOME_WORDS})."
            ),
            fields=fields[:3],
            where=Where(ctx.team.workflow.channels.collections),
            track=f"dispute:{dispute.id}",
        ),
    ]


COMMAND = Command(
    name="dispute",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary="Set an amount the customer contests on an open invoice aside from collection until resolved.",
    examples=(
        "dispute acme dental INV-1 450 billed twice for the October cleaning",
        'dispute "Summit Ortho, P.C." S-1 $1,500 service never delivered',
    ),
    try_it="dispute <customer> <invoice> <amount> billed twice",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
