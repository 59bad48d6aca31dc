"""Retainer figures for the KPI report.

- **Retainer compliance rate** = customers whose retainer held on the period's last day meets
  their requirement / customers with a requirement set by then × 100 (what is held that day is
  read as :func:`commands.retainers.standings` reads it ``on`` a day).
- **Retainer days to pay** = the average, over retainer invoices paid in the period, of the days
  from the invoice date to the day it was paid: the day finance confirmed the customer's first
  payment on or after the invoice date (and no later than the import that showed the invoice
  closed), else the day of that import. Invoices still open or without an invoice date are not
  counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.kpi.activity import Spread, Window
from commands.retainers import standings
from storage.models import Customer, Invoice, InvoiceKind, Payment


@dataclass(frozen=True)
class Retainers:
    required: int  # customers with a requirement on the period's last day
    met: int  # ... whose retainer held then meets it
    days_to_pay: Spread


def retainers(session: Session, window: Window, *, collector_id: int | None = None) -> Retainers:
    required, met = _compliance(session, window, collector_id)
    return Retainers(required=required, met=met, days_to_pay=Spread.of(_days_to_pay(session, window, collector_id)))


def _compliance(session: Session, window: Window, collector_id: int | None) -> tuple[int, int]:
    scope = None
    if collector_id is not None:
        scope = list(session.scalars(select(Customer.id).where(Customer.collector_id == collector_id)))
    found = standings(session, scope, on=window.last, set_before=window.end)
    return len(found), sum(not retainer.short for retainer in found.values())


def _days_to_pay(session: Session, window: Window, collector_id: int | None) -> list[Decimal]:
    query = select(Invoice.customer_id, Invoice.issue_date, Invoice.closed_on).where(
        Invoice.kind == InvoiceKind.RETAINER,
        Invoice.amount > 0,
        Invoice.issue_date.is_not(None),
        Invoice.closed_on.is_not(None),
    )
    if collector_id is not None:
        query = query.join(Customer, Customer.id == Invoice.customer_id).where(Customer.collector_id == collector_id)
    days = []
    for customer_id, issued, closed in session.execute(query):
        if issued is None or closed is None:  # filtered out by the query; narrows the types
            continue
        paid = _confirmed_on(session, customer_id, issued, closed) or closed
        if window.first <= paid <= window.last:
            days.append(Decimal((paid - issued).days))
    return days


def _confirmed_on(session: Session, customer_id: int, issued: date, closed: date) -> date | None:
    first: date | None = session.scalar(
        select(func.min(Payment.received_on)).where(
            Payment.customer_id == customer_id,
            Payment.source == "finance",
            Payment.amount > 0,
            Payment.received_on >= issued,
            Payment.received_on <= closed,
        )
    )
    return first
