"""``status <customer>``: everything a collector needs before dialling, on one card: balance,
aging buckets, open promises, the last five contacts, active holds and open disputes, where the
account is in the suspension sequence, and its retainer when one is required."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from commands.account_card import status_reply
from commands.accounts import AccountSummary, account_summary
from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Field, Reply
from commands.parsing.customers import resolve_customer
from commands.parsing.text import phrase, tokenize
from commands.refusal import Refusal
from commands.retainers import standing_of
from commands.suspension.position import NOT_IN_SEQUENCE, suspension_position
from commands.wording import money
from storage.models import Customer

USAGE = "status <customer>"


@dataclass(frozen=True)
class StatusRequest:
    customer: Customer


def parse(args: str, env: ParseEnv) -> StatusRequest | Refusal:
    found = resolve_customer(env.session, phrase(tokenize(args)))
    return found if isinstance(found, Refusal) else StatusRequest(found)


def handle(request: StatusRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply]:
    customer = request.customer
    summary = account_summary(session, customer, as_of=ctx.today())
    card = status_reply(summary, ctx, collector=summary.collector)
    suspension, steps_done = (
        suspension_position(session, ctx, customer.id)
        if summary.in_suspension
        else (Field("Suspension", NOT_IN_SEQUENCE), [])
    )
    fields = [*card.fields, suspension, *_retainer_fields(summary)]
    return [replace(card, fields=tuple(fields), rows=(*steps_done, *card.rows))]


def _retainer_fields(summary: AccountSummary) -> list[Field]:
    """Required, held and short, only for an account with a requirement: the gate on its
    releases and clearances is what a collector needs to know before promising work."""
    if summary.retainer is None:
        return []
    found, customer = standing_of(summary.retainer), summary.customer
    return [
        Field("Retainer required", money(customer, found.required)),
        Field("Retainer held", money(customer, found.held)),
        Field("Retainer short", money(customer, found.shortfall)),
    ]


COMMAND = Command(
    name="status",
    reads_only=True,
    usage=USAGE,
    parse=parse,
    handle=handle,
    aliases=("st",),
    summary=(
        "Balance, aging, open promises, last contacts, holds, disputes, the suspension step and the "
        "retainer for one customer."
    ),
    examples=("status acme", "status C100", 'status "Summit Ortho, P.C."'),
    try_it="status <customer>",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
