"""The weekly report as a workbook (``arbot report weekly FILE.xlsx``, ``report weekly xlsx`` in
chat): the KPIs against the team's targets, aging by customer, the week's activity, promises and
disputes, each on its own formatted sheet (:mod:`commands.workbooks`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from commands.activity_export import activity_sheet
from commands.context import AppContext
from commands.kpi.activity import Window
from commands.kpi.report import HEADLINE, Period, as_dict, kpi_report
from commands.workbooks import Column, Sheet
from storage.models import Customer, Dispute, Invoice, Promise, TeamMember

LABELS = {
    "beginning_receivables": "Beginning receivables (B)",
    "credit_sales": "Credit sales (S)",
    "ending_receivables": "Ending receivables (E)",
    "ending_current": "Ending current (C)",
    "dso": "DSO (days)",
    "best_possible_dso": "Best possible DSO (days)",
    "add": "Average days delinquent",
    "cei": "CEI (%)",
    "countback_dso": "Countback DSO (days)",
    "ptp_kept_rate": "Promise-kept rate (%)",
    "ptp_kept_amount_rate": "Promise-kept rate by amount (%)",
    "over_90": "More than 90 days past due",
    "past_due_31": "More than 30 days past due",
    "retainer_compliance_rate": "Retainer compliance rate (%)",
    "retainer_days_to_pay": "Retainer days to pay",
}
BUCKETS = (("current", None, 0), ("d1_30", 1, 30), ("d31_60", 31, 60), ("d61_90", 61, 90), ("over_90", 91, None))


def last_week(today: date) -> Period:
    """Monday to Sunday of the week before ``today``'s."""
    monday = today - timedelta(days=today.weekday() + 7)
    return Period(monday, monday + timedelta(days=6))


def weekly_sheets(ctx: AppContext, session: Session, period: Period) -> list[Sheet]:
    return [
        kpi_sheet(ctx, session, period),
        aging_sheet(session, period.last),
        activity_sheet(ctx, session, period.first, period.last),
        promise_sheet(ctx, session, period),
        dispute_sheet(ctx, session, period),
    ]


def kpi_sheet(ctx: AppContext, session: Session, period: Period) -> Sheet:
    figures = as_dict(kpi_report(ctx, session, period))
    limits = {t.kind.figure: t for t in ctx.team.targets}
    rows = []
    for key in HEADLINE:
        value = None if figures[key] is None else Decimal(figures[key])
        target = limits.get(key)
        status = "" if target is None or value is None else ("missed" if target.missed_by(value) else "met")
        rows.append(
            {"figure": LABELS[key], "value": value, "target": target.limit if target else None, "status": status}
        )
    columns = (
        Column("Figure", "figure"),
        Column("Value", "value", "money"),
        Column("Target", "target", "money"),
        Column("Status", "status"),
    )
    return Sheet("KPIs", columns, rows, note=f"{period}, whole team. Definitions: README, Reports.")


def aging_sheet(session: Session, day: date) -> Sheet:
    """Each customer's open items aged on ``day`` (days past due), largest balance first."""
    past_due = (
        func.julianday(day) - func.julianday(Invoice.due_date)
        if _sqlite(session)
        else cast(literal(day), Date) - Invoice.due_date
    )
    sums = [
        func.sum(case(((_within(past_due, lo, hi)), Invoice.open_balance), else_=0)).label(name)
        for name, lo, hi in BUCKETS
    ]
    total = func.sum(Invoice.open_balance)
    stmt = (
        select(Customer.name, Customer.erp_id, TeamMember.name, *sums, total)
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(TeamMember, TeamMember.id == Customer.collector_id)
        .where(Invoice.closed_on.is_(None))
        .group_by(Customer.id, Customer.name, Customer.erp_id, TeamMember.name)
        .order_by(total.desc(), Customer.name)
    )
    rows = [
        {
            "customer": name,
            "erp_id": erp_id,
            "collector": collector or "",
            **{b[0]: _money(v) for b, v in zip(BUCKETS, values[:-1], strict=True)},
            "total": _money(values[-1]),
        }
        for name, erp_id, collector, *values in session.execute(stmt)
    ]
    columns = (
        Column("Customer", "customer"),
        Column("Customer ID", "erp_id"),
        Column("Collector", "collector"),
        Column("Current", "current", "money"),
        Column("1-30", "d1_30", "money"),
        Column("31-60", "d31_60", "money"),
        Column("61-90", "d61_90", "money"),
        Column("Over 90", "over_90", "money"),
        Column("Total", "total", "money"),
    )
    return Sheet("Aging by customer", columns, rows, note=f"Open items as the ledger holds them, aged on {day}.")


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _within(days: Any, lo: int | None, hi: int | None) -> Any:
    """Days past due in [lo, hi]; "current" (lo None) is not yet past due."""
    if lo is None:
        return days <= hi
    return days >= lo if hi is None else (days >= lo) & (days <= hi)


def _money(cents_or_amount: Any) -> Decimal:
    """The sums of a Money column come back as integer cents from a CASE, as Decimal from SUM."""
    if isinstance(cents_or_amount, Decimal):
        return cents_or_amount
    return (Decimal(int(cents_or_amount or 0)) / 100).quantize(Decimal("0.01"))


def promise_sheet(ctx: AppContext, session: Session, period: Period) -> Sheet:
    """Promises taken in the period or falling due in it."""
    window = Window.of(ctx, period.first, period.last)
    stmt = (
        select(Promise, Customer.name, TeamMember.name)
        .join(Customer, Customer.id == Promise.customer_id)
        .outerjoin(TeamMember, TeamMember.id == Promise.member_id)
        .where(
            or_(
                Promise.promised_date.between(period.first, period.last),
                (Promise.created_at >= window.start) & (Promise.created_at < window.end),
            )
        )
        .order_by(Promise.promised_date, Promise.id)
    )
    rows = [
        {
            "customer": customer,
            "collector": member or "",
            "amount": p.amount,
            "due": p.promised_date,
            "status": p.status.value,
            "paid": p.paid_amount,
            "taken": p.created_at.astimezone(ctx.team.timezone).date(),
        }
        for p, customer, member in session.execute(stmt)
    ]
    columns = (
        Column("Customer", "customer"),
        Column("Collector", "collector"),
        Column("Amount", "amount", "money"),
        Column("Promised for", "due", "date"),
        Column("Status", "status"),
        Column("Paid", "paid", "money"),
        Column("Taken on", "taken", "date"),
    )
    return Sheet("Promises", columns, rows)


def dispute_sheet(ctx: AppContext, session: Session, period: Period) -> Sheet:
    """Disputes open at the end of the period or resolved in it."""
    window = Window.of(ctx, period.first, period.last)
    stmt = (
        select(Dispute, Customer.name)
        .join(Customer, Customer.id == Dispute.customer_id)
        .where(Dispute.opened_at < window.end, or_(Dispute.resolved_at.is_(None), Dispute.resolved_at >= window.start))
        .order_by(Dispute.opened_at, Dispute.id)
    )
    tz = ctx.team.timezone
    rows = [
        {
            "customer": customer,
            "amount": d.amount,
            "reason": d.reason,
            "status": d.status.value,
            "opened": d.opened_at.astimezone(tz).date(),
            "resolved": d.resolved_at.astimezone(tz).date() if d.resolved_at else None,
            "outcome": d.outcome or "",
        }
        for d, customer in session.execute(stmt)
    ]
    columns = (
        Column("Customer", "customer"),
        Column("Amount", "amount", "money"),
        Column("Reason", "reason"),
        Column("Status", "status"),
        Column("Opened", "opened", "date"),
        Column("Resolved", "resolved", "date"),
        Column("Outcome", "outcome"),
    )
    return Sheet("Disputes", columns, rows)
