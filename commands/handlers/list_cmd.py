"""``list``: the collector's ranked call list for today (the next business day on a weekend),
one line per account with the reasons it is on the list and buttons to act on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.handlers.registry import Actor, Command, ParseEnv, Registry
from commands.messages import Button, ButtonStyle, Field, Reply, Row
from commands.parsing.amounts import format_money
from commands.parsing.dates import format_day
from commands.refusal import Refusal
from storage.models import Customer

if TYPE_CHECKING:
    from commands.calllist import CallListRow

USAGE = "list"


@dataclass(frozen=True)
class ListRequest:
    """Nothing to read today; the list is always the asker's own."""


def parse(args: str, env: ParseEnv) -> ListRequest | Refusal:
    if args.strip():
        return Refusal("`list` takes nothing after it: it shows your own call list for today")
    return ListRequest()


def handle(request: ListRequest, actor: Actor, ctx: AppContext, *,
           session: Session) -> list[Reply] | Refusal:
    if not actor.member.has("collector"):
        return Refusal("the call list is for collectors, and you are not a collector on this team; "
                       "try `status <customer>` to look at an account")
    from commands.calllist import build_call_list  # the ranking is heavy; load it when asked

    day = ctx.work_day()
    lines = build_call_list(session, ctx, day=day, collector_email=actor.email)
    if not lines:
        return [Reply(title=f"Nothing on your list for {format_day(day)}",
                      text="No account of yours needs a call today.", private=True)]
    currencies = _currencies(session, [line.customer_id for line in lines])
    rows = tuple(_row(line, currencies.get(line.customer_id, "USD")) for line in lines)
    count = f"{len(rows)} account" + ("s" if len(rows) != 1 else "")
    return [Reply(title=f"Your call list for {format_day(day)} ({count})",
                  rows=rows, private=True)]


def _row(line: CallListRow, currency: str) -> Row:
    value = {"customer": line.erp_id}
    fields = [Field("Balance", format_money(line.balance_due, currency))]
    if line.days_past_due:
        fields.append(Field("Days past due", str(line.days_past_due)))
    return Row(
        title=f"{line.customer_name} ({line.erp_id})",
        detail="; ".join(line.reasons),
        fields=tuple(fields),
        buttons=(Button("Log call", "log_call", value, ButtonStyle.PRIMARY),
                 Button("Promise", "promise", value), Button("Paid", "paid", value)),
    )


def _currencies(session: Session, customer_ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Customer.id, Customer.currency).where(Customer.id.in_(customer_ids)))
    return {customer_id: currency for customer_id, currency in rows}


COMMAND = Command(
    name="list", usage=USAGE, parse=parse, handle=handle, aliases=("ls",),
    summary="Your ranked call list for today, with the reason for each account.",
    examples=("list",),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)

