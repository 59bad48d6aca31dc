"""Promises settle against payments (any source): oldest promised date first, kept only when
covered by the deadline (promised date plus grace business days), one audit event each."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from commands.context import AppContext
from commands.promise_checks import break_overdue_promises
from commands.settlement import apply_payment_to_promises, promise_deadline
from storage.models import AuditEvent, Customer, Payment, Promise, PromiseStatus

AT = datetime(2026, 11, 23, 15, tzinfo=UTC)


def _setup(session, promises: list[tuple[str, date]]) -> tuple[Customer, list[Promise]]:
    customer = Customer(erp_id="C1", name="Acme Dental Group", created_at=AT)
    session.add(customer)
    session.flush()
    rows = [
        Promise(customer_id=customer.id, amount=Decimal(amount), promised_date=promised, created_at=AT)
        for amount, promised in promises
    ]
    session.add_all(rows)
    session.flush()
    return customer, rows


def _pay(session, customer: Customer, amount: str, received: date) -> Payment:
    payment = Payment(
        customer_id=customer.id, amount=Decimal(amount), received_on=received, source="finance", created_at=AT
    )
    session.add(payment)
    session.flush()
    return payment


def test_payment_fills_the_earliest_promise_first(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        customer, (later, sooner) = _setup(session, [("300.00", date(2026, 11, 30)), ("200.00", date(2026, 11, 24))])
        payment = _pay(session, customer, "250.00", date(2026, 11, 23))
        changed = apply_payment_to_promises(
            session, payment=payment, at=AT, actor="priya.shah@example.com", calendar=ctx.calendar
        )
        assert changed == [sooner, later]
        assert (sooner.status, sooner.paid_amount, sooner.settled_on) == (
            PromiseStatus.KEPT,
            Decimal("200.00"),
            date(2026, 11, 23),
        )
        assert (later.status, later.paid_amount) == (PromiseStatus.OPEN, Decimal("50.00"))
    with ctx.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.entity_id, e.data["applied"]) for e in events] == [
        ("promise.kept", sooner.id, "200.00"),
        ("promise.part_paid", later.id, "50.00"),
    ]
    assert events[0].actor == "priya.shah@example.com"


def test_grace_is_counted_in_business_days(ctx: AppContext) -> None:
    """Promised Wednesday 25 Nov: Thursday is Thanksgiving, so one day of grace ends Friday."""
    with ctx.sessions.begin() as session:
        customer, (promise,) = _setup(session, [("100.00", date(2026, 11, 25))])
        assert promise_deadline(promise, calendar=ctx.calendar) == date(2026, 11, 27)
        payment = _pay(session, customer, "100.00", date(2026, 11, 27))
        apply_payment_to_promises(session, payment=payment, at=AT, actor="x", calendar=ctx.calendar)
        assert promise.status == PromiseStatus.KEPT


def test_a_late_payment_covers_but_breaks_the_promise(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        customer, (promise,) = _setup(session, [("100.00", date(2026, 11, 18))])
        payment = _pay(session, customer, "120.00", date(2026, 11, 23))
        apply_payment_to_promises(session, payment=payment, at=AT, actor="x", calendar=ctx.calendar)
        assert (promise.status, promise.paid_amount, promise.settled_on) == (
            PromiseStatus.BROKEN,
            Decimal("100.00"),
            date(2026, 11, 23),
        )


def test_settled_promises_take_no_more_money(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        customer, (done, open_one) = _setup(session, [("100.00", date(2026, 11, 20)), ("40.00", date(2026, 11, 30))])
        done.status = PromiseStatus.KEPT
        payment = _pay(session, customer, "500.00", date(2026, 11, 23))
        assert apply_payment_to_promises(session, payment=payment, at=AT, actor="x", calendar=ctx.calendar) == [
            open_one
        ]
        assert (done.paid_amount, open_one.paid_amount) == (Decimal("0.00"), Decimal("40.00"))


def test_overdue_uncovered_promises_break_once_their_deadline_passed(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        _customer, (overdue, due_today, future) = _setup(
            session, [("10.00", date(2026, 11, 18)), ("10.00", date(2026, 11, 20)), ("10.00", date(2026, 11, 30))]
        )
        broken = break_overdue_promises(
            session, today=date(2026, 11, 23), at=AT, actor="system:import", grace_days=1, calendar=ctx.calendar
        )
        assert [promise for promise, _customer in broken] == [overdue]
        assert (overdue.status, overdue.settled_on) == (PromiseStatus.BROKEN, date(2026, 11, 23))
        assert due_today.status == future.status == PromiseStatus.OPEN
    with ctx.sessions() as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["promise.broken"]
