"""Collector types ``list``: their ranked call list, one row per account with its reasons and
Log call / Promise / Paid buttons that name the customer."""

from __future__ import annotations

from datetime import UTC, datetime

from commands.calllist import build_call_list
from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Tone
from tests.support.world import DANA, PRIYA, press, refused, row_counts, say, seed_world


def test_list_shows_the_collectors_ranked_accounts_with_reasons_and_buttons(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    [reply] = say(ctx, "list")
    assert row_counts(ctx) == before
    with ctx.sessions() as session:
        expected = build_call_list(session, ctx, day=ctx.work_day(), collector_email=DANA)
    assert reply.title == "Your call list for Mon 23 Nov 2026 (3 accounts)" and reply.private
    assert {line.erp_id for line in expected} == {"C100", "C200", "C400"}  # Summit has an open promise
    assert [r.title for r in reply.rows] == [f"{line.customer_name} ({line.erp_id})" for line in expected]
    assert [r.detail for r in reply.rows] == ["; ".join(line.reasons) for line in expected]
    dental = reply.rows[[line.erp_id for line in expected].index("C100")]
    assert [(f.label, f.value) for f in dental.fields] == [("Balance", "$3,350.10"), ("Days past due", "114")]
    assert [(b.label, b.action, b.value) for b in dental.buttons] == [
        ("Log call", "log_call", {"customer": "C100"}),
        ("Promise", "promise", {"customer": "C100"}),
        ("Paid", "paid", {"customer": "C100"}),
    ]


def test_a_list_button_leads_to_the_typed_command(ctx: AppContext) -> None:
    seed_world(ctx)
    [listing] = say(ctx, "list")
    button = listing.rows[0].buttons[1]
    [reply] = press(ctx, button.action, button.value)
    assert reply.title.startswith("Record a promise from ")
    assert f"Type: promise {button.value['customer']} <amount> <date> [note]" in reply.text


def test_a_new_promise_takes_the_account_off_the_list(ctx: AppContext) -> None:
    seed_world(ctx)
    assert say(ctx, "promise acme ortho 800 fri")[0].tone is Tone.SUCCESS
    [reply] = say(ctx, "list")
    assert "Acme Ortho (C200)" not in [r.title for r in reply.rows]


def test_on_a_weekend_the_list_is_for_the_next_business_day(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    clock.at = datetime(2026, 11, 28, 15, tzinfo=UTC)  # Saturday
    assert say(ctx, "list")[0].title.startswith("Your call list for Mon 30 Nov 2026")


def test_a_collector_with_nothing_due_hears_so(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = say(ctx, "list", email="sam.okafor@example.com")
    assert (reply.title, reply.rows) == ("Nothing on your list for Mon 23 Nov 2026", ())


def test_list_is_for_collectors_and_other_lists_for_those_who_oversee(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    assert "try `list team`, `list <collector>`" in refused(say(ctx, "list", email=PRIYA)).title
    assert "only managers, finance and admins see other collectors' lists" in refused(say(ctx, "list sam")).title
    assert "only managers, finance and admins" in refused(say(ctx, "list team")).title
    assert "no collector on the team matches 'nobody'" in refused(say(ctx, "list nobody", email=PRIYA)).title
    assert row_counts(ctx) == before


def test_finance_and_managers_see_a_collectors_list_and_the_team(ctx: AppContext) -> None:
    seed_world(ctx)
    [own] = say(ctx, "list")
    for asked in ("list dana", "list Dana Reyes", "list dana.reyes@example.com", "list @dana.reyes"):
        [theirs] = say(ctx, asked, email=PRIYA)
        assert theirs.title == own.title.replace("Your", "Dana Reyes's"), asked
        assert [r.title for r in theirs.rows] == [r.title for r in own.rows]
        assert theirs.private
    [team] = say(ctx, "list team", email="maria.lopez@example.com")
    assert team.title.startswith("Team call lists for ")
    dana, *others = team.rows
    assert dana.title.startswith(f"Dana Reyes: {len(own.rows)} accounts, $")
    assert dana.detail.startswith(f"first: {own.rows[0].title}")
    assert [r.detail for r in others] == ["nothing to call today"] * len(others)
