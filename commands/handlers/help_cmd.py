"""``help [command]``: generated from the registry, so a new command documents itself the
moment it is registered."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Reply, Row
from commands.parsing.text import quote
from commands.refusal import Refusal
from commands.wording import typed_name
from storage.models import Customer, Invoice

READING_TIPS = (
    "Name a customer by its ERP id or by part of its name; quote names with commas or that "
    'look like amounts ("Summit Ortho, P.C."). Amounts: 1,200 or 1200.50 or $1.2k or USD 300. '
    "Dates: today, tomorrow, fri, next fri, 12/1, dec 1, 2026-12-01, in 5 days, in 2 weeks, eom."
)


@dataclass(frozen=True)
class HelpRequest:
    commands: tuple[Command[Any], ...]
    topic: Command[Any] | None = None


def parse(args: str, env: ParseEnv) -> HelpRequest | Refusal:
    word = args.strip()
    if not word:
        return HelpRequest(env.registry.commands)
    topic = env.registry.find(word.split()[0])
    if topic is None:
        names = ", ".join(c.name for c in env.registry.commands)
        return Refusal(f"there is no command {quote(word)}; I know: {names}")
    return HelpRequest(env.registry.commands, topic)


def handle(request: HelpRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply]:
    if request.topic is not None:
        return [_about(request.topic, try_it(session, ctx, actor, request.topic))]
    rows = tuple(Row(command.usage, detail=command.summary) for command in request.commands)
    return [Reply(title="What I can do", text=READING_TIPS, rows=rows, private=True)]


def _about(command: Command[Any], tried: str | None) -> Reply:
    aliases = f"Also: {', '.join(command.aliases)}." if command.aliases else ""
    rows = tuple(Row(example) for example in command.examples)
    text = " ".join(part for part in (command.summary, aliases) if part)
    if tried:
        text += f"\nOn one of your accounts: {tried}"
    return Reply(title=command.usage, text=text, rows=rows, private=True)


def try_it(session: Session, ctx: AppContext, actor: Actor, command: Command[Any]) -> str | None:
    """The command's ``try_it`` example filled with an account the asker can type it on: the
    documented examples name accounts of their own (Acme Dental, C100) that a team's ledger does
    not hold. Their own account with the oldest past-due item (anyone's when they have none), that
    item's number, and its open amount in whole units. None: no template, or nothing past due."""
    if not command.try_it:
        return None
    past_due = (
        select(Customer, Invoice)
        .join(Invoice, Invoice.customer_id == Customer.id)
        .where(Invoice.closed_on.is_(None), Invoice.open_balance > 0, Invoice.due_date < ctx.today())
        .order_by(Invoice.due_date, Invoice.id)
        .limit(1)
    )
    found = session.execute(past_due.where(Customer.collector_id == actor.member_id)).first()
    found = found or session.execute(past_due).first()
    if found is None:
        return None
    customer, invoice = found
    whole = invoice.open_balance.quantize(Decimal(1), ROUND_DOWN) if invoice.open_balance >= 1 else invoice.open_balance
    return (
        command.try_it.replace("<customer>", typed_name(customer))
        .replace("<invoice>", invoice.number)
        .replace("<amount>", f"{whole:,}")
    )


COMMAND = Command(
    name="help",
    reads_only=True,
    usage="help [command]",
    parse=parse,
    handle=handle,
    aliases=("?",),
    summary="This list, or how to use one command.",
    examples=("help", "help promise"),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
