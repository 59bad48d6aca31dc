"""``list``: the collector's ranked call list for today (the next business day on a weekend),
one line per account with the reasons it is on the list and buttons to act on it.

Managers, finance and admins also ask ``list <collector>`` (by email or a piece of the name)
to see the list a collector works from, and ``list team`` for one line per collector: how
many accounts, how much is on them and which comes first. Collectors see only their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.call_row import call_row
from commands.context import AppContext
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.mail.followup import tried_unreached_today
from commands.messages import Reply, Row
from commands.parsing.amounts import format_money
from commands.parsing.dates import format_day
from commands.parsing.text import quote
from commands.refusal import Refusal
from commands.team import Member
from storage.models import Customer

if TYPE_CHECKING:
    from commands.calllist import CallListRow

USAGE = "list [<collector> | team]"
# Who may look at another collector's list: the people who supervise or support collections.
OVERSEERS = frozenset({"manager", "finance", "finance_lead", "controller", "vp_finance", "admin"})


@dataclass(frozen=True)
class ListRequest:
    """Whose list: the asker's own (``whose`` None), one collector's (their email), or the team's."""

    whose: str | None = None
    team: bool = False


def parse(args: str, env: ParseEnv) -> ListRequest | Refusal:
    words = " ".join(args.split()).lower().lstrip("@")
    if words in ("", "me", "mine", "my list"):
        return ListRequest()
    if words in ("team", "all", "everyone", "the team"):
        return ListRequest(team=True)
    found = _collector(env.ctx, words)
    return found if isinstance(found, Refusal) else ListRequest(whose=found.email)


def _collector(ctx: AppContext, words: str) -> Member | Refusal:
    collectors = [m for m in ctx.team.members if m.has("collector")]
    exact = [m for m in collectors if words in (m.email, m.email.split("@")[0], m.name.lower())]
    matches = exact or [m for m in collectors if words in m.name.lower() or words in m.email]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        return Refusal(
            f"no collector on the team matches {quote(words[:60])}; name one by email or name, or say `list team`"
        )
    names = ", ".join(m.name for m in matches[:5])
    return Refusal(f"{quote(words[:60])} matches several collectors ({names}); say which")


def handle(request: ListRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    whose = request.whose or actor.email
    if request.team or whose != actor.email:
        if not actor.member.roles & OVERSEERS:
            return Refusal("only managers, finance and admins see other collectors' lists; `list` shows your own")
    elif not actor.member.has("collector"):
        return Refusal(
            "the call list is for collectors, and you are not a collector on this team; "
            "try `list team`, `list <collector>` or `status <customer>`"
            if actor.member.roles & OVERSEERS
            else "the call list is for collectors, and you are not a collector on this team; "
            "try `status <customer>` to look at an account"
        )
    day = ctx.work_day()  # the ranking is reused until the ledger changes for it (commands.calllist.reuse)
    if request.team:
        return [_team_summary(session, ctx, ctx.call_lists.call_list(session, ctx, day=day), day)]
    lines = ctx.call_lists.call_list(session, ctx, day=day, collector_email=whose)
    member = ctx.team.member(whose)
    own = whose == actor.email
    label = "your" if own else f"{member.name if member else whose}'s"
    if not lines:
        return [
            Reply(
                title=f"Nothing on {label} list for {format_day(day)}",
                text=f"No account of {'yours' if own else 'theirs'} needs a call today.",
                private=True,
            )
        ]
    currencies = _currencies(session, [line.customer_id for line in lines])
    unreached = tried_unreached_today(session, ctx, [line.customer_id for line in lines])
    rows = tuple(
        call_row(line, currencies.get(line.customer_id, "USD"), email=line.customer_id in unreached) for line in lines
    )
    count = f"{len(rows)} account" + ("s" if len(rows) != 1 else "")
    return [
        Reply(title=f"{label[0].upper()}{label[1:]} call list for {format_day(day)} ({count})", rows=rows, private=True)
    ]


def _team_summary(session: Session, ctx: AppContext, lines: list[CallListRow], day: date) -> Reply:
    """One line per collector: enough for a manager to see who has the heavy day."""
    currencies = _currencies(session, [line.customer_id for line in lines])
    rows = []
    for member in (m for m in ctx.team.members if m.has("collector")):
        mine = [line for line in lines if line.collector_email == member.email]
        if not mine:
            rows.append(Row(title=member.name, detail="nothing to call today"))
            continue
        totals: dict[str, Decimal] = {}
        for line in mine:
            currency = currencies.get(line.customer_id, "USD")
            totals[currency] = totals.get(currency, Decimal(0)) + line.balance_due
        first = mine[0]
        money = ", ".join(format_money(total, currency) for currency, total in sorted(totals.items()))
        rows.append(
            Row(
                title=f"{member.name}: {len(mine)} account{'s' if len(mine) != 1 else ''}, {money}",
                detail=f"first: {first.customer_name} ({first.erp_id}): {'; '.join(first.reasons[:2])}",
            )
        )
    return Reply(
        title=f"Team call lists for {format_day(day)}",
        rows=tuple(rows),
        private=True,
        text="`list <collector>` shows one of them in full.",
    )


def _currencies(session: Session, customer_ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Customer.id, Customer.currency).where(Customer.id.in_(customer_ids)))
    return {customer_id: currency for customer_id, currency in rows}


COMMAND = Command(
    name="list",
    reads_only=True,
    usage=USAGE,
    parse=parse,
    handle=handle,
    aliases=("ls",),
    summary=(
        "Your ranked call list for today, with the reason for each account. Managers, finance "
        "and admins: list <collector> for one collector's, list team for everyone's at a glance."
    ),
    examples=("list", "list dana", "list team"),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
