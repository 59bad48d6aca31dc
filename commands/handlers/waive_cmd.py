"""``waive <customer> <amount> <fee> <reason>``: ask finance management to waive a fee (the card
surcharge, a late fee). Fees are not waived by default, so every waiver names its fee and its
reason, and who may approve it depends on the amount. Fees are read by the names the team file
gives them (``[fees] names``): "late", "late fee" and "Late fee," are the team's "late fee"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.common import money
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Reply
from commands.parsing.amounts import Amount, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_first
from commands.parsing.notes import read_note
from commands.parsing.text import Token, name_ends, phrase, quote, tokenize
from commands.refusal import Refusal
from commands.workflows.approvals import open_request
from storage.models import ApprovalKind, Customer

USAGE = "waive <customer> <amount> <fee> <reason>"
MAX_FEE_LENGTH = 100  # fee_waivers.fee


@dataclass(frozen=True)
class WaiveRequest:
    customer: Customer
    amount: Amount
    fee: str
    reason: str


def parse(args: str, env: ParseEnv) -> WaiveRequest | Refusal:
    tokens = tokenize(args)
    readings, problem = _amount_positions(tokens)
    if not readings:
        said = f"customer {quote(phrase(tokens))}" if tokens else ""
        return problem or Refusal("I need a customer, then the amount to waive, the fee and a reason", said)
    found = resolve_first(env.session, [(phrase(tokens[:i]), (i, amount)) for i, amount in readings])
    if isinstance(found, Refusal):
        return problem or found
    customer, (i, amount) = found
    understood = f"customer {describe(customer)}, amount {money(customer, amount.value)}"
    if amount.currency and amount.currency != customer.currency:
        return Refusal(f"{describe(customer)} is billed in {customer.currency}, not {amount.currency}", understood)
    if i + 1 >= len(tokens):
        return Refusal('which fee? Name it after the amount, like surcharge or "late fee"', understood)
    found_fee = _fee(tokens, i + 1, env.ctx.team.workflow.fees)
    if isinstance(found_fee, Refusal):
        return found_fee.with_understood(understood)
    fee, reason_start = found_fee
    understood += f", fee {quote(fee)}"
    reason = read_note(args[reason_start:])
    if isinstance(reason, Refusal):
        return reason.with_understood(understood)
    if reason is None:
        return Refusal("say why the fee should be waived, after the fee", understood)
    return WaiveRequest(customer, amount, fee, reason)


def _amount_positions(tokens: list[Token]) -> tuple[list[tuple[int, Amount]], Refusal | None]:
    """Every place an amount could end the customer's name, up to the first word that looks like
    an amount but cannot be taken (zero, negative, three decimals), which explains a failure."""
    found: list[tuple[int, Amount]] = []
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        if tokens[i].quoted:
            continue
        amount = read_amount(tokens[i].text)
        if isinstance(amount, Amount):
            found.append((i, amount))
        elif isinstance(amount, Refusal):
            return found, amount.with_understood(f"customer {quote(phrase(tokens[:i]))}")
    return found, None


def _fee(tokens: list[Token], start: int, known: tuple[str, ...]) -> tuple[str, int] | Refusal:
    """The fee as the team names it ("late", "late fee", "card fee" all read as the team's
    "late fee" / "card surcharge"), or one quoted or unknown word taken as written; returns the
    fee and where the reason starts."""
    if not tokens[start].quoted:
        for width in (3, 2, 1):
            words = tokens[start : start + width]
            if len(words) == width and not any(t.quoted for t in words):
                fee = _known_fee(" ".join(t.lower.strip(",;:") for t in words), known)
                if fee is not None:
                    return fee, words[-1].end
    fee = " ".join(tokens[start].text.split())
    if len(fee) > MAX_FEE_LENGTH:
        return Refusal(f"a fee's name can be at most {MAX_FEE_LENGTH} characters")
    return fee, tokens[start].end


def _known_fee(words: str, known: tuple[str, ...]) -> str | None:
    """``words`` as one of the team's fees: the whole name, the name without its last word
    ("late" for "late fee"), or with "fee" / "charge" for it ("card fee" for "card surcharge")."""
    for name in known:
        first, last = name.split()[0], name.split()[-1]
        if words in (name, first, f"{first} fee", f"{first} charge", f"{name} fee"):
            return name
        if words == last and last not in ("fee", "charge"):  # "surcharge" for "card surcharge"
            return name
    return None


def handle(request: WaiveRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply]:
    return open_request(
        session,
        ctx,
        actor=actor,
        kind=ApprovalKind.WAIVER,
        customer=request.customer,
        reason=request.reason,
        amount=request.amount.value,
        details={"fee": request.fee},
    )


COMMAND = Command(
    name="waive",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary="Ask to waive a fee; the approver needed depends on the amount.",
    examples=(
        "waive acme dental 35 surcharge paid by card at our request",
        'waive C100 300 "late fee" invoice was sent to the wrong address',
    ),
    try_it="waive <customer> <amount> late fee charged in error",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
