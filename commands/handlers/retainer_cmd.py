"""``retainer <customer> [<amount> [engagement]]``: set how much retainer a customer (or one of its
engagements) must hold, or, with no amount, show what it must hold, what it holds and what is
short. An amount of 0 removes the requirement. Setting is for managers, controllers, the VP
finance, the finance lead and admins (:data:`commands.retainers.WHO_MAY_SET`); anyone on the
team may look.

The customer is the longest run of leading words that names one customer (as for ``hold``), so
``retainer route 66 dental 5000`` is Route 66 Dental; quote a name to be sure."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.accounts import ZERO
from commands.actor import Actor
from commands.approval_rules import role_names
from commands.context import AppContext
from commands.handlers.hold_cmd import read_customer_and_text
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Field, Reply, Tone
from commands.parsing.amounts import parse_amount
from commands.parsing.customers import describe
from commands.parsing.text import clean_text, quote
from commands.refusal import Refusal
from commands.retainer_replenishment import replenishment_requests
from commands.retainers import MAX_ENGAGEMENT, WHO_MAY_SET, RetainerChange, Standing, set_requirement, standing
from commands.wording import money, typed_name
from storage.models import WHOLE_ACCOUNT, Customer

USAGE = "retainer <customer> [<amount> [engagement]]"
_NONE = frozenset({"0", "0.00", "$0", "none", "remove"})


@dataclass(frozen=True)
class Look:
    customer: Customer


def parse(args: str, env: ParseEnv) -> RetainerChange | Look | Refusal:
    read = read_customer_and_text(env, args)
    if isinstance(read, Refusal):
        return read
    customer, rest = read.customer, (read.text or "").strip()
    if not rest:
        return Look(customer)
    understood = f"customer {describe(customer)}"
    first, _, label = rest.partition(" ")
    engagement = clean_text(label).strip().strip('"').strip()
    if len(engagement) > MAX_ENGAGEMENT:
        return Refusal(f"an engagement's name can be at most {MAX_ENGAGEMENT} characters", understood)
    if first.lower() in _NONE:
        return RetainerChange(customer, ZERO, engagement or WHOLE_ACCOUNT)
    amount = parse_amount(first)
    if isinstance(amount, Refusal):
        return amount.with_understood(understood)
    if amount.currency is not None and amount.currency != customer.currency:
        return Refusal(f"{describe(customer)} is billed in {customer.currency}, not {amount.currency}", understood)
    return RetainerChange(customer, amount.value, engagement or WHOLE_ACCOUNT)


def handle(request: RetainerChange | Look, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer = request.customer
    if isinstance(request, Look):
        return [_shown(customer, standing(session, customer.id))]
    if not actor.member.roles & WHO_MAY_SET:
        return Refusal(
            f"setting a retainer requirement is for {role_names(WHO_MAY_SET)}; "
            f"ask one of them, or type retainer {typed_name(customer)} to see it"
        )
    outcome = set_requirement(session, ctx, request, actor)
    found = standing(session, customer.id)
    asked = replenishment_requests(session, ctx, actor=actor.email, customer_ids=[customer.id])
    which = f" for {quote(request.engagement)}" if request.engagement else ""
    titles = {
        "set": "Retainer requirement set",
        "changed": "Retainer requirement changed",
        "removed": "Retainer requirement removed",
        "unchanged": "Retainer requirement unchanged",
    }
    reply = _shown(customer, found, title=f"{titles[outcome]}{which}: {describe(customer)}")
    note = " Its collector is asked to get it replenished." if asked else ""
    return [*asked, Reply(title=reply.title, text=reply.text + note, fields=reply.fields, tone=Tone.SUCCESS)]


def _shown(customer: Customer, found: Standing | None, *, title: str | None = None) -> Reply:
    title = title or f"Retainer: {describe(customer)}"
    if found is None:
        return Reply(title=title, text="No retainer is required.", tone=Tone.INFO)
    fields = [
        Field("Required", money(customer, found.required)),
        Field("Held", money(customer, found.held)),
        Field("Short", money(customer, found.shortfall)),
    ]
    if len(found.engagements) > 1 or found.engagements[0][0]:
        fields += [Field(label or "Whole account", money(customer, amount)) for label, amount in found.engagements]
    text = (
        f"Short by {money(customer, found.shortfall)}: releases and clearances wait until it is paid."
        if found.short
        else "The retainer is met."
    )
    return Reply(title=title, text=text, fields=tuple(fields), tone=Tone.WARNING if found.short else Tone.INFO)


COMMAND: Command[RetainerChange | Look] = Command(
    name="retainer",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=(
        "A customer's retainer: what it must hold, what it holds, what is short; managers set it "
        "(0 removes it). Releases and clearances wait while it is short."
    ),
    examples=("retainer acme dental", "retainer C100 5000", 'retainer C100 2,500 "spring campaign"', "retainer C100 0"),
    try_it="retainer <customer>",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
