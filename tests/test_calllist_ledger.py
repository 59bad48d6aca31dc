"""The set-based call-list features agree with the same facts worked out item by item in Python
(the small-ledger builder is tests/support/ledger.py)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest

from commands.calllist import load_policy
from commands.calllist.cutoffs import cutoffs_for
from commands.calllist.features import load_features
from commands.context import AppContext
from storage.models import (
    InvoiceKind,
    PromiseStatus,
)
from tests.support.ledger import DANA, MONDAY, Ledger, call_list, facts_item_by_item

# -- the aggregate query agrees with a Python reading of the same items ----------------------------


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
    expected = facts_item_by_item(items, MONDAY)
    assert sorted(frame.index) == sorted(expected)
    for customer_id, facts in expected.items():
        got = {k: None if pd.isna(frame.loc[customer_id, k]) else int(frame.loc[customer_id, k]) for k in facts}
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
