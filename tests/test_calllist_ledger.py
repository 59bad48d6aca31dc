"""A small-ledger builder for the call-list tests, and the checks that the set-based features
agree with the same facts worked out item by item in Python."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.calllist import build_call_list, load_policy
from commands.calllist.cutoffs import cutoffs_for
from commands.calllist.features import load_features
from commands.context import AppContext
from storage.models import (
    Activity,
    ActivityKind,
    Customer,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    Outcome,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)

MONDAY = date(2026, 11, 23)
DANA, SAM, LEE = "dana.reyes@example.com", "sam.okafor@example.com", "lee.marsh@example.com"
CREATED = datetime(2026, 1, 5, tzinfo=UTC)


class Ledger:
    """Builds customers and their items relative to the list day, in one open session."""

    def __init__(self, session: Session, day: date = MONDAY) -> None:
        self.session, self.day = session, day
        self.members = dict(session.execute(select(TeamMember.email, TeamMember.id)).all())
        self._numbers = 0

    def customer(self, erp_id: str, name: str | None = None, collector: str | None = DANA) -> Customer:
        customer = Customer(erp_id=erp_id, name=name or f"Customer {erp_id}", created_at=CREATED,
                            collector_id=self.members[collector] if collector else None)
        self.session.add(customer)
        self.session.flush()
        return customer

    def invoice(self, customer: Customer, amount: str, dpd: int, kind: InvoiceKind = InvoiceKind.STANDARD,
                open_balance: str | None = None) -> Invoice:
        """An open item ``dpd`` days past due on the list day (negative: not yet due)."""
        self._numbers += 1
        item = Invoice(customer_id=customer.id, number=f"INV-{self._numbers}", kind=kind,
                       due_date=self.day - timedelta(days=dpd), amount=Decimal(amount),
                       open_balance=Decimal(open_balance if open_balance is not None else amount))
        self.session.add(item)
        self.session.flush()
        return item

    def paid_invoice(self, customer: Customer, amount: str, due_days_ago: int, days_late: int) -> Invoice:
        item = self.invoice(customer, amount, due_days_ago, open_balance="0")
        item.closed_on = item.due_date + timedelta(days=days_late)
        self.session.flush()
        return item

    def promise(self, customer: Customer, promised: date, status: PromiseStatus = PromiseStatus.OPEN,
                amount: str = "1000") -> Promise:
        promise = Promise(customer_id=customer.id, amount=Decimal(amount), promised_date=promised,
                          status=status, created_at=CREATED)
        self.session.add(promise)
        self.session.flush()
        return promise

    def dispute(self, customer: Customer, amount: str, invoice: Invoice | None = None,
                status: DisputeStatus = DisputeStatus.OPEN) -> Dispute:
        dispute = Dispute(customer_id=customer.id, invoice_id=invoice.id if invoice else None,
                          amount=Decimal(amount), reason="billing error", status=status, opened_at=CREATED)
        self.session.add(dispute)
        self.session.flush()
        return dispute

    def activity(self, customer: Customer, kind: ActivityKind, outcome: Outcome, at: datetime) -> Activity:
        activity = Activity(customer_id=customer.id, kind=kind, outcome=outcome, occurred_at=at)
        self.session.add(activity)
        self.session.flush()
        return activity

    def plan(self, customer: Customer, *, missed: bool) -> PaymentPlan:
        plan = PaymentPlan(customer_id=customer.id, total=Decimal("3000"), cadence="monthly",
                           status=PlanStatus.ACTIVE, created_at=CREATED)
        self.session.add(plan)
        self.session.flush()
        for month, status in enumerate(["paid", "missed" if missed else "paid", "due"]):
            self.session.add(PlanInstalment(plan_id=plan.id, due_date=date(2026, 9 + month, 1),
                                            amount=Decimal("1000"), status=status))
        self.session.flush()
        return plan


def call_list(ctx: AppContext, **kwargs) -> list:
    kwargs.setdefault("day", MONDAY)
    with ctx.sessions() as session:
        return build_call_list(session, ctx, **kwargs)


# -- the aggregate query agrees with a Python reading of the same items ----------------------------

def _expected(items: list[list], day: date) -> dict[int, dict[str, int]]:
    """Per customer, the open-item facts worked out one item at a time: items are
    [customer id, due date, kind, cents, disputed cents]."""
    out: dict[int, dict[str, int]] = {}
    for customer_id, due, kind, cents, disputed in items:
        facts = out.setdefault(customer_id, dict.fromkeys(
            ["balance", "past_due", "window", "finals", "mrr_months", "crossing", "amount_final_invoice",
             "amount_unpaid_mrr", "amount_over_30_days", "amount_crossing_soon"], 0) | {"oldest_dpd": None})
        dpd = (day - due).days
        facts["balance"] += cents  # the ledger's balance; collectible() takes disputes off it
        cents -= disputed
        if cents <= 0:
            continue
        facts["oldest_dpd"] = max(dpd, facts["oldest_dpd"] if facts["oldest_dpd"] is not None else dpd)
        # Monday + 3 business days is Friday 27 Nov (Thanksgiving skipped): 4 days ahead.
        crossing = any(dpd <= n < dpd + 4 for n in (30, 60, 90))
        final = kind == InvoiceKind.FINAL and 1 <= dpd <= 30
        mrr = kind == InvoiceKind.RECURRING and dpd >= 1
        facts["crossing"] += crossing
        facts["past_due"] += cents if dpd >= 1 else 0
        facts["window"] += 5 <= dpd <= 15
        facts["finals"] += final
        facts["mrr_months"] += mrr
        facts["amount_final_invoice"] += cents if final else 0
        facts["amount_unpaid_mrr"] += cents if mrr else 0
        facts["amount_over_30_days"] += cents if dpd > 30 else 0
        facts["amount_crossing_soon"] += cents if crossing else 0
    return out


def test_open_item_aggregates_match_item_by_item_arithmetic(ctx: AppContext) -> None:
    """Random items, twins among them (alike in due date, kind and amount), and disputes: whole,
    partial and two on one invoice, some on one twin only."""
    rng = random.Random(11)
    kinds = list(InvoiceKind)
    items: list[list] = []
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        customers = [ledger.customer(f"R{i}") for i in range(40)]
        by_id = {c.id: c for c in customers}
        invoices = []
        for n in range(400):
            customer, kind = rng.choice(customers), rng.choice(kinds)
            credit = kind in (InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT)
            cents = rng.randint(1, 500_000) * (-1 if credit else 1)
            dpd = rng.randint(-40, 130)
            if n % 10 == 9:  # a twin of the one before
                customer, kind, cents = by_id[items[-1][0]], items[-1][2], items[-1][3]
                dpd = (MONDAY - items[-1][1]).days
            invoices.append(ledger.invoice(customer, str(Decimal(cents) / 100), dpd, kind))
            items.append([customer.id, MONDAY - timedelta(days=dpd), kind, cents, 0])
        for index in rng.sample([i for i, item in enumerate(items) if item[3] > 0], 80):
            for _ in range(2 if index % 5 == 0 else 1):
                part = rng.choice([items[index][3], items[index][3] // 2, items[index][3] // 5])
                ledger.dispute(by_id[items[index][0]], str(Decimal(part) / 100), invoices[index])
                items[index][4] += part
        # Closed items never count.
        ledger.paid_invoice(customers[0], "999.00", 70, 3)
    policy = load_policy(None)
    cut = cutoffs_for(MONDAY, policy, ctx.calendar, ctx.team.timezone)
    with ctx.sessions() as session:
        frame = load_features(session, cut, collector_id=None)
    expected = _expected(items, MONDAY)
    assert sorted(frame.index) == sorted(expected)
    for customer_id, facts in expected.items():
        got = {k: None if pd.isna(frame.loc[customer_id, k]) else int(frame.loc[customer_id, k])
               for k in facts}
        assert got == facts, customer_id


def test_an_empty_ledger_gives_an_empty_list(ctx: AppContext) -> None:
    assert call_list(ctx) == []


@pytest.mark.parametrize("collector", [DANA, None])
def test_rows_carry_the_api_fields(ctx: AppContext, collector: str | None) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        acme = ledger.customer("C100", "Acme Dental Group", collector=collector)
        ledger.invoice(acme, "1234.56", 40)
        ledger.invoice(acme, "-200.00", 10, InvoiceKind.CREDIT_MEMO)
        ledger.invoice(acme, "500.00", -5)
    (row,) = call_list(ctx)
    assert (row.rank, row.erp_id, row.customer_name, row.collector_email) == (1, "C100", "Acme Dental Group", collector)
    assert row.balance_due == Decimal("1534.56") and isinstance(row.balance_due, Decimal)
    assert row.days_past_due == 40
    assert row.customer_id == acme.id
    assert row.reasons[0] == "$1,235 over 30 days"


def test_facts_about_customers_without_open_items_change_nothing(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        paid_up = ledger.customer("PAIDUP")
        ledger.promise(paid_up, MONDAY - timedelta(days=40), PromiseStatus.KEPT)
        ledger.dispute(paid_up, "100")
        mrr = ledger.customer("MRR")
        ledger.invoice(mrr, "2500", 22, InvoiceKind.RECURRING)
        ledger.invoice(mrr, "2500", 18, InvoiceKind.RECURRING)
    (row,) = call_list(ctx)
    assert row.erp_id == "MRR"
    assert row.reasons[0] == "2 months of recurring invoices unpaid"
