"""The account card: everything a collector needs before dialling, on one card (balance, aging
buckets, open promises, the last contacts, active holds and open disputes). ``status`` shows it,
and the finance and approval cards carry it, so an account looks the same wherever it appears."""

from __future__ import annotations

from commands.accounts import AccountSummary, AdjustmentLine, ContactLine, PromiseLine
from commands.context import AppContext
from commands.messages import Field, Reply, Row
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.wording import local_moment, money
from storage.models import ActivityKind, ApprovalKind, Customer

_BUCKET_TITLES = {"current": "Current"}


def status_reply(summary: AccountSummary, ctx: AppContext, *, collector: str | None) -> Reply:
    """The account card. Sections with nothing in them are named in the text, so "no open
    promises" is said rather than left for the reader to infer."""
    customer = summary.customer
    fields = [Field("Balance", money(customer, summary.balance))]
    if summary.confirmed_unapplied:
        fields.append(Field("Paid, not yet in the ledger", money(customer, summary.confirmed_unapplied)))
    fields += [
        Field(_BUCKET_TITLES.get(label, f"{label} days"), money(customer, amount))
        for label, amount in summary.aging.buckets()
    ]
    fields.append(Field("Collector", collector or "unassigned"))
    rows = [_promise_row(customer, p) for p in summary.open_promises]
    rows += [
        Row(
            f"Hold since {local_moment(ctx, h.placed_at)}",
            detail=h.reason,
            fields=(Field("Kind", ctx.team.workflow.holds.label(h.kind)),),
        )
        for h in summary.active_holds
    ]
    rows += [
        Row(f"Dispute: {money(customer, d.amount)} since {local_moment(ctx, d.opened_at)}", detail=d.reason)
        for d in summary.open_disputes
    ]
    rows += [_adjustment_row(customer, a) for a in summary.adjustments]
    rows += [_contact_row(ctx, c) for c in summary.recent_contacts]
    empty = [
        label
        for label, items in (
            ("open promises", summary.open_promises),
            ("active holds", summary.active_holds),
            ("open disputes", summary.open_disputes),
            ("contacts logged", summary.recent_contacts),
        )
        if not items
    ]
    text = ("No " + ", no ".join(empty) + ".") if empty else ""
    return Reply(title=describe(customer), text=text, fields=tuple(fields), rows=tuple(rows))


def _promise_row(customer: Customer, promise: PromiseLine) -> Row:
    title = f"Promise: {money(customer, promise.amount)} by {format_day(promise.promised_date)}"
    if promise.paid_amount:
        title += f" ({money(customer, promise.paid_amount)} paid so far)"
    return Row(title, detail=promise.note or "")


def _adjustment_row(customer: Customer, task: AdjustmentLine) -> Row:
    """``$400.00 credit approved, awaiting the credit memo``: out of collection, not yet imported."""
    if task.kind is ApprovalKind.CREDIT:
        return Row(f"{money(customer, task.amount)} credit approved, awaiting the credit memo")
    return Row(f"{money(customer, task.amount)} write-off approved, awaiting the ERP")


def _contact_row(ctx: AppContext, line: ContactLine) -> Row:
    # A voicemail or an email says its outcome by its kind; a call needs both.
    what = f"call, {line.outcome.value}" if line.kind is ActivityKind.CALL else line.kind.value
    title = f"{local_moment(ctx, line.occurred_at)} {what}"
    if line.contact_name:
        title += f" with {line.contact_name}"
    fields = (Field("By", line.by),) if line.by else ()
    return Row(title, detail=line.note or "", fields=fields)
