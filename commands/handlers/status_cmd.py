"""``status <customer>``: everything a collector needs before dialling, on one card: balance,
aging buckets, open promises, the last five contacts, active holds and open disputes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.accounts import AccountSummary, ContactLine, account_summary
from commands.context import AppContext
from commands.handlers.common import local_moment, money
from commands.handlers.registry import Actor, Command, ParseEnv, Registry
from commands.messages import Field, Reply, Row
from commands.parsing.customers import describe, resolve_customer
from commands.parsing.dates import format_day
from commands.parsing.text import phrase, tokenize
from commands.refusal import Refusal
from storage.models import ActivityKind, Customer, Promise, TeamMember

USAGE = "status <customer>"
_BUCKET_TITLES = {"current": "Current"}


@dataclass(frozen=True)
class StatusRequest:
    customer: Customer


def parse(args: str, env: ParseEnv) -> StatusRequest | Refusal:
    found = resolve_customer(env.session, phrase(tokenize(args)))
    return found if isinstance(found, Refusal) else StatusRequest(found)


def handle(request: StatusRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply]:
    summary = account_summary(session, request.customer, as_of=ctx.today())
    return [status_reply(summary, ctx, collector=_collector_name(session, request.customer))]


def status_reply(summary: AccountSummary, ctx: AppContext, *, collector: str | None) -> Reply:
    """The account card. Sections with nothing in them are named in the text, so "no open
    promises" is said rather than left for the reader to infer."""
    customer = summary.customer
    fields = [Field("Balance", money(customer, summary.balance))]
    if summary.confirmed_unapplied:
        fields.append(Field("Paid, not yet in the ledger", money(customer, summary.confirmed_unapplied)))
    fields += [Field(_BUCKET_TITLES.get(label, f"{label} days"), money(customer, amount))
               for label, amount in summary.aging.buckets()]
    fields.append(Field("Collector", collector or "unassigned"))
    rows = [_promise_row(customer, p) for p in summary.open_promises]
    rows += [Row(f"Hold since {local_moment(ctx, h.placed_at)}", detail=h.reason) for h in summary.active_holds]
    rows += [Row(f"Dispute: {money(customer, d.amount)} since {local_moment(ctx, d.opened_at)}",
                 detail=d.reason) for d in summary.open_disputes]
    rows += [_contact_row(ctx, c) for c in summary.recent_contacts]
    empty = [label for label, items in (
        ("open promises", summary.open_promises), ("active holds", summary.active_holds),
        ("open disputes", summary.open_disputes), ("contacts logged", summary.recent_contacts),
    ) if not items]
    text = ("No " + ", no ".join(empty) + ".") if empty else ""
    return Reply(title=describe(customer), text=text, fields=tuple(fields), rows=tuple(rows))


def _promise_row(customer: Customer, promise: Promise) -> Row:
    title = f"Promise: {money(customer, promise.amount)} by {format_day(promise.promised_date)}"
    if promise.paid_amount:
        title += f" ({money(customer, promise.paid_amount)} paid so far)"
    return Row(title, detail=promise.note or "")


def _contact_row(ctx: AppContext, line: ContactLine) -> Row:
    # A voicemail or an email says its outcome by its kind; a call needs both.
    what = f"call, {line.outcome.value}" if line.kind is ActivityKind.CALL else line.kind.value
    title = f"{local_moment(ctx, line.occurred_at)} {what}"
    if line.contact_name:
        title += f" with {line.contact_name}"
    fields = (Field("By", line.by),) if line.by else ()
    return Row(title, detail=line.note or "", fields=fields)


def _collector_name(session: Session, customer: Customer) -> str | None:
    if customer.collector_id is None:
        return None
    member = session.get(TeamMember, customer.collector_id)
    return member.name if member else None


COMMAND = Command(
    name="status", usage=USAGE, parse=parse, handle=handle, aliases=("st",),
    summary="Balance, aging, open promises, last contacts, holds and disputes for one customer.",
    examples=("status acme", "status C100", 'status "Summit Ortho, P.C."'),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
