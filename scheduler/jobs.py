"""The scheduled jobs and their registry.

A job is a plain function ``(ctx, session) -> JobResult``: it asks ``ctx.clock`` what day it is,
changes the ledger through ``session`` if it must (a promise broken, a request expired) and
returns what to say. Its run commits the changes, the messages (into the outbox) and the run key
together (``scheduler.runs``): a run is done when its messages are queued; delivering them is the
outbox's business. A heavy read may use a read-only session of its own (``ctx.sessions``) so the
write lock is not held meanwhile. When it runs and how often is the :class:`Job` spec's business
(see ``scheduler.due``); so each job can be called directly in a test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from operator import attrgetter

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from commands.approval_rules import Timers
from commands.call_row import account_buttons, call_row
from commands.calllist import CallListRow, build_call_list
from commands.context import AppContext
from commands.kpi import cash, digest
from commands.mail.statements import owing_customers, queue_statements
from commands.messages import Field, Reply, Row, Where
from commands.parsing.amounts import format_money
from commands.parsing.dates import format_day
from commands.promise_checks import check_promises
from commands.suspension import report as suspension_report_of
from commands.suspension.sequence import run_daily as suspension_day
from commands.wording import plural
from commands.workflows import approval_timers, clearance_timers, payment_timers
from scheduler.due import BUSINESS_DAYS, STATEMENTS_DAY, SUSPENSION_MEETING, WEEKLY, Schedule, nth_business_day
from storage.db import read_only
from storage.models import Customer, InboundEvent, Invoice, InvoiceKind, JobRun, OutboxEntry, TeamMember
from storage.models.outbox import SENT, SKIPPED
from storage.row_counts import rows_changed

log = logging.getLogger(__name__)

LIST_ROWS = 20  # accounts shown in a collector's morning message; the rest are a command away
SUMMARY_TOP = 3  # accounts named in the channel summary
FINALS_DAY = 6  # business day of the month on which final invoices are worked
TIMER_MINUTES = 15  # promise, approval and confirmation timers run this often in the working day


@dataclass(frozen=True)
class JobResult:
    """What a run says (queued in the outbox with the run) and what it did, stored on its
    job_runs row: counts by name and a short note."""

    replies: tuple[Reply, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""


JobFn = Callable[[AppContext, Session], JobResult]


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    run: JobFn


def day_label(day: date) -> str:
    """'Mon 23 Nov': the chat's day format without the year, which a morning message does not
    need."""
    return format_day(day).rsplit(" ", 1)[0]


def totals(amounts: Iterable[tuple[Decimal, str]]) -> str:
    """A sum per currency ("$1,200.00 + 300.00 EUR"): amounts in different currencies never add."""
    sums: dict[str, Decimal] = {}
    for amount, currency in amounts:
        sums[currency] = sums.get(currency, Decimal("0.00")) + amount
    return " + ".join(format_money(v, c) for c, v in sorted(sums.items())) or format_money(Decimal("0.00"))


def _member_name(ctx: AppContext, email: str | None) -> str:
    member = ctx.team.member(email) if email else None
    return member.name if member else (email or "unassigned")


# --- daily call lists ----------------------------------------------------------------------


def daily_lists(ctx: AppContext, session: Session) -> JobResult:
    """Each collector gets their own ranked list privately; the collections channel gets who has
    how much, and the three accounts that matter most today."""
    day = ctx.today()
    with ctx.sessions() as reader:
        rows = build_call_list(read_only(reader), ctx, day=day)
        currencies = dict(
            reader.execute(
                select(Customer.id, Customer.currency).where(Customer.id.in_([r.customer_id for r in rows]))
            ).all()
        )
    lines = [(row, currencies.get(row.customer_id, "USD")) for row in rows]
    by_collector: dict[str | None, list[tuple[CallListRow, str]]] = {}
    for line in lines:
        by_collector.setdefault(line[0].collector_email, []).append(line)
    # Accounts of someone no longer in the team file still show in the summary, under their email.
    replies = [
        _collector_list(email, own, day) for email, own in by_collector.items() if email and ctx.team.member(email)
    ]
    replies.append(_list_summary(ctx, by_collector, lines, day))
    return JobResult(tuple(replies), counts={"collectors": len(replies) - 1, "accounts": len(rows)})


def _collector_list(email: str, lines: Sequence[tuple[CallListRow, str]], day: date) -> Reply:
    shown = lines[:LIST_ROWS]
    more = f" The top {len(shown)} are below; `list` shows them all." if len(lines) > len(shown) else ""
    return Reply(
        title=f"Your call list for {day_label(day)}",
        text=(
            f"{plural(len(lines), 'account')}, {totals((r.balance_due, c) for r, c in lines)} due, "
            f"most important first.{more}"
        ),
        rows=tuple(call_row(row, currency) for row, currency in shown),
        to_user=email,
    )


def _list_summary(
    ctx: AppContext,
    by_collector: dict[str | None, list[tuple[CallListRow, str]]],
    lines: Sequence[tuple[CallListRow, str]],
    day: date,
) -> Reply:
    fields = tuple(
        Field(_member_name(ctx, email), f"{plural(len(own), 'account')}, {totals((r.balance_due, c) for r, c in own)}")
        for email, own in sorted(by_collector.items(), key=lambda kv: _member_name(ctx, kv[0]))
    )
    top = sorted(lines, key=lambda line: -line[0].score)[:SUMMARY_TOP]
    text = (
        f"{plural(len(lines), 'account')} on today's lists, {totals((r.balance_due, c) for r, c in lines)} due."
        if lines
        else "No accounts to call today."
    )
    return Reply(
        title=f"Call lists for {day_label(day)}",
        text=text,
        fields=fields,
        rows=tuple(
            Row(
                title=f"{r.customer_name} ({r.erp_id})",
                detail="; ".join(r.reasons),
                fields=(
                    Field("Balance", format_money(r.balance_due, c)),
                    Field("Collector", _member_name(ctx, r.collector_email)),
                ),
            )
            for r, c in top
        ),
        where=Where(ctx.team.workflow.channels.collections),
    )


# --- statements day ------------------------------------------------------------------------


def statements_reminder(ctx: AppContext, session: Session) -> JobResult:
    """The morning statements go out: each owing customer's statement is queued for its billing
    contact (the mail sender posts the count sent and failed when they are through); the channel
    hears how many customers owe and how many have no email to send to."""
    run = queue_statements(session, ctx, ctx.today()) if ctx.mail is not None else None
    count = run.owing if run is not None else len(owing_customers(session))
    verb = "has an open balance" if count == 1 else "have open balances"
    text = f"{plural(count, 'customer')} {verb}."
    if run is not None:
        text += f" {plural(run.queued + run.earlier, 'statement')} going out by email"
        text += f"; {run.no_email} without a billing email." if run.no_email else "."
    reply = Reply(title="Statements go out today", text=text, where=Where(ctx.team.workflow.channels.collections))
    counts = {"customers": count}
    if run is not None:
        counts |= {"queued": run.queued, "no_email": run.no_email}
    return JobResult((reply,), counts=counts)


# --- finals day ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _FinalAccount:
    erp_id: str
    name: str
    currency: str
    collector_email: str | None
    past_due: Decimal
    days_past_due: int


def finals_day(ctx: AppContext, session: Session) -> JobResult:
    """On the 6th business day, final invoices get worked: the channel sees every customer with
    a past-due final invoice, each collector gets their own."""
    day = ctx.today()
    accounts = _past_due_finals(session, day)
    collectors = sorted({a.collector_email for a in accounts if a.collector_email})
    replies = [
        _finals_reply(
            f"Your past-due finals for {day_label(day)}",
            [a for a in accounts if a.collector_email == email],
            ctx,
            to_user=email,
        )
        for email in collectors
    ]
    replies.append(
        _finals_reply(
            f"Finals day: {plural(len(accounts), 'customer')} with past-due finals",
            accounts,
            ctx,
            where=Where(ctx.team.workflow.channels.collections),
        )
    )
    return JobResult(tuple(replies), counts={"customers": len(accounts), "collectors": len(collectors)})


def _past_due_finals(session: Session, day: date) -> list[_FinalAccount]:
    rows = session.execute(
        select(
            Customer.erp_id,
            Customer.name,
            Customer.currency,
            TeamMember.email,
            func.sum(Invoice.open_balance),
            func.min(Invoice.due_date),
        )
        .join(Invoice, Invoice.customer_id == Customer.id)
        .outerjoin(TeamMember, TeamMember.id == Customer.collector_id)
        .where(
            Invoice.kind == InvoiceKind.FINAL,
            Invoice.closed_on.is_(None),
            Invoice.open_balance > Decimal("0"),
            Invoice.due_date < day,
        )
        .group_by(Customer.id, Customer.erp_id, Customer.name, Customer.currency, TeamMember.email)
    ).all()
    accounts = [
        _FinalAccount(erp, name, currency, email, total, (day - oldest).days)
        for erp, name, currency, email, total, oldest in rows
    ]
    return sorted(accounts, key=lambda a: (-a.past_due, a.name))


def _finals_reply(
    title: str,
    accounts: Sequence[_FinalAccount],
    ctx: AppContext,
    *,
    to_user: str | None = None,
    where: Where | None = None,
) -> Reply:
    shown = accounts[:LIST_ROWS]
    more = f" The largest {len(shown)} are below." if len(accounts) > len(shown) else ""
    rows = tuple(
        Row(
            title=f"{a.name} ({a.erp_id})",
            detail=f"final invoice {plural(a.days_past_due, 'day')} past due",
            fields=(
                Field("Past due", format_money(a.past_due, a.currency)),
                Field("Collector", _member_name(ctx, a.collector_email)),
            ),
            buttons=account_buttons(a.erp_id),
        )
        for a in shown
    )
    text = (
        f"{totals((a.past_due, a.currency) for a in accounts)} past due on final invoices.{more}"
        if accounts
        else "No final invoice is past due."
    )
    return Reply(title=title, text=text, rows=rows, to_user=to_user, where=where)


# --- housekeeping -------------------------------------------------------------------------------

DEDUPE_KEEP_DAYS = 7  # platforms retry a delivery for minutes, not days
TIMER_RUNS_KEEP_DAYS = 30
OUTBOX_KEEP_DAYS = 14  # delivered entries; tracked posts stay (their platform may still call back)


def housekeeping(ctx: AppContext, session: Session) -> JobResult:
    """Forget what only matters for a while: delivery ids kept to drop platform retries, the
    quarter-hour timer runs (about 100 rows a business day) and delivered outbox entries. Daily
    runs stay: they are the record of what was posted when; failed entries stay for a person."""
    now = ctx.clock.now()
    events = rows_changed(
        session, delete(InboundEvent).where(InboundEvent.received_at < now - timedelta(days=DEDUPE_KEEP_DAYS))
    )
    runs = rows_changed(
        session,
        delete(JobRun).where(
            JobRun.job.contains("@"), JobRun.run_date < now.date() - timedelta(days=TIMER_RUNS_KEEP_DAYS)
        ),
    )
    sent = rows_changed(
        session,
        delete(OutboxEntry).where(
            OutboxEntry.status.in_([SENT, SKIPPED]),
            OutboxEntry.created_at < now - timedelta(days=OUTBOX_KEEP_DAYS),
            OutboxEntry.track_key.is_(None),
        ),
    )
    return JobResult(counts={"inbound_events": events, "timer_runs": runs, "outbox": sent})


# --- reports -------------------------------------------------------------------------------


def weekly_digest(ctx: AppContext, session: Session) -> JobResult:
    """Last week's figures, where money fell past due, and the 12-week aging chart."""
    with ctx.sessions() as reader:
        reply = digest.weekly_digest(ctx, read_only(reader), ctx.today())
    return JobResult((reply,), counts={"accounts": len(reply.rows)})


def cash_post(ctx: AppContext, session: Session) -> JobResult:
    """Money in today and expected over the next business days."""
    with ctx.sessions() as reader:
        reply = cash.cash_post(ctx, read_only(reader), ctx.today())
    return JobResult((reply,), counts={"fields": len(reply.fields)})


def suspension_report(ctx: AppContext, session: Session) -> JobResult:
    """Before the weekly suspension meeting: the accounts in the sequence, each with its next
    step, days past due, balance and latest note."""
    reply = suspension_report_of.weekly_report(session, ctx, ctx.today())
    return JobResult((reply,), counts={"accounts": len(reply.rows)})


# --- timers owned by the workflows ---------------------------------------------------------

Timer = Callable[[Session, AppContext], list[Reply]]


def _domain_job(timer: Timer) -> JobFn:
    """A job around a workflow's timer function ``(session, ctx) -> list[Reply]``: its changes
    and its messages commit together, as with a chat command."""

    def run(ctx: AppContext, session: Session) -> JobResult:
        replies = tuple(timer(session, ctx))
        return JobResult(replies, counts={"replies": len(replies)})

    return run


def timer_job(name: str, timer: Timer) -> Job:
    """A quarter-hour job during the working day around a workflow's timer function."""
    return Job(name, Schedule(BUSINESS_DAYS, every_minutes=TIMER_MINUTES), _domain_job(timer))


MORNING = attrgetter("daily_list_at")
SUSPENSION_REPORT = attrgetter("suspension_report_at")


def before_the_list(timers: Timers) -> time:
    """Half an hour before the morning lists (midnight at the earliest), so they show the
    suspension sequence's changes of the day."""
    at = datetime.combine(date(2000, 1, 3), timers.daily_list_at) - timedelta(minutes=30)
    return at.time() if at.date() == date(2000, 1, 3) else time(0, 0)


DIGEST = attrgetter("digest_at")
END_OF_DAY = attrgetter("cash_post_at")

JOBS: tuple[Job, ...] = (
    Job("suspension_sequence", Schedule(BUSINESS_DAYS, at=before_the_list), _domain_job(suspension_day)),
    Job("daily_lists", Schedule(BUSINESS_DAYS, at=MORNING), daily_lists),
    Job("statements_reminder", Schedule(STATEMENTS_DAY, at=MORNING), statements_reminder),
    Job("finals_day", Schedule(nth_business_day(FINALS_DAY), at=MORNING), finals_day),
    Job("housekeeping", Schedule(BUSINESS_DAYS, at=MORNING), housekeeping),
    Job("weekly_digest", Schedule(WEEKLY, at=DIGEST), weekly_digest),
    Job("cash_post", Schedule(BUSINESS_DAYS, at=END_OF_DAY), cash_post),
    Job("suspension_report", Schedule(SUSPENSION_MEETING, at=SUSPENSION_REPORT), suspension_report),
    timer_job("promise_checks", check_promises),
    timer_job("approval_timers", approval_timers.run_timers),
    timer_job("confirmation_timers", payment_timers.run_timers),
    timer_job("clearance_timers", clearance_timers.run_timers),
)
