"""The activity log as rows for a spreadsheet: every call, voicemail and email logged in a period,
with who, which customer, whom they spoke to, the outcome, the note and the promise taken.

Times are the team's local time (a sheet cannot hold a zone; its note names it). The promise
column shows promises the same collector took from the same customer on the same local day, as
"$500.00 by 2026-12-04", since a promise is logged as its own command right after the call."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.kpi.activity import Window
from commands.parsing.amounts import format_money
from commands.workbooks import Column, Sheet
from storage.models import Activity, Customer, Promise, TeamMember

ACTIVITY_COLUMNS = (
    Column("When", "when", "moment"),
    Column("Collector", "collector"),
    Column("Customer", "customer"),
    Column("Customer ID", "erp_id"),
    Column("Kind", "kind"),
    Column("Contact", "contact"),
    Column("Outcome", "outcome"),
    Column("Note", "note", width=60),
    Column("Promise", "promise"),
)


def activity_rows(
    ctx: AppContext, session: Session, first: date, last: date, *, collector_id: int | None = None
) -> list[dict[str, Any]]:
    """One row per activity from ``first`` to ``last`` (local days), oldest first."""
    window = Window.of(ctx, first, last)
    start, end = window.start, window.end
    stmt = (
        select(Activity, Customer.name, Customer.erp_id, TeamMember.name)
        .join(Customer, Customer.id == Activity.customer_id)
        .outerjoin(TeamMember, TeamMember.id == Activity.member_id)
        .where(Activity.occurred_at >= start, Activity.occurred_at < end)
        .order_by(Activity.occurred_at, Activity.id)
    )
    if collector_id is not None:
        stmt = stmt.where(Activity.member_id == collector_id)
    promised = _promises_by_day(ctx, session, start, end)
    rows = []
    for activity, customer, erp_id, member in session.execute(stmt):
        local = activity.occurred_at.astimezone(ctx.team.timezone)
        rows.append(
            {
                "when": local,
                "collector": member or "",
                "customer": customer,
                "erp_id": erp_id,
                "kind": activity.kind.value,
                "contact": activity.contact_name or "",
                "outcome": activity.outcome.value.replace("-", " "),
                "note": activity.note or "",
                "promise": promised.get((activity.customer_id, activity.member_id, local.date()), ""),
            }
        )
    return rows


def _promises_by_day(
    ctx: AppContext, session: Session, start: datetime, end: datetime
) -> dict[tuple[int, int | None, date], str]:
    said: dict[tuple[int, int | None, date], list[str]] = defaultdict(list)
    promises = session.scalars(
        select(Promise).where(Promise.created_at >= start, Promise.created_at < end).order_by(Promise.id)
    )
    for p in promises:
        day = p.created_at.astimezone(ctx.team.timezone).date()
        said[(p.customer_id, p.member_id, day)].append(f"{format_money(p.amount, 'USD')} by {p.promised_date}")
    return {key: "; ".join(texts) for key, texts in said.items()}


def activity_sheet(
    ctx: AppContext, session: Session, first: date, last: date, *, collector_id: int | None = None
) -> Sheet:
    zone = ctx.team.timezone.key
    return Sheet(
        "Activity",
        ACTIVITY_COLUMNS,
        activity_rows(ctx, session, first, last, collector_id=collector_id),
        note=f"Times are {zone} time. Activity {first} to {last}.",
    )
