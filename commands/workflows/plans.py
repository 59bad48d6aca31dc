"""Payment plan schedules: ``n`` instalments of a total, starting on a first date, at a cadence.

The schedule is computed when the plan is requested and stored on the request, so the approver
approves exactly the dates and amounts shown on the card, whatever day they decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from commands.calendar import BusinessCalendar
from storage.audit import record
from storage.models import PaymentPlan, PlanInstalment, PlanStatus

CADENCES = ("weekly", "biweekly", "monthly")
MIN_INSTALMENTS, MAX_INSTALMENTS = 2, 24
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Instalment:
    number: int  # 1-based, as a customer would count them
    due: date
    amount: Decimal


def split_total(total: Decimal, n: int) -> list[Decimal]:
    """``n`` amounts to the cent that add up to ``total`` exactly: equal shares rounded down,
    the leftover cents on the last one (the customer is never asked for more up front)."""
    share = (total / n).quantize(CENT, rounding=ROUND_DOWN)
    return [share] * (n - 1) + [total - share * (n - 1)]


def nominal_due(first: date, cadence: str, k: int) -> date:
    """The ``k``-th due date (0-based) before business-day rolling. Monthly dates are counted from
    the first date each time, so 31 Jan gives 28 Feb and then 31 Mar, never drifting to the 28th."""
    if cadence == "weekly":
        return first + timedelta(weeks=k)
    if cadence == "biweekly":
        return first + timedelta(weeks=2 * k)
    if cadence == "monthly":
        return first + relativedelta(months=k)
    raise ValueError(f"cadence must be one of {', '.join(CADENCES)}, not {cadence!r}")


def schedule(total: Decimal, n: int, cadence: str, first: date, calendar: BusinessCalendar) -> list[Instalment]:
    """The instalments, each due on a business day (a weekend or holiday rolls forward)."""
    if not MIN_INSTALMENTS <= n <= MAX_INSTALMENTS:
        raise ValueError(f"a plan has {MIN_INSTALMENTS} to {MAX_INSTALMENTS} instalments, not {n}")
    amounts = split_total(total, n)
    return [
        Instalment(k + 1, calendar.on_or_after(nominal_due(first, cadence, k)), amount)
        for k, amount in enumerate(amounts)
    ]


def to_details(instalments: list[Instalment]) -> list[list[str]]:
    """The schedule as JSON-friendly pairs (ISO date, amount) for the request's details."""
    return [[i.due.isoformat(), str(i.amount)] for i in instalments]


def from_details(pairs: list[list[str]]) -> list[Instalment]:
    return [Instalment(k, date.fromisoformat(day), Decimal(amount)) for k, (day, amount) in enumerate(pairs, start=1)]


def create_plan(
    session: Session,
    *,
    customer_id: int,
    total: Decimal,
    cadence: str,
    instalments: list[Instalment],
    approved_by_id: int,
    actor: str,
    at: datetime,
) -> PaymentPlan:
    """The approved plan and its instalment rows, audited together."""
    plan = PaymentPlan(
        customer_id=customer_id,
        total=total,
        cadence=cadence,
        status=PlanStatus.ACTIVE,
        approved_by_id=approved_by_id,
        created_at=at,
    )
    session.add(plan)
    session.flush()
    for instalment in instalments:
        session.add(
            PlanInstalment(
                plan_id=plan.id,
                due_date=instalment.due,
                amount=instalment.amount,
                paid_amount=Decimal("0.00"),
                status="due",
            )
        )
    session.flush()
    record(
        session,
        at=at,
        actor=actor,
        action="plan.created",
        entity_type="payment_plan",
        entity_id=plan.id,
        customer_id=customer_id,
        total=total,
        cadence=cadence,
        schedule=[f"{i.due.isoformat()} {i.amount}" for i in instalments],
    )
    return plan
