"""The weekly digest for the collections channel: last week's figures against the targets and
against the week before, the accounts where most money fell past due, and the 12-week aging
chart (:mod:`commands.kpi.chart`).

"Newly past due" is money on items still open today that fell due during the week: what the
week added to past due and nobody has paid. (An item paid in the week is no longer owed, so it
is not counted as growth.)"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.kpi.alerts import say
from commands.kpi.chart import aging_chart_png, aging_weeks
from commands.kpi.report import KpiReport, Period, figures, kpi_report
from commands.kpi.workbook import last_week
from commands.messages import Attachment, Field, Reply, Row, Where
from commands.parsing.amounts import format_money
from commands.parsing.dates import format_day
from commands.targets import Target
from storage.models import Customer, Invoice, TeamMember

TOP_ACCOUNTS = 5
# The figures the digest shows: key, label, unit.
SHOWN = (
    ("dso", "DSO", "days"),
    ("cei", "CEI", "percent"),
    ("past_due_31", "More than 30 days past due", "money"),
    ("over_90", "More than 90 days past due", "money"),
    ("ptp_kept_rate", "Promises kept", "percent"),
)


def weekly_digest(ctx: AppContext, session: Session, today: date) -> Reply:
    """The digest for the week before ``today``'s, ready for the collections channel."""
    week = last_week(today)
    before = Period(week.first - timedelta(days=7), week.last - timedelta(days=7))
    now, then = kpi_report(ctx, session, week), kpi_report(ctx, session, before)
    targets = {t.kind.figure: t for t in ctx.team.targets}
    fields = tuple(Field(label, _figure(now, then, key, unit, targets.get(key))) for key, label, unit in SHOWN)
    rows = tuple(_grown(session, week))
    ceiling = next((t.limit for t in ctx.team.targets if t.key == "past_due_31_max"), None)
    chart = aging_chart_png(
        aging_weeks(session, week.last), ceiling=ceiling, title=f"Receivables by age, 12 weeks to {week.last:%d %b %Y}"
    )
    return Reply(
        title=f"Weekly digest: {format_day(week.first)} to {format_day(week.last)}",
        text="Last week's figures against the targets and the week before; below, where most money fell "
        "past due and is still unpaid."
        if rows
        else "Last week's figures against the targets and the "
        "week before. No money fell past due last week that is still unpaid.",
        fields=fields,
        rows=rows,
        where=Where(ctx.team.workflow.channels.collections),
        files=(
            Attachment(
                name=f"aging-{week.last.isoformat()}.png",
                mime="image/png",
                data=chart,
                title="Receivables by age, last 12 weeks",
            ),
        ),
    )


def _figure(now: KpiReport, then: KpiReport, key: str, unit: str, target: Target | None) -> str:
    value, previous = figures(now)[key], figures(then)[key]
    if value is None:
        return "n/a (nothing to measure last week)"
    text = say(value, unit)
    if target is not None:
        verdict = "missed" if target.missed_by(value) else "met"
        text += f" (target {say(target.limit, unit, as_given=True)}: {verdict})"
    if previous is not None and previous != value:
        change = value - previous
        amount = f"{abs(change).quantize(Decimal('0.1'))} points" if unit == "percent" else say(abs(change), unit)
        text += f", {'up' if change > 0 else 'down'} {amount} on the week before"
    elif previous is not None:
        text += ", as the week before"
    return text


def _grown(session: Session, week: Period) -> list[Row]:
    """The accounts with the most money that fell due in the week and is still open."""
    amount = func.sum(Invoice.open_balance)
    stmt = (
        select(Customer.name, TeamMember.name, amount, func.count())
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(TeamMember, TeamMember.id == Customer.collector_id)
        .where(
            Invoice.closed_on.is_(None),
            Invoice.open_balance > 0,
            Invoice.due_date.between(week.first - timedelta(days=1), week.last - timedelta(days=1)),
        )
        .group_by(Customer.id, Customer.name, TeamMember.name)
        .order_by(amount.desc(), Customer.name)
        .limit(TOP_ACCOUNTS)
    )
    return [
        Row(
            title=f"{name}: {format_money(Decimal(total), 'USD')} newly past due",
            detail=f"{count} item{'s' if count != 1 else ''}; collector {collector or 'nobody'}",
        )
        for name, collector, total, count in session.execute(stmt)
    ]
