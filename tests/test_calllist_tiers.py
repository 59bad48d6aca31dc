"""The default call list works in tiers, as collections teams do: final invoices just past due,
then 2+ months of unpaid recurring invoices, then money over 30 days, then items about to cross
30/60/90 days, then broken promises, then everything else. No balance or score lifts an account
into an earlier tier; a tier's fact under the floor ($100) counts for nothing; a team's policy
file can reorder the tiers or switch back to adding points (``tiers = []``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from commands.calllist import load_policy
from commands.calllist.policy import TIER_RULES
from commands.calllist.rules import RULES
from commands.context import AppContext
from storage.models import ActivityKind, Customer, InvoiceKind, Outcome, PromiseStatus
from tests.support.ledger import Ledger, call_list

Fact = Callable[[Ledger, Customer, float], None]


def _final(ledger: Ledger, c: Customer, dollars: float) -> None:
    ledger.invoice(c, str(dollars), 3, InvoiceKind.FINAL)


def _mrr(ledger: Ledger, c: Customer, dollars: float) -> None:
    ledger.invoice(c, str(dollars / 2), 22, InvoiceKind.RECURRING)
    ledger.invoice(c, str(dollars / 2), 18, InvoiceKind.RECURRING)


def _over_30(ledger: Ledger, c: Customer, dollars: float) -> None:
    ledger.invoice(c, str(dollars), 45)


def _crossing(ledger: Ledger, c: Customer, dollars: float) -> None:
    ledger.invoice(c, str(dollars), 28)  # 31 days past due on Thursday


def _broken(ledger: Ledger, c: Customer, dollars: float) -> None:
    ledger.invoice(c, str(dollars), 20)
    ledger.promise(c, date(2026, 11, 18), PromiseStatus.BROKEN)


def _anything_else(ledger: Ledger, c: Customer, dollars: float) -> None:
    ledger.invoice(c, str(dollars), 20)


TIER_FACTS: list[tuple[str, Fact, str]] = [
    ("final_invoice", _final, "final invoice 3 days past due"),
    ("unpaid_mrr", _mrr, "2 months of recurring invoices unpaid"),
    ("over_30_days", _over_30, "over 30 days"),
    ("crossing_soon", _crossing, "crosses 30 days past due on Thursday"),
    ("broken_promise", _broken, "broke promise of 18 Nov"),
    ("everything else", _anything_else, ""),
]
ADJACENT = [(TIER_FACTS[i], TIER_FACTS[i + 1]) for i in range(len(TIER_FACTS) - 1)]


def _richer(ledger: Ledger, c: Customer, fact: Fact, dollars: float) -> None:
    """An account with ``dollars`` in all and every point a lower tier can still earn: the 5-15
    day window and a habit of paying 30 days late. Under added-up points it would come first."""
    fact(ledger, c, dollars * 9 // 10)
    ledger.invoice(c, str(dollars // 10), 10)
    for i in range(3):
        ledger.paid_invoice(c, "800", 100 + 30 * i, days_late=30)


def _policy(ctx: AppContext, tmp_path: Path, text: str) -> None:
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text(text)


def _tiers(*names: str) -> str:
    return "[ranking]\ntiers = [" + ", ".join(f'"{n}"' for n in names) + "]\n"


def test_the_default_tiers_are_the_teams_contact_order() -> None:
    assert load_policy(None).ranking.tiers == (
        "final_invoice",
        "unpaid_mrr",
        "over_30_days",
        "crossing_soon",
        "broken_promise",
    )
    assert load_policy(None).ranking.tier_floor == 100
    assert [name for name, _, _ in TIER_FACTS[:-1]] == list(TIER_RULES)
    assert tuple(r.name for r in RULES if r.applies is not None) == TIER_RULES  # the yes-or-no rules


@pytest.mark.parametrize(("higher", "lower"), ADJACENT, ids=[f"{hi[0]}>{lo[0]}" for hi, lo in ADJACENT])
def test_ten_times_the_balance_does_not_jump_a_tier(
    ctx: AppContext, tmp_path: Path, higher: tuple, lower: tuple
) -> None:
    (_, higher_fact, higher_reason), (_, lower_fact, _) = higher, lower
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        _richer(ledger, ledger.customer("LOWER"), lower_fact, 10_000)
        higher_fact(ledger, ledger.customer("HIGHER"), 1_000)
    first, second = call_list(ctx)
    assert (first.erp_id, second.erp_id) == ("HIGHER", "LOWER")
    assert second.balance_due == 10 * first.balance_due
    assert second.score > first.score  # points alone would have put it first...
    assert higher_reason in first.reasons[0]

    _policy(ctx, tmp_path, "[ranking]\ntiers = []\n")  # ...as they do without tiers
    assert [r.erp_id for r in call_list(ctx)] == ["LOWER", "HIGHER"]


@pytest.mark.parametrize(("tier", "fact", "reason"), TIER_FACTS[:-1], ids=[t[0] for t in TIER_FACTS[:-1]])
def test_a_tier_fact_under_the_floor_falls_to_everything_else(
    ctx: AppContext, tmp_path: Path, tier: str, fact: Fact, reason: str
) -> None:
    """$79.94 in the tier's fact, nothing else past due: ranked with everything else, below a
    $32,000 account that is in no tier, and without the tier's reason."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        fact(ledger, ledger.customer("SMALL"), 79.94)
        _anything_else(ledger, ledger.customer("BIG"), 32_000)
    big, small = call_list(ctx)
    assert (big.erp_id, small.erp_id) == ("BIG", "SMALL")
    assert not any(reason in r for r in small.reasons)

    _policy(ctx, tmp_path, "[ranking]\ntier_floor = 0\n")
    first, _ = call_list(ctx)
    assert first.erp_id == "SMALL" and reason in first.reasons[0]


def test_the_floor_is_per_tier_and_counts_only_collectible_money(ctx: AppContext) -> None:
    """A $50 final invoice does not make a final-tier account of one whose debt is old money;
    nor does a $5,000 final invoice with $4,950 of it in dispute."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        stray = ledger.customer("STRAY")
        _final(ledger, stray, 50)
        _over_30(ledger, stray, 5_000)
        disputed = ledger.customer("DISPUTED")
        ledger.dispute(disputed, "4950", ledger.invoice(disputed, "5000", 3, InvoiceKind.FINAL))
        _mrr(ledger, ledger.customer("MRR"), 1_000)
    rows = call_list(ctx)
    assert [r.erp_id for r in rows] == ["MRR", "STRAY", "DISPUTED"]
    assert rows[1].reasons[0] == "$5,000 over 30 days"
    assert not any("final invoice" in r for row in rows for r in row.reasons)


def _one_of_each(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for name, fact, _ in reversed(TIER_FACTS):  # made last-tier first: ties would favour them
            fact(ledger, ledger.customer(name.upper()), 5_000)


def test_a_team_file_reorders_the_tiers(ctx: AppContext, tmp_path: Path) -> None:
    _one_of_each(ctx)
    assert [r.erp_id for r in call_list(ctx)] == [
        "FINAL_INVOICE",
        "UNPAID_MRR",
        "OVER_30_DAYS",
        "CROSSING_SOON",
        "BROKEN_PROMISE",
        "EVERYTHING ELSE",
    ]

    _policy(ctx, tmp_path, _tiers("broken_promise", "crossing_soon", "over_30_days", "unpaid_mrr", "final_invoice"))
    rows = call_list(ctx)
    assert [r.erp_id for r in rows] == [
        "BROKEN_PROMISE",
        "CROSSING_SOON",
        "OVER_30_DAYS",
        "UNPAID_MRR",
        "FINAL_INVOICE",
        "EVERYTHING ELSE",
    ]
    assert rows[0].reasons[0] == "broke promise of 18 Nov"


def test_a_rule_left_out_of_the_tiers_only_adds_points(ctx: AppContext, tmp_path: Path) -> None:
    """Without final_invoice among the tiers, a final invoice is worth its 1,000 points within
    everything else, below every tier."""
    _one_of_each(ctx)
    _policy(ctx, tmp_path, _tiers("unpaid_mrr", "over_30_days", "crossing_soon", "broken_promise"))
    assert [r.erp_id for r in call_list(ctx)] == [
        "UNPAID_MRR",
        "OVER_30_DAYS",
        "CROSSING_SOON",
        "BROKEN_PROMISE",
        "FINAL_INVOICE",
        "EVERYTHING ELSE",
    ]


def test_no_tiers_is_the_additive_ranking(ctx: AppContext, tmp_path: Path) -> None:
    """``tiers = []``: points alone decide, and there is no floor, so the $79.94 over 90 days
    (750 points) comes before the $32,000 in the 5-15 day window (200 + 150) again."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        ledger.invoice(ledger.customer("WINDOW"), "32000", 10)
        ledger.invoice(ledger.customer("OLD"), "79.94", 120)
        _mrr(ledger, ledger.customer("MRR"), 1_000)
        _richer(ledger, ledger.customer("RICH_OVER_30"), _over_30, 10_000)
    assert [r.erp_id for r in call_list(ctx)] == ["MRR", "RICH_OVER_30", "WINDOW", "OLD"]

    _policy(ctx, tmp_path, "[ranking]\ntiers = []\n")
    rows = call_list(ctx)
    assert [r.erp_id for r in rows] == ["RICH_OVER_30", "MRR", "OLD", "WINDOW"]
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    assert rows[2].reasons == ("$80 over 90 days",)
    assert rows[2].score == 750


def test_reasons_start_with_the_tier_even_when_other_rules_give_more(ctx: AppContext, tmp_path: Path) -> None:
    """With the final-invoice weight at 10, the window (200 points) and the balance outscore it,
    yet the line says first why it is where it is."""
    _policy(ctx, tmp_path, "[rules.final_invoice]\nweight = 10\n")
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        acme = ledger.customer("ACME")
        ledger.invoice(acme, "100000", 10)
        _final(ledger, acme, 1_000)
    (row,) = call_list(ctx)
    assert row.reasons == (
        "final invoice 3 days past due",
        "$100,000 is 5-15 days past due, the best time to call",
        "$101,000 past due",
    )


def test_pushed_down_accounts_come_last_still_in_tier_order(ctx: AppContext, tmp_path: Path) -> None:
    """An account pushed down (reached today, with push_down) stays after every other account,
    whatever its tier; among pushed-down accounts the tiers still order."""
    _policy(ctx, tmp_path, '[exclusions]\nreached_today = "push_down"\n')
    today = datetime(2026, 11, 23, 16, tzinfo=UTC)
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for name, fact in (("PUSHED_ELSE", _anything_else), ("PUSHED_FINAL", _final)):
            customer = ledger.customer(name)
            fact(ledger, customer, 5_000)
            ledger.activity(customer, ActivityKind.CALL, Outcome.REACHED, today)
        _anything_else(ledger, ledger.customer("ELSE"), 5_000)
    rows = call_list(ctx)
    assert [r.erp_id for r in rows] == ["ELSE", "PUSHED_FINAL", "PUSHED_ELSE"]
    assert rows[1].reasons[:2] == ("reached today", "final invoice 3 days past due")
