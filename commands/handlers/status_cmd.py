"""``status <customer>``: everything a collector needs before dialling, on one card: balance,
aging buckets, open promises, the last five contacts, active holds and open disputes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.account_card import status_reply
from commands.accounts import account_summary
from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Reply
from commands.parsing.customers import resolve_customer
from commands.parsing.text import phrase, tokenize
from commands.refusal import Refusal
from storage.models import Customer, TeamMember

USAGE = "status <customer>"


@dataclass(frozen=True)
class StatusRequest:
    customer: Customer


def parse(args: str, env: ParseEnv) -> StatusRequest | Refusal:
    found = resolve_customer(env.session, phrase(tokenize(args)))
    return found if isinstance(found, Refusal) else StatusRequest(found)


def handle(request: StatusRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply]:
    summary = account_summary(session, request.customer, as_of=ctx.today())
    return [status_reply(summary, ctx, collector=_collector_name(session, request.customer))]


def _collector_name(session: Session, customer: Customer) -> str | None:
    if customer.collector_id is None:
        return None
    member = session.get(TeamMember, customer.collector_id)
    return member.name if member else None


COMMAND = Command(
    name="status",
    reads_only=True,
    usage=USAGE,
    parse=parse,
    handle=handle,
    aliases=("st",),
    summary="Balance, aging, open promises, last contacts, holds and disputes for one customer.",
    examples=("status acme", "status C100", 'status "Summit Ortho, P.C."'),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
