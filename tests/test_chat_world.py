"""The account queries (balance, aging buckets) checked by hand against the small ledger the chat
tests talk to (tests/support/world.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from commands.accounts import account_balance, account_summary, aging, aging_of
from commands.context import AppContext
from storage.models import (
    Activity,
    ActivityKind,
    Customer,
    Invoice,
    Outcome,
)
from tests.support.world import seed_world


def test_balance_is_net_of_credits_and_buckets_follow_days_past_due(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    with ctx.sessions() as session:
        assert account_balance(session, ids["C100"]) == Decimal("3350.10")
        assert account_balance(session, ids["C700"]) == Decimal("0.00")
        buckets = dict(aging(session, ids["C100"], as_of=date(2026, 11, 23)).buckets())
    assert buckets == {
        "current": Decimal("500.00"),
        "1-30": Decimal("-250.00"),
        "31-60": Decimal("1000.00"),
        "61-90": Decimal("100.10"),
        "90+": Decimal("2000.00"),
    }
    assert all(isinstance(v, Decimal) for v in buckets.values())


def test_closed_items_leave_the_balance(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    with ctx.sessions.begin() as session:
        invoice = session.scalar(select(Invoice).where(Invoice.number == "INV-3"))
        invoice.closed_on = date(2026, 11, 20)
    with ctx.sessions() as session:
        assert account_balance(session, ids["C100"]) == Decimal("1350.10")
        assert aging(session, ids["C100"], as_of=date(2026, 11, 23)).over_90 == Decimal("0.00")


def test_bucket_edges() -> None:
    as_of = date(2026, 11, 23)
    days = [0, 1, 30, 31, 60, 61, 90, 91, -5]
    result = aging_of(((date.fromordinal(as_of.toordinal() - d), Decimal(1)) for d in days), as_of=as_of)
    assert (result.current, result.days_1_30, result.days_31_60, result.days_61_90, result.over_90) == (
        Decimal(2),
        Decimal(2),
        Decimal(2),
        Decimal(2),
        Decimal(1),
    )


def test_summary_lists_open_promises_holds_disputes_and_latest_contacts_first(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    with ctx.sessions.begin() as session:
        for hour in range(16, 23):
            session.add(
                Activity(
                    customer_id=ids["C100"],
                    kind=ActivityKind.EMAIL,
                    outcome=Outcome.EMAIL_SENT,
                    note=f"email {hour}",
                    occurred_at=datetime(2026, 11, 21, hour, tzinfo=UTC),
                )
            )
    with ctx.sessions() as session:
        summary = account_summary(session, session.get(Customer, ids["C100"]), as_of=date(2026, 11, 23))
        summit = account_summary(session, session.get(Customer, ids["C300"]), as_of=date(2026, 11, 23))
    assert [c.note for c in summary.recent_contacts] == [f"email {h}" for h in (22, 21, 20, 19, 18)]
    assert [h.reason for h in summary.active_holds] == ["final invoice over 90 days"]
    assert [d.reason for d in summary.open_disputes] == ["INV-4 billed twice"]
    assert summary.open_promises == ()
    assert [(p.amount, p.promised_date) for p in summit.open_promises] == [(Decimal("300.00"), date(2026, 12, 1))]
