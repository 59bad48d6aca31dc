"""The ranking policy file: documented defaults, a team's file laid over them, and mistakes
refused with a message that names the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commands.calllist import CallListError, PolicyError, load_policy
from commands.calllist.policy import DEFAULT_POLICY_FILE
from commands.context import AppContext
from tests.support.ledger import Ledger, call_list


def test_defaults() -> None:
    policy = load_policy(None)
    assert policy.list.capacity is None
    assert policy.rules.final_invoice.weight == 1000
    assert policy.rules.crossing_soon.thresholds == (30, 60, 90)
    assert policy.rules.broken_promise.window_days == 30
    assert policy.exclusions.max_attempts == 3
    assert policy.exclusions.open_promise == "leave_out"
    assert policy.ranking.tiers == ("final_invoice", "unpaid_mrr", "over_30_days", "crossing_soon", "broken_promise")
    assert policy.ranking.tier_floor == 100


def test_a_team_file_sets_its_own_tiers_in_its_own_order(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[ranking]\ntiers = ["broken_promise", "final_invoice"]\n')
    assert load_policy(path).ranking.tiers == ("broken_promise", "final_invoice")
    path.write_text("[ranking]\ntiers = []\ntier_floor = 0\n")
    assert (load_policy(path).ranking.tiers, load_policy(path).ranking.tier_floor) == ((), 0)


def test_every_default_key_is_documented_by_a_comment() -> None:
    """A key is documented when a comment sits on its line or in the lines just above it."""
    lines = DEFAULT_POLICY_FILE.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\w+ *=", line) and "#" not in line:
            above = lines[max(0, i - 3) : i]
            assert any(text.lstrip().startswith("#") for text in above), f"undocumented key: {line}"


def test_a_team_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[list]\ncapacity = 40\n\n[rules.final_invoice]\nweight = 1500.5\n")
    policy = load_policy(path)
    assert policy.list.capacity == 40
    assert policy.rules.final_invoice.weight == 1500.5
    assert policy.rules.final_invoice.max_days == 30
    assert policy.rules.unpaid_mrr.weight == 800


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules.final_invoice]\nwieght = 3\n", r"\[rules.final_invoice\]: unknown key\(s\) wieght"),
        ("[rulez]\nx = 1\n", r"unknown key\(s\) rulez"),
        ("[rules.balance]\nper_tenfold = true\n", r"rules.balance.per_tenfold must be a number, not True"),
        ("[rules.early_window]\nmin_days = 2.5\n", r"rules.early_window.min_days must be a whole number"),
        ("[rules.days_late]\nweight = -1\n", r"rules.days_late.weight must be at least 0"),
        ("[list]\ncapacity = 0\n", r"list.capacity must be at least 1"),
        ("[rules.early_window]\nmin_days = 20\n", r"min_days \(20\) is more than max_days \(15\)"),
        ('[exclusions]\nreached_today = "skip"\n', r"exclusions.reached_today must be one of 'leave_out'"),
        ("[rules.crossing_soon]\nthresholds = []\n", r"non-empty list of whole numbers"),
        ("rules = 3\n", r"\[rules\] must be a table"),
        ("[rules.balance\n", r"is not valid TOML"),
        (
            '[ranking]\ntiers = ["final_invoice", "balance"]\n',
            r"ranking.tiers: unknown tier\(s\) balance \(known: final_invoice",
        ),
        ('[ranking]\ntiers = ["over_30_days", "over_30_days"]\n', r"ranking.tiers: over_30_days named more than once"),
        ('[ranking]\ntiers = "final_invoice"\n', r"ranking.tiers must be a list of rule names"),
        ("[ranking]\ntier_floor = -5\n", r"ranking.tier_floor must be at least 0"),
        ("[ranking]\ntier_floor = 99.5\n", r"ranking.tier_floor must be a whole number"),
    ],
)
def test_mistakes_are_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message) as caught:
        load_policy(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "nope.toml")


def test_the_context_policy_file_drives_the_list(ctx: AppContext, tmp_path: Path) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for i in range(4):
            ledger.invoice(ledger.customer(f"C{i}"), "5000", 40 + i)
    assert len(call_list(ctx)) == 4
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text("[list]\ncapacity = 2\n")
    assert [r.erp_id for r in call_list(ctx)] == ["C3", "C2"]  # equal scores: the older debt first


def test_a_bad_policy_file_stops_the_list(ctx: AppContext, tmp_path: Path) -> None:
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text("[exclusions]\nmax_attempts = 0\n")
    with pytest.raises(PolicyError, match="exclusions.max_attempts must be at least 1"):
        call_list(ctx)


def test_capacity_must_be_positive(ctx: AppContext) -> None:
    with pytest.raises(CallListError, match="capacity must be at least 1"):
        call_list(ctx, capacity=0)
