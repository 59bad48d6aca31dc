"""The demo portfolio: the same seed and anchor day give the same ledger; it holds every kind
of item, every aging bucket and every workflow state the call list must handle; it loads once,
and never into a ledger that holds real customers."""

from __future__ import annotations

import argparse
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot import cli_demo
from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.team import load_team, sync_members
from demo import BUCKETS, DemoAlreadyLoaded, DemoError, DemoSummary, load_demo
from storage.db import make_engine, make_session_factory
from storage.models import (
    Activity,
    ActivityKind,
    AuditEvent,
    Contact,
    Customer,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Invoice,
    InvoiceKind,
    Outcome,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)

ANCHOR = date(2026, 11, 23)  # the fixture clock's Monday
SATURDAY_NOON = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
CREDIT_KINDS = {InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT}


def _bucket(dpd: int) -> str:
    if dpd <= 0:
        return "current"
    return "1-30" if dpd <= 30 else "31-60" if dpd <= 60 else "61-90" if dpd <= 90 else "90+"


@pytest.fixture
def demo(ctx: AppContext) -> DemoSummary:
    with ctx.sessions.begin() as session:
        return load_demo(session, ctx)


@pytest.fixture
def fresh_ctx(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[[str, FixedClock], AppContext]]:
    """More empty, migrated SQLite ledgers for the example team, each with its own clock."""
    engines: list[Engine] = []

    def make(name: str, clock: FixedClock) -> AppContext:
        path = tmp_path / f"{name}.db"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        engines.append(engine)
        team = load_team(EXAMPLE_TEAM_FILE)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            sync_members(session, team)
        return AppContext(sessions=sessions, team=team, calendar=BusinessCalendar(team.country), clock=clock)

    yield make
    for engine in engines:
        engine.dispose()


def _load(ctx: AppContext, **kwargs: int) -> DemoSummary:
    with ctx.sessions.begin() as session:
        return load_demo(session, ctx, **kwargs)


def _snapshot(ctx: AppContext) -> dict[str, list[tuple]]:
    """The ledger as comparable rows, keyed by ERP id so two databases can be compared."""
    with ctx.sessions() as s:
        erp = Customer.erp_id
        return {
            "invoices": [
                tuple(r)
                for r in s.execute(
                    select(
                        Invoice.id,
                        erp,
                        Invoice.number,
                        Invoice.kind,
                        Invoice.issue_date,
                        Invoice.due_date,
                        Invoice.amount,
                        Invoice.open_balance,
                        Invoice.closed_on,
                    )
                    .join(Customer, Customer.id == Invoice.customer_id)
                    .order_by(Invoice.id)
                )
            ],
            "customers": [
                tuple(r)
                for r in s.execute(
                    select(erp, Customer.name, Customer.segment, TeamMember.email, Customer.created_at)
                    .join(TeamMember, TeamMember.id == Customer.collector_id)
                    .order_by(Customer.id)
                )
            ],
            "activities": [
                tuple(r)
                for r in s.execute(
                    select(erp, Activity.kind, Activity.outcome, Activity.occurred_at, Activity.note)
                    .join(Customer, Customer.id == Activity.customer_id)
                    .order_by(Activity.id)
                )
            ],
            "promises": [
                tuple(r)
                for r in s.execute(
                    select(erp, Promise.amount, Promise.promised_date, Promise.status)
                    .join(Customer, Customer.id == Promise.customer_id)
                    .order_by(Promise.id)
                )
            ],
        }


def _count(ctx: AppContext, model: type) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_same_seed_and_anchor_give_identical_ledgers(ctx: AppContext, fresh_ctx) -> None:
    _load(ctx)
    # Saturday's work day is the same Monday: same anchor, same data, whatever the clock says.
    weekend = fresh_ctx("weekend", FixedClock(SATURDAY_NOON))
    _load(weekend)
    first, second = _snapshot(ctx), _snapshot(weekend)
    assert len(first["invoices"]) > 2000
    assert first == second

    other_seed = fresh_ctx("seed8", FixedClock(SATURDAY_NOON))
    _load(other_seed, seed=8)
    assert _snapshot(other_seed)["invoices"] != first["invoices"]


def test_the_anchor_moves_the_portfolio_with_it(fresh_ctx) -> None:
    """Dates are relative to the anchor, so a demo loaded later is just as freshly aged."""
    monday = fresh_ctx("monday", FixedClock(datetime(2026, 11, 23, 15, tzinfo=UTC)))
    in_march = fresh_ctx("march", FixedClock(datetime(2027, 3, 9, 15, tzinfo=UTC)))
    now, later = _load(monday), _load(in_march)
    assert later.anchor == date(2027, 3, 9)
    assert now.promises == later.promises and now.customers == later.customers
    assert all(sum(row[b] for row in later.open_items.values()) > 0 for b in BUCKETS)
    with in_march.sessions() as s:
        latest_issue = s.scalar(select(func.max(Invoice.issue_date)))
        open_promise = s.scalar(select(func.min(Promise.promised_date)).where(Promise.status == PromiseStatus.OPEN))
    assert date(2027, 2, 20) <= latest_issue <= date(2027, 3, 9)
    assert open_promise > date(2027, 3, 9)


def test_open_items_cover_every_kind_and_bucket(ctx: AppContext, demo: DemoSummary) -> None:
    with ctx.sessions() as s:
        items = s.execute(
            select(Invoice.kind, Invoice.due_date, Invoice.amount, Invoice.open_balance).where(
                Invoice.closed_on.is_(None)
            )
        ).all()
        per_customer = s.execute(select(func.count(Invoice.id)).group_by(Invoice.customer_id)).scalars().all()
    assert {kind for kind, *_ in items} == set(InvoiceKind)
    buckets = Counter(_bucket((ANCHOR - due).days) for kind, due, amount, _ in items if amount > 0)
    assert set(buckets) == {"current", "1-30", "31-60", "61-90", "90+"}
    assert min(buckets.values()) >= 10
    # Credits are negative; some invoices are partly paid.
    assert all(amount < 0 and balance < 0 for kind, _, amount, balance in items if kind in CREDIT_KINDS)
    assert any(Decimal("0") < balance < amount for kind, _, amount, balance in items if kind not in CREDIT_KINDS)
    assert all(isinstance(amount, Decimal) for _, _, amount, _ in items)
    # The printed summary is what is stored.
    assert sum(sum(row.values()) for row in demo.open_items.values()) == len(items)
    assert demo.open_total == sum((balance for *_, balance in items), Decimal("0.00"))
    assert 8 <= sum(per_customer) / len(per_customer) <= 15


def test_paid_history_has_realistic_lateness(ctx: AppContext, demo: DemoSummary) -> None:
    with ctx.sessions() as s:
        paid = s.execute(
            select(Invoice.issue_date, Invoice.due_date, Invoice.closed_on).where(
                Invoice.closed_on.is_not(None), Invoice.amount > 0
            )
        ).all()
        payments = s.execute(select(Payment.received_on, Payment.amount)).all()
        applied_credits = s.scalar(select(func.count()).where(Invoice.closed_on.is_not(None), Invoice.amount < 0))
    late = [(closed - due).days for _, due, closed in paid]
    assert len(paid) + applied_credits == demo.paid_invoices
    assert sum(d <= 0 for d in late) > 200 and sum(d > 30 for d in late) > 50
    assert all(issue <= closed < ANCHOR for issue, _, closed in paid)
    assert len(payments) >= len(paid) and all(day < ANCHOR and amount > 0 for day, amount in payments)


def test_mrr_red_flags_and_finals_just_past_due(ctx: AppContext, demo: DemoSummary) -> None:
    with ctx.sessions() as s:
        mrr_behind = (
            s.execute(
                select(Invoice.customer_id)
                .where(Invoice.closed_on.is_(None), Invoice.kind == InvoiceKind.RECURRING, Invoice.due_date < ANCHOR)
                .group_by(Invoice.customer_id)
                .having(func.count(Invoice.id).between(2, 3))
            )
            .scalars()
            .all()
        )
        finals = s.scalars(
            select(Invoice.due_date).where(
                Invoice.closed_on.is_(None),
                Invoice.kind == InvoiceKind.FINAL,
                Invoice.due_date.between(ANCHOR - timedelta(days=7), ANCHOR - timedelta(days=1)),
            )
        ).all()
    assert len(mrr_behind) >= 3
    assert len(finals) >= 3


def test_customers_are_owned_named_and_reachable(ctx: AppContext, demo: DemoSummary) -> None:
    collectors = {m.email for m in ctx.team.collectors}
    with ctx.sessions() as s:
        owners = Counter(s.scalars(select(TeamMember.email).join(Customer, Customer.collector_id == TeamMember.id)))
        customers = s.execute(select(Customer.erp_id, Customer.name, Customer.segment)).all()
        contacts = s.execute(select(Contact.customer_id, Contact.phone, Contact.email, Contact.is_primary)).all()
        amounts = sorted(s.scalars(select(Invoice.amount).where(Invoice.amount > 0)))
    assert set(owners) == collectors and sum(owners.values()) == 300 and min(owners.values()) >= 60
    assert [erp for erp, *_ in customers] == [f"DEMO-C{10000 + i}" for i in range(300)]
    assert len({name for _, name, _ in customers}) == 300
    segments = Counter(segment for *_, segment in customers)
    assert set(segments) == {"SMB", "mid-market", "enterprise"}
    assert segments["SMB"] > segments["mid-market"] > segments["enterprise"] > 0
    assert len(contacts) == 600 and sum(primary for *_, primary in contacts) == 300
    assert all(re.fullmatch(r"\(\d{3}\) 555-01\d\d", phone) for _, phone, _, _ in contacts)
    assert all(email.endswith(".example.com") for _, _, email, _ in contacts)
    # Skewed sizes: a few large accounts far above the typical invoice.
    assert amounts[-1] > 20 * amounts[len(amounts) // 2]
    assert demo.collectors == {
        "Dana Reyes": owners["dana.reyes@example.com"],
        "Lee Marsh": owners["lee.marsh@example.com"],
        "Sam Okafor": owners["sam.okafor@example.com"],
    }


def test_promises_kept_broken_and_open(ctx: AppContext, demo: DemoSummary) -> None:
    with ctx.sessions() as s:
        promises = s.scalars(select(Promise)).all()
        calls = {
            (a.customer_id, a.occurred_at)
            for a in s.scalars(select(Activity).where(Activity.outcome == Outcome.REACHED))
        }
        past_due = dict(
            s.execute(
                select(Invoice.customer_id, func.count())
                .where(Invoice.closed_on.is_(None), Invoice.amount > 0, Invoice.due_date < ANCHOR)
                .group_by(Invoice.customer_id)
            ).all()
        )
    by_status = Counter(p.status for p in promises)
    assert by_status[PromiseStatus.KEPT] >= 10 and by_status[PromiseStatus.BROKEN] >= 3
    assert by_status[PromiseStatus.OPEN] >= 4
    recently_broken = [
        p for p in promises if p.status == PromiseStatus.BROKEN and p.promised_date >= ANCHOR - timedelta(days=10)
    ]
    assert len(recently_broken) >= 3
    assert demo.promises == {s.value: n for s, n in by_status.items()}
    for p in promises:
        assert (p.customer_id, p.created_at) in calls  # each promise was made on a logged call
        if p.status == PromiseStatus.KEPT:
            assert p.paid_amount == p.amount and p.settled_on <= p.promised_date < ANCHOR
        elif p.status == PromiseStatus.BROKEN:
            assert p.paid_amount == 0 and ANCHOR - timedelta(days=60) < p.promised_date < p.settled_on < ANCHOR
        else:
            assert p.promised_date > ANCHOR and p.created_at.date() < ANCHOR and past_due[p.customer_id] > 0


def test_disputes_hold_and_plan(ctx: AppContext, demo: DemoSummary) -> None:
    with ctx.sessions() as s:
        disputes = s.execute(select(Dispute, Invoice).join(Invoice, Invoice.id == Dispute.invoice_id)).all()
        holds = s.scalars(select(Hold)).all()
        plan = s.scalars(select(PaymentPlan)).one()
        instalments = list(plan.instalments)
        active = next(h for h in holds if h.status == HoldStatus.ACTIVE)
        held_dpd = s.scalars(
            select(Invoice.due_date).where(Invoice.customer_id == active.customer_id, Invoice.closed_on.is_(None))
        ).all()
        plan_payments = s.scalars(
            select(Payment.amount).where(Payment.customer_id == plan.customer_id, Payment.reference.like("PLAN%"))
        ).all()
    open_disputes = [(d, inv) for d, inv in disputes if d.status == DisputeStatus.OPEN]
    assert len(open_disputes) == 2 == demo.open_disputes
    assert all(inv.closed_on is None and 0 < d.amount <= inv.open_balance for d, inv in open_disputes)
    assert any(d.amount < inv.open_balance for d, inv in open_disputes)  # one contests part of an invoice
    resolved = [d for d, _ in disputes if d.status == DisputeStatus.RESOLVED]
    assert resolved and all(d.resolved_at > d.opened_at and d.outcome for d in resolved)

    assert [h.status for h in holds].count(HoldStatus.ACTIVE) == 1 == demo.active_holds
    assert "90 days" in active.reason and active.placed_by_id is not None
    assert any((ANCHOR - due).days > 90 for due in held_dpd)

    assert plan.status == PlanStatus.ACTIVE and demo.active_plans == 1
    assert sum(i.amount for i in instalments) == plan.total
    assert all(i.status == "paid" and i.paid_amount == i.amount for i in instalments if i.due_date < ANCHOR)
    assert all(i.status == "due" for i in instalments if i.due_date >= ANCHOR)
    assert len(plan_payments) == sum(i.due_date < ANCHOR for i in instalments) >= 1


def test_credit_accounts_and_accounts_worked_this_morning(ctx: AppContext, demo: DemoSummary) -> None:
    start = datetime(2026, 11, 23, 6, tzinfo=UTC)  # midnight in Chicago
    with ctx.sessions() as s:
        net = s.execute(
            select(Invoice.customer_id, func.sum(Invoice.open_balance))
            .where(Invoice.closed_on.is_(None))
            .group_by(Invoice.customer_id)
        ).all()
        today = s.scalars(select(Activity).where(Activity.occurred_at >= start)).all()
        latest_before = s.scalar(select(func.max(Activity.occurred_at)).where(Activity.occurred_at < start))
    credits = [c for c, balance in net if balance < 0]
    assert len(credits) >= 3 and demo.credit_accounts == len(credits)
    reached = {a.customer_id for a in today if a.outcome == Outcome.REACHED}
    attempts = Counter(a.customer_id for a in today if a.kind in (ActivityKind.CALL, ActivityKind.VOICEMAIL))
    tried = {c for c, n in attempts.items() if n >= 3} - reached
    assert len(reached) >= 2 and len(tried) >= 2
    assert (demo.reached_today, demo.tried_today) == (len(reached), len(tried))
    assert all(a.occurred_at < ctx.clock.now() for a in today)  # logged before this 9:00 list
    assert latest_before < start


def test_minimum_portfolio_still_plays_every_part(fresh_ctx) -> None:
    for seed in range(1, 6):
        summary = _load(fresh_ctx(f"small{seed}", FixedClock(SATURDAY_NOON)), seed=seed, customers=40)
        assert summary.customers == 40
        assert (summary.open_disputes, summary.active_holds, summary.active_plans) == (2, 1, 1)
        assert (summary.reached_today, summary.tried_today) == (2, 2)
        assert summary.promises["broken"] >= 3 and summary.promises["open"] >= 4
        assert summary.credit_accounts >= 3


def test_one_audit_event_records_the_counts(ctx: AppContext, demo: DemoSummary) -> None:
    with ctx.sessions() as s:
        event = s.scalars(select(AuditEvent)).one()
    assert (event.action, event.entity_type, event.actor) == ("demo.load", "portfolio", "system:demo")
    assert event.data["seed"] == 7 and event.data["anchor"] == "2026-11-23"
    counts = event.data["counts"]
    for table, model in (
        ("customers", Customer),
        ("invoices", Invoice),
        ("payments", Payment),
        ("activities", Activity),
        ("promises", Promise),
        ("disputes", Dispute),
        ("holds", Hold),
        ("payment_plans", PaymentPlan),
        ("plan_instalments", PlanInstalment),
        ("contacts", Contact),
    ):
        assert counts[table] == _count(ctx, model), table


def _args(**kwargs: int) -> argparse.Namespace:
    return argparse.Namespace(**{"seed": 7, "customers": 300, **kwargs})


def test_cli_prints_the_summary(ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_demo.run(ctx, _args()) == 0
    out = capsys.readouterr().out
    with ctx.sessions() as s:
        promises = dict(s.execute(select(Promise.status, func.count()).group_by(Promise.status)).all())
        open_items = s.scalar(select(func.count()).where(Invoice.closed_on.is_(None)))
    assert "as of Monday 2026-11-23" in out and "Customers: 300" in out
    assert re.search(r"Open items\s+current\s+1-30\s+31-60\s+61-90\s+90\+\s+all", out)
    for label in ("standard", "final", "recurring (MRR)", "retainer", "credit memo", "unapplied payment"):
        assert re.search(rf"^  {re.escape(label)}\s+\d", out, re.MULTILINE), label
    assert f"{open_items:,} open)" in out
    assert (
        f"Promises: {promises[PromiseStatus.KEPT]} kept, {promises[PromiseStatus.BROKEN]} broken, "
        f"{promises[PromiseStatus.OPEN]} open"
    ) in out
    assert "Disputes open: 2; holds active: 1; payment plans active: 1" in out


def test_reload_is_refused_without_duplicates(ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    _load(ctx, customers=40)
    before = {m: _count(ctx, m) for m in (Customer, Invoice, Activity, AuditEvent)}
    with pytest.raises(DemoAlreadyLoaded, match=r"already loaded \(40 customers\)"):
        _load(ctx, customers=40)
    assert cli_demo.run(ctx, _args()) == 0
    assert capsys.readouterr().out.strip() == (
        "demo portfolio already loaded (40 customers); use a fresh DATABASE_URL to reload"
    )
    assert {m: _count(ctx, m) for m in before} == before


def test_refuses_to_mix_into_a_real_ledger(ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    with ctx.sessions.begin() as s:
        s.add(Customer(erp_id="C1001", name="Birch & Sons Plumbing", created_at=ctx.clock.now()))
    assert cli_demo.run(ctx, _args()) == 1
    err = capsys.readouterr().err
    assert "already holds 1 customer that is not demo data" in err and "Traceback" not in err
    with pytest.raises(DemoError):
        _load(ctx)
    assert (_count(ctx, Customer), _count(ctx, Invoice), _count(ctx, AuditEvent)) == (1, 0, 0)


@pytest.mark.parametrize("customers", [0, 39, 5001])
def test_impossible_sizes_are_refused(ctx: AppContext, capsys: pytest.CaptureFixture[str], customers: int) -> None:
    assert cli_demo.run(ctx, _args(customers=customers)) == 1
    assert f"between 40 and 5000 customers (got {customers})" in capsys.readouterr().err
    assert (_count(ctx, Customer), _count(ctx, AuditEvent)) == (0, 0)
