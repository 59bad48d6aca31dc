"""The end-of-day cash post for the collections channel: the money that came in today (confirmed
by finance in chat, and seen in today's imports) and the money expected over the next
:data:`AHEAD` business days, day by day (open promises and payment-plan instalments still owed).

A payment finance confirmed and an import then showed is counted once, as confirmed: imports
record only what they see beyond the confirmed money (commands.import_money)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.kpi.activity import Window
from commands.messages import Field, Reply, Where
from commands.parsing.amounts import format_money
from commands.parsing.dates import format_day
from storage.models import Payment, PaymentPlan, PlanInstalment, PlanStatus, Promise, PromiseStatus

AHEAD = 5
ZERO = Decimal("0.00")


def cash_post(ctx: AppContext, session: Session, today: date) -> Reply:
    received = _received(ctx, session, today)
    expected = _expected(ctx, session, today)
    fields = [
        Field("Confirmed by finance", _count_money(*received.get("finance", (0, ZERO)))),
        Field("Seen in imports", _count_money(*received.get("import", (0, ZERO)))),
    ]
    fields += [Field(format_day(day), _expected_line(promised, planned)) for day, (promised, planned) in expected]
    total_in = sum((amount for _, amount in received.values()), ZERO)
    total_ahead = sum((p[1] + q[1] for _, (p, q) in expected), ZERO)
    return Reply(
        title=f"Cash, {format_day(today)}",
        text=f"In today: {format_money(total_in, 'USD')}. Expected over the next {AHEAD} business days: "
        f"{format_money(total_ahead, 'USD')} (open promises and plan instalments).",
        fields=tuple(fields),
        where=Where(ctx.team.workflow.channels.collections),
    )


def _received(ctx: AppContext, session: Session, today: date) -> dict[str, tuple[int, Decimal]]:
    """Payments recorded today (local day), by source: count and amount."""
    window = Window.of(ctx, today, today)
    stmt = (
        select(Payment.source, func.count(), func.sum(Payment.amount))
        .where(Payment.created_at >= window.start, Payment.created_at < window.end, Payment.amount > 0)
        .group_by(Payment.source)
    )
    return {source: (count, Decimal(total)) for source, count, total in session.execute(stmt)}


Owed = tuple[int, Decimal]


def _expected(ctx: AppContext, session: Session, today: date) -> list[tuple[date, tuple[Owed, Owed]]]:
    """The next business days after today, each with (promises, instalments) still owed."""
    days = [ctx.calendar.add_business_days(today, n) for n in range(1, AHEAD + 1)]
    first, last = days[0], days[-1]
    promised = _by_day(
        session.execute(
            select(Promise.promised_date, Promise.amount, Promise.paid_amount).where(
                Promise.status == PromiseStatus.OPEN, Promise.promised_date.between(first, last)
            )
        )
    )
    planned = _by_day(
        session.execute(
            select(PlanInstalment.due_date, PlanInstalment.amount, PlanInstalment.paid_amount)
            .join(PaymentPlan, PaymentPlan.id == PlanInstalment.plan_id)
            .where(
                PaymentPlan.status == PlanStatus.ACTIVE,
                PlanInstalment.status == "due",
                PlanInstalment.due_date.between(first, last),
            )
        )
    )
    # Money due on a weekend or holiday is expected on the business day after it.
    on_business_day = [(ctx.calendar.on_or_after(d), owed) for d, owed in promised.items()]
    plan_days = [(ctx.calendar.on_or_after(d), owed) for d, owed in planned.items()]
    return [
        (day, (_sum(o for d, o in on_business_day if d == day), _sum(o for d, o in plan_days if d == day)))
        for day in days
    ]


def _by_day(rows: Iterable[Any]) -> dict[date, Owed]:
    """(count, amount still owed) per day, from (day, amount, paid) rows."""
    out: dict[date, list[Decimal]] = defaultdict(list)
    for day, amount, paid in rows:
        if amount - paid > 0:
            out[day].append(amount - paid)
    return {day: (len(amounts), sum(amounts, ZERO)) for day, amounts in out.items()}


def _sum(owed: Iterable[Owed]) -> Owed:
    items = list(owed)
    return sum(n for n, _ in items), sum((a for _, a in items), ZERO)


def _count_money(count: int, amount: Decimal) -> str:
    return "nothing" if not count else f"{format_money(amount, 'USD')} ({count} payment{'s' if count != 1 else ''})"


def _expected_line(promised: Owed, planned: Owed) -> str:
    parts = []
    if promised[0]:
        parts.append(f"{format_money(promised[1], 'USD')} promised ({promised[0]})")
    if planned[0]:
        parts.append(f"{format_money(planned[1], 'USD')} in plan instalments ({planned[0]})")
    return "; ".join(parts) or "nothing due"
