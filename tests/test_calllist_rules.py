"""Each default ranking rule, shown on two customers alike in everything but that rule's fact.

Every case checks that the customer with the fact ranks first with a higher score and the rule's
reason; then, with the rule's weight set to 0 in a team policy file, that the two score the same
and the reason is gone, so the first half is known to rest on that rule alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from commands.calllist.policy import TIER_RULES
from commands.context import AppContext
from storage.models import Customer, InvoiceKind, PromiseStatus
from tests.support.ledger import MONDAY, Ledger, call_list

Build = Callable[[Ledger, Customer, bool], None]


def _final(ledger: Ledger, c: Customer, has: bool) -> None:
    ledger.invoice(c, "5000", 3, InvoiceKind.FINAL if has else InvoiceKind.STANDARD)


def _mrr(ledger: Ledger, c: Customer, has: bool) -> None:
    kind = InvoiceKind.RECURRING if has else InvoiceKind.STANDARD
    ledger.invoice(c, "2500", 52, kind)
    ledger.invoice(c, "2500", 22, kind)


def _over_30(ledger: Ledger, c: Customer, has: bool) -> None:
    ledger.invoice(c, "5000", 45 if has else 20)


def _crossing(ledger: Ledger, c: Customer, has: bool) -> None:
    # 57 days past due on Monday is 61 on Friday (Thanksgiving Thursday is no business day).
    ledger.invoice(c, "5000", 57 if has else 50)


def _broken(ledger: Ledger, c: Customer, has: bool) -> None:
    ledger.invoice(c, "5000", 20)
    if has:
        ledger.promise(c, date(2026, 11, 18), PromiseStatus.BROKEN)


def _window(ledger: Ledger, c: Customer, has: bool) -> None:
    ledger.invoice(c, "5000", 10 if has else 20)


def _balance(ledger: Ledger, c: Customer, has: bool) -> None:
    ledger.invoice(c, "20000" if has else "5000", 20)


def _days_late(ledger: Ledger, c: Customer, has: bool) -> None:
    ledger.invoice(c, "5000", 20)
    for i in range(3):
        ledger.paid_invoice(c, "800", 100 + 30 * i, days_late=30 if has else 0)


def _promise_kept(ledger: Ledger, c: Customer, has: bool) -> None:
    ledger.invoice(c, "5000", 20)
    for i in range(4):  # all older than the broken-promise window, so only the kept rate differs
        kept = not has or i == 0
        ledger.promise(c, MONDAY - timedelta(days=60 + 10 * i), PromiseStatus.KEPT if kept else PromiseStatus.BROKEN)


CASES = [
    ("final_invoice", "weight", _final, "final invoice 3 days past due"),
    ("unpaid_mrr", "weight", _mrr, "2 months of recurring invoices unpaid"),
    ("over_30_days", "weight", _over_30, "$5,000 over 30 days"),
    ("crossing_soon", "weight", _crossing, "crosses 60 days past due on Friday"),
    ("broken_promise", "weight", _broken, "broke promise of 18 Nov"),
    ("early_window", "weight", _window, "$5,000 is 5-15 days past due, the best time to call"),
    ("balance", "per_tenfold", _balance, "$20,000 past due"),
    ("days_late", "weight", _days_late, "pays 30 days late on average"),
    ("promise_kept", "weight", _promise_kept, "kept 1 of 4 promises"),
]


def _pair(ctx: AppContext, build: Build) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        without = ledger.customer("WITHOUT")  # made first: a tie would list it first
        build(ledger, without, False)
        build(ledger, ledger.customer("WITH"), True)


def _switched_off(rule: str, key: str) -> str:
    """A team policy without the rule: no points, and out of the tiers if it is one (a tier
    ranks its accounts first whatever its weight)."""
    tiers = ", ".join(f'"{t}"' for t in TIER_RULES if t != rule)
    return f"[ranking]\ntiers = [{tiers}]\n\n[rules.{rule}]\n{key} = 0\n"


@pytest.mark.parametrize(("rule", "key", "build", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rule_lifts_the_customer_that_has_its_fact(
    ctx: AppContext, tmp_path: Path, rule: str, key: str, build: Build, reason: str
) -> None:
    _pair(ctx, build)
    first, second = call_list(ctx)
    assert (first.erp_id, second.erp_id) == ("WITH", "WITHOUT")
    assert first.score > second.score
    assert reason in first.reasons
    assert reason not in second.reasons

    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text(_switched_off(rule, key))
    switched_off = {row.erp_id: row for row in call_list(ctx)}
    assert switched_off["WITH"].score == switched_off["WITHOUT"].score
    assert reason not in switched_off["WITH"].reasons


def test_default_order_of_the_rules(ctx: AppContext) -> None:
    """Same balance everywhere; each customer has one fact; listed in the documented order."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        plain = ledger.customer("PLAIN")
        ledger.invoice(plain, "5000", 20)
        window = ledger.customer("WINDOW")
        ledger.invoice(window, "5000", 10)
        broken = ledger.customer("BROKEN")
        ledger.invoice(broken, "5000", 20)
        ledger.promise(broken, date(2026, 11, 18), PromiseStatus.BROKEN)
        crossing = ledger.customer("CROSSING")
        ledger.invoice(crossing, "5000", 28)
        over = ledger.customer("OVER30")
        ledger.invoice(over, "5000", 45)
        mrr = ledger.customer("MRR")
        ledger.invoice(mrr, "2500", 22, InvoiceKind.RECURRING)
        ledger.invoice(mrr, "2500", 18, InvoiceKind.RECURRING)
        final = ledger.customer("FINAL")
        ledger.invoice(final, "5000", 3, InvoiceKind.FINAL)
    rows = call_list(ctx)
    assert [r.erp_id for r in rows] == ["FINAL", "MRR", "OVER30", "CROSSING", "BROKEN", "WINDOW", "PLAIN"]
    assert rows[3].reasons[0] == "crosses 30 days past due on Thursday"


def test_reasons_name_the_oldest_bucket_in_whole_dollars_most_points_first(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        acme = ledger.customer("ACME")
        ledger.invoice(acme, "42299.50", 120)
        ledger.invoice(acme, "1000.00", 70)
        ledger.invoice(acme, "300.00", 3, InvoiceKind.FINAL)
    (row,) = call_list(ctx)
    assert row.reasons == ("final invoice 3 days past due", "$42,300 over 90 days", "$43,600 past due")
    assert row.days_past_due == 120


def test_an_open_promise_past_its_grace_counts_as_broken(ctx: AppContext) -> None:
    """Promised Wednesday 18 Nov, one business day of grace: broken by Monday even though the
    nightly job has not marked it yet."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        late = ledger.customer("LATE")
        ledger.invoice(late, "5000", 20)
        ledger.promise(late, date(2026, 11, 18), PromiseStatus.OPEN)
    (row,) = call_list(ctx)
    assert "broke promise of 18 Nov" in row.reasons


def test_the_grace_is_the_team_files(ctx: AppContext) -> None:
    """The list and the promise check read one grace: with four business days of grace in the
    team file, Wednesday 18 Nov's promise still has until Tuesday 24 Nov, and an
    open promise not yet due keeps the account off the list."""
    timers = replace(ctx.team.workflow.timers, promise_grace_days=4)
    ctx.team = replace(ctx.team, workflow=replace(ctx.team.workflow, timers=timers))
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        late = ledger.customer("LATE")
        ledger.invoice(late, "5000", 20)
        ledger.promise(late, date(2026, 11, 18), PromiseStatus.OPEN)
    assert call_list(ctx) == []


def test_a_broken_promise_outside_the_window_is_old_news(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        old = ledger.customer("OLD")
        ledger.invoice(old, "5000", 20)
        ledger.promise(old, MONDAY - timedelta(days=31), PromiseStatus.BROKEN)
    (row,) = call_list(ctx)
    assert not any(r.startswith("broke promise") for r in row.reasons)


def test_crossings_beyond_a_week_name_the_date(ctx: AppContext, tmp_path: Path) -> None:
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text("[rules.crossing_soon]\nlookahead_business_days = 10\n")
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        ledger.invoice(ledger.customer("SOON"), "5000", 83)  # 91 days past due on Tue 1 Dec
    (row,) = call_list(ctx)
    assert "crosses 90 days past due on 1 Dec" in row.reasons


def test_an_average_that_rounds_to_no_days_late_is_no_reason(ctx: AppContext) -> None:
    """One invoice paid a day late in three averages 0.33 days: on time, said no other way."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        prompt = ledger.customer("PROMPT")
        ledger.invoice(prompt, "5000", 20)
        for i, late in enumerate((1, 0, 0)):
            ledger.paid_invoice(prompt, "800", 100 + 30 * i, days_late=late)
    (row,) = call_list(ctx)
    assert not any("late on average" in reason for reason in row.reasons), row.reasons
