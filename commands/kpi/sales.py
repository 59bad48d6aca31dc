"""Credit sales: original amounts of invoices (not credit memos or unapplied payments) by the day
they were issued. An invoice without an issue date counts as issued 30 days before its due
date (net 30), the same rule the receivables use."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.kpi.formulas import Month
from commands.kpi.receivables import ASSUMED_TERMS, CREDITS, ZERO, of_collector
from storage.models import Invoice


def daily_sales(session: Session, first: date, last: date, *, collector_id: int | None = None) -> dict[date, Decimal]:
    """Credit sales per issue day from ``first`` to ``last`` inclusive."""
    sales: dict[date, Decimal] = defaultdict(lambda: ZERO)
    invoices = Invoice.kind.not_in(CREDITS)
    dated = (select(Invoice.issue_date, func.sum(Invoice.amount))
             .where(invoices, Invoice.issue_date.between(first, last)).group_by(Invoice.issue_date))
    undated = (select(Invoice.due_date, func.sum(Invoice.amount))
               .where(invoices, Invoice.issue_date.is_(None),
                      Invoice.due_date.between(first + ASSUMED_TERMS, last + ASSUMED_TERMS))
               .group_by(Invoice.due_date))
    for day, total in session.execute(of_collector(dated, collector_id)):
        sales[day] += Decimal(total)
    for due, total in session.execute(of_collector(undated, collector_id)):
        sales[due - ASSUMED_TERMS] += Decimal(total)
    return dict(sales)


def credit_sales(session: Session, first: date, last: date, *, collector_id: int | None = None) -> Decimal:
    return sum(daily_sales(session, first, last, collector_id=collector_id).values(), ZERO)


def monthly_sales(session: Session, last: date, *, months: int = 24,
                  collector_id: int | None = None) -> list[Month]:
    """The sales of the month of ``last`` (up to that day) and of the months before it, newest
    first: the countback's input."""
    starts = [_month_start(last, back) for back in range(months)]
    sales = daily_sales(session, starts[-1], last, collector_id=collector_id)
    out = []
    for back, start in enumerate(starts):
        end = last if back == 0 else starts[back - 1] - timedelta(days=1)
        total = sum((v for d, v in sales.items() if start <= d <= end), ZERO)
        out.append(Month(label=f"{start:%b %Y}", sales=total, days=(end - start).days + 1))
    return out


def _month_start(day: date, back: int) -> date:
    """The first day of the month ``back`` months before ``day``'s."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)
