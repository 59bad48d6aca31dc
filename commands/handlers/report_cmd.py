"""``report [kpi] [this month | last month | <from> <to>] [<collector>]``,
``report explain <kpi> [period] [<collector>]`` and ``report weekly [xlsx]``: the team's KPIs in
chat, last week's digest with its chart, or the weekly workbook as a file.

Managers, approvers, finance and admins see the team or any collector. A collector sees their
own figures only (their customers, their contacts and requests): asking for the team or for a
colleague is refused, so the numbers a manager is judged by stay with managers while each
collector can still watch their own."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.kpi import EXPLAINED, KpiReport, Period, explain, headline, kpi_name, kpi_report, last_month, this_month
from commands.kpi.digest import weekly_digest
from commands.kpi.workbook import last_week, weekly_sheets
from commands.messages import Attachment, Field, Reply
from commands.parsing.amounts import format_money
from commands.refusal import Refusal
from commands.workbooks import workbook_bytes
from storage.models import TeamMember

USAGE = (
    "report [kpi] [this month | last month | <from> <to>] [<collector>]  ·  report explain <kpi>  ·  "
    "report weekly [xlsx]"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEE_TEAM = frozenset({"manager", "controller", "vp_finance", "finance", "finance_lead", "admin"})
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
MONEY = frozenset(
    {"beginning_receivables", "credit_sales", "ending_receivables", "ending_current", "over_90", "past_due_31"}
)
LABELS = {
    "beginning_receivables": "Beginning receivables (B)",
    "credit_sales": "Credit sales (S)",
    "ending_receivables": "Ending receivables (E)",
    "ending_current": "Ending current (C)",
    "dso": "DSO (days)",
    "best_possible_dso": "Best possible DSO",
    "add": "ADD (days)",
    "cei": "CEI",
    "countback_dso": "Countback DSO",
    "ptp_kept_rate": "Promises kept %",
    "ptp_kept_amount_rate": "Promises kept $ %",
    "over_90": "90+ past due",
    "past_due_31": "31+ past due",
    "retainer_compliance_rate": "Retainers met %",
    "retainer_days_to_pay": "Retainer days to pay",
}


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    collector: str | None  # email; None for the whole team
    explain: str | None = None
    weekly: str | None = None  # "digest" or "xlsx": last week's digest, or its workbook


def parse(args: str, env: ParseEnv) -> ReportRequest | Refusal:
    words = args.lower().split()
    if words[:1] == ["weekly"]:
        return _weekly(words[1:], env)
    kpi = None
    if words[:1] == ["explain"]:
        if len(words) < 2 or (kpi := kpi_name(words[1])) is None:
            return Refusal(f"which figure? one of {', '.join(EXPLAINED)}")
        words = words[2:]
    elif words[:1] == ["kpi"]:
        words = words[1:]
    period, words = _period(words, env.today())
    if isinstance(period, Refusal):
        return period
    collector = _collector(" ".join(words), env)
    if isinstance(collector, Refusal):
        return collector
    return _allowed(ReportRequest(period, collector, kpi), env.actor)


def _weekly(words: list[str], env: ParseEnv) -> ReportRequest | Refusal:
    """``report weekly`` (the digest, with its chart) or ``report weekly xlsx`` (the workbook)."""
    if words not in ([], ["xlsx"], ["excel"]):
        return Refusal("type report weekly for last week's digest, or report weekly xlsx for the workbook")
    if not env.actor.member.roles & SEE_TEAM:
        return Refusal(
            "the weekly report covers the whole team: it is for managers, finance and admins; "
            "type report for your own figures"
        )
    return ReportRequest(last_week(env.today()), None, weekly="xlsx" if words else "digest")


def _period(words: list[str], today: date) -> tuple[Period | Refusal, list[str]]:
    """The period the words start with (this month when they name none), and the words left."""
    if words[:2] == ["this", "month"]:
        return this_month(today), words[2:]
    if words[:2] == ["last", "month"]:
        return last_month(today), words[2:]
    dates = [w for w in words[:2] if _ISO.fullmatch(w)]
    if not dates:
        return this_month(today), words
    if len(dates) < 2:
        return Refusal("a period is two dates, from and to, like 2026-10-01 2026-10-31"), words
    try:
        first, last = (date.fromisoformat(d) for d in dates)
    except ValueError:
        return Refusal(f"{' '.join(dates)} is not two days on the calendar"), words
    if last < first:
        return Refusal(f"the period ends ({last}) before it starts ({first})"), words
    return Period(first, last), words[2:]


def _collector(text: str, env: ParseEnv) -> str | None | Refusal:
    """A collector named by email, full name or first name; None when nobody is named."""
    text = text.strip()
    if not text:
        return None
    found = [m for m in env.ctx.team.collectors if text in (m.email.lower(), m.name.lower(), m.name.lower().split()[0])]
    if len(found) != 1:
        names = ", ".join(m.name for m in env.ctx.team.collectors)
        return Refusal(f"no single collector is called {text!r}; collectors: {names}")
    return found[0].email


def _allowed(request: ReportRequest, actor: Actor) -> ReportRequest | Refusal:
    """Managers, finance and admins see anything; a collector only their own figures."""
    if actor.member.roles & SEE_TEAM:
        return request
    if not actor.member.has("collector"):
        return Refusal("reports are for managers, finance and admins")
    if request.collector not in (None, actor.email):
        return Refusal("collectors see their own figures only; type report without a name")
    return ReportRequest(request.period, actor.email, request.explain)


def handle(request: ReportRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply]:
    collector = None
    if request.collector:
        member_id = session.scalar(select(TeamMember.id).where(TeamMember.email == request.collector))
        collector = (request.collector, member_id or -1)
    if request.weekly == "xlsx":
        return [_workbook(ctx, session, request.period)]
    if request.weekly == "digest":
        return [replace(weekly_digest(ctx, session, request.period.last + timedelta(days=1)), where=None, private=True)]
    report = kpi_report(ctx, session, request.period, collector=collector)
    if request.explain:
        title, lines = explain(report, request.explain)
        return [Reply(title=title, text="\n".join(lines), private=True)]
    return [_card(report)]


def _workbook(ctx: AppContext, session: Session, period: Period) -> Reply:
    data = workbook_bytes(weekly_sheets(ctx, session, period))
    return Reply(
        title=f"Weekly workbook, {period}",
        text="Sheets: KPIs against targets, aging by customer, activity, promises and disputes.",
        files=(
            Attachment(
                name=f"weekly-{period.first.isoformat()}.xlsx", mime=XLSX, data=data, title=f"Weekly report {period}"
            ),
        ),
        private=True,
    )


def _card(report: KpiReport) -> Reply:
    who = report.collector or "the team"
    fields = [Field(LABELS[key], _shown(key, value)) for key, value in headline(report).items()]
    contacts = ", ".join(f"{email.split('@')[0]} {n}" for email, n in report.contacts.items()) or "none"
    text = (
        f"Meaningful contacts: {contacts}. Promises due: {report.promises.kept} kept, "
        f"{report.promises.broken} broken. Type report explain cei (or dso, add, ...) for the arithmetic."
    )
    return Reply(title=f"KPIs for {who}, {report.period}", text=text, fields=tuple(fields), private=True)


def _shown(key: str, value: str | None) -> str:
    if value is None:
        return "n/a"
    return format_money(Decimal(value)) if key in MONEY else value


COMMAND = Command(
    name="report",
    reads_only=True,
    usage=USAGE,
    parse=parse,
    handle=handle,
    aliases=("kpi",),
    summary="The team's KPIs (DSO, CEI, ADD, promises kept, 90+) for a period; report explain cei shows the sums.",
    examples=(
        "report",
        "report last month",
        "report 2026-10-01 2026-10-31 dana",
        "report explain cei",
        "report weekly",
        "report weekly xlsx",
    ),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
