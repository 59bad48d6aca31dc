"""Whole lists: the cap per collector, one collector's list, grouping, and the shortlist that
reads payment history only where it can still change the list."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from commands.calllist import CallListError, load_policy
from commands.calllist.account_facts import load_history
from commands.calllist.cutoffs import cutoffs_for
from commands.calllist.features import load_features
from commands.calllist.ranking import cut_to_capacity, score
from commands.calllist.table import Table
from commands.context import AppContext
from storage.models import InvoiceKind, PromiseStatus
from tests.support.ledger import DANA, LEE, MONDAY, SAM, Ledger, call_list


def _spread(ctx: AppContext, per_collector: int) -> None:
    """Each collector (and nobody) gets accounts whose debts grow with their number."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for owner in (DANA, SAM, LEE, None):
            for i in range(per_collector):
                customer = ledger.customer(f"{(owner or 'none')[:4].upper()}{i:02d}", collector=owner)
                ledger.invoice(customer, str(1000 * (i + 1)), 35 + i)


def test_each_collector_is_capped_and_ranked_from_one(ctx: AppContext) -> None:
    _spread(ctx, 5)
    rows = call_list(ctx, capacity=3)
    assert [(r.collector_email, r.rank) for r in rows] == [
        (email, rank) for email in (DANA, SAM, LEE, None) for rank in (1, 2, 3)
    ]
    assert [r.erp_id for r in rows[:3]] == ["DANA04", "DANA03", "DANA02"]


def test_the_team_capacity_is_the_default(ctx: AppContext) -> None:
    _spread(ctx, 3)
    ctx.team = replace(ctx.team, capacity=2)
    assert len(call_list(ctx, collector_email=SAM)) == 2


def test_one_collectors_list(ctx: AppContext) -> None:
    _spread(ctx, 4)
    rows = call_list(ctx, collector_email="  Sam.Okafor@Example.com ")
    assert {r.collector_email for r in rows} == {SAM}
    assert [r.rank for r in rows] == [1, 2, 3, 4]


def test_an_unknown_collector_is_refused(ctx: AppContext) -> None:
    with pytest.raises(CallListError, match="nobody@example.com is not a member of the team"):
        call_list(ctx, collector_email="nobody@example.com")


def _random_ledger(ctx: AppContext, seed: int) -> None:
    rng = random.Random(seed)
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for n in range(60):
            customer = ledger.customer(f"R{n:02d}", collector=rng.choice([DANA, SAM]))
            for _ in range(rng.randint(1, 4)):
                kind = rng.choice([InvoiceKind.STANDARD, InvoiceKind.RECURRING, InvoiceKind.FINAL])
                ledger.invoice(customer, str(rng.choice([500, 2000, 9000])), rng.randint(-10, 120), kind)
            for _ in range(rng.randint(0, 4)):
                ledger.paid_invoice(customer, "700", rng.randint(60, 300), rng.randint(0, 45))
            if rng.random() < 0.3:
                ledger.promise(customer, MONDAY - timedelta(days=rng.randint(3, 20)), PromiseStatus.BROKEN)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shortlisting_gives_the_list_that_reading_everyones_history_would(
    ctx: AppContext, tmp_path: Path, seed: int
) -> None:
    # Payment history weighs heavily here, so it decides much of the order.
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text("[rules.days_late]\nweight = 700\nmin_paid_invoices = 1\n")
    _random_ledger(ctx, seed)
    policy = load_policy(ctx.policy_file)
    cut = cutoffs_for(MONDAY, policy, ctx.calendar, ctx.team.timezone)
    with ctx.sessions() as session:
        features = load_features(session, cut, collector_id=None)
        history = load_history(session, cut, None, collector_id=None).reindex(features.index)
    features = features.assign(
        avg_days_late=history["avg_days_late"], paid_invoices=history["paid_invoices"].fillna(0).astype("int64")
    )
    expected = cut_to_capacity(score(Table.from_frame(features), policy), 6).frame()
    rows = call_list(ctx, capacity=6)
    assert [r.customer_id for r in rows] == sorted(
        expected.index, key=lambda i: (expected.loc[i, "collector_id"], expected.loc[i, "rank"])
    )
    assert any("late on average" in reason for r in rows for reason in r.reasons)


def test_when_every_account_is_left_out_every_list_is_empty(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        netted = ledger.customer("NETTED")  # a zero balance: the credit memo nets the invoice
        ledger.invoice(netted, "500.00", 40)
        ledger.invoice(netted, "-500.00", 10, InvoiceKind.CREDIT_MEMO)
        disputed = ledger.customer("DISPUTED", collector=SAM)  # everything open is in dispute
        ledger.dispute(disputed, "900.00", ledger.invoice(disputed, "900.00", 50))
        promised = ledger.customer("PROMISED", collector=None)  # a promise not yet due
        ledger.invoice(promised, "2000.00", 35)
        ledger.promise(promised, MONDAY + timedelta(days=3))
        not_due = ledger.customer("NOTDUE")  # nothing past due yet
        ledger.invoice(not_due, "700.00", -5)
    assert call_list(ctx) == []
    assert call_list(ctx, collector_email=DANA) == []
    assert call_list(ctx, capacity=1) == []


def test_alike_accounts_are_listed_oldest_record_first_and_the_cap_cuts_between_them(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        alike = []
        for n, collector in enumerate([DANA, DANA, SAM, DANA, DANA]):
            customer = ledger.customer(f"A{n}", collector=collector)
            ledger.invoice(customer, "1500.00", 45)
            ledger.invoice(customer, "250.00", 12)
            alike.append(customer.id)
    rows = call_list(ctx, capacity=3)
    assert [(r.customer_id, r.rank) for r in rows] == [
        (alike[0], 1),
        (alike[1], 2),
        (alike[3], 3),
        (alike[2], 1),
    ]
    assert len({(r.score, r.reasons) for r in rows}) == 1
