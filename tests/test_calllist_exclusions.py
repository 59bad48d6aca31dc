"""Accounts not to chase today: left out (the default), pushed down, or ignored as the policy
says; and accounts with nothing to collect, always left out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.context import AppContext
from storage.models import ActivityKind, Customer, DisputeStatus, Invoice, InvoiceKind, Outcome, PromiseStatus
from tests.support.ledger import Ledger, call_list

# Monday 23 Nov in Chicago runs from 06:00 UTC to 06:00 UTC on Tuesday.
THIS_MORNING = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
SUNDAY_NIGHT = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)  # 23:30 Sunday in Chicago

Setup = Callable[[Ledger, Customer], None]


def _promised_friday(ledger: Ledger, c: Customer) -> None:
    ledger.promise(c, date(2026, 11, 27))


def _promised_last_friday(ledger: Ledger, c: Customer) -> None:
    ledger.promise(c, date(2026, 11, 20))  # still within its business day of grace on Monday


def _good_plan(ledger: Ledger, c: Customer) -> None:
    ledger.plan(c, missed=False)


def _reached(ledger: Ledger, c: Customer) -> None:
    ledger.activity(c, ActivityKind.CALL, Outcome.REACHED, THIS_MORNING)


def _tried_three_times(ledger: Ledger, c: Customer) -> None:
    ledger.activity(c, ActivityKind.CALL, Outcome.NO_ANSWER, THIS_MORNING)
    ledger.activity(c, ActivityKind.VOICEMAIL, Outcome.VOICEMAIL, THIS_MORNING)
    ledger.activity(c, ActivityKind.CALL, Outcome.NO_ANSWER, THIS_MORNING)


def _net_credit(ledger: Ledger, c: Customer) -> None:
    ledger.invoice(c, "-6000", 30, InvoiceKind.CREDIT_MEMO)


def _wholly_disputed(ledger: Ledger, c: Customer) -> None:
    ledger.dispute(c, "5000", _only_invoice(ledger, c))


def _disputed_without_invoice(ledger: Ledger, c: Customer) -> None:
    ledger.dispute(c, "5000")


def _only_invoice(ledger: Ledger, c: Customer) -> Invoice:
    return ledger.session.scalars(select(Invoice).where(Invoice.customer_id == c.id)).one()


LEFT_OUT = {
    "open promise not yet due": _promised_friday,
    "open promise in its grace": _promised_last_friday,
    "plan in good standing": _good_plan,
    "reached today": _reached,
    "tried 3 times today": _tried_three_times,
    "net credit": _net_credit,
    "wholly disputed invoice": _wholly_disputed,
    "dispute without invoice covering the balance": _disputed_without_invoice,
}


@pytest.mark.parametrize("setup", LEFT_OUT.values(), ids=LEFT_OUT.keys())
def test_left_out(ctx: AppContext, setup: Setup) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        ledger.invoice(ledger.customer("CHASE"), "5000", 40)
        skip = ledger.customer("SKIP")
        ledger.invoice(skip, "5000", 40)
        setup(ledger, skip)
    assert [r.erp_id for r in call_list(ctx)] == ["CHASE"]


STILL_LISTED = {
    "plan with a missed instalment": lambda ledger, c: ledger.plan(c, missed=True),
    "reached on Sunday night, Chicago time": lambda ledger, c: ledger.activity(
        c, ActivityKind.CALL, Outcome.REACHED, SUNDAY_NIGHT
    ),
    "two tries and an email today": lambda ledger, c: [
        ledger.activity(c, kind, outcome, THIS_MORNING)
        for kind, outcome in [
            (ActivityKind.CALL, Outcome.NO_ANSWER),
            (ActivityKind.CALL, Outcome.NO_ANSWER),
            (ActivityKind.EMAIL, Outcome.EMAIL_SENT),
        ]
    ],
    "kept promise": lambda ledger, c: ledger.promise(c, date(2026, 11, 27), PromiseStatus.KEPT),
    "cancelled promise": lambda ledger, c: ledger.promise(c, date(2026, 11, 27), PromiseStatus.CANCELLED),
    "resolved dispute": lambda ledger, c: ledger.dispute(
        c, "5000", _only_invoice(ledger, c), status=DisputeStatus.RESOLVED
    ),
}


@pytest.mark.parametrize("setup", STILL_LISTED.values(), ids=STILL_LISTED.keys())
def test_still_listed(ctx: AppContext, setup: Setup) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        listed = ledger.customer("LISTED")
        ledger.invoice(listed, "5000", 40)
        setup(ledger, listed)
    assert [r.erp_id for r in call_list(ctx)] == ["LISTED"]


def test_disputed_part_comes_off_what_is_chased(ctx: AppContext) -> None:
    """$10,000 with $4,000 in dispute ranks exactly like $6,000 with none, and says why."""
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        ledger.invoice(ledger.customer("CLEAN"), "6000", 40)
        part = ledger.customer("PART")
        ledger.dispute(part, "4000", ledger.invoice(part, "10000", 40))
    rows = {r.erp_id: r for r in call_list(ctx)}
    assert rows["PART"].score == rows["CLEAN"].score
    assert rows["PART"].balance_due == Decimal("10000.00")
    assert rows["PART"].reasons == ("$6,000 over 30 days", "$6,000 past due", "$4,000 in dispute, set aside")


def test_a_wholly_disputed_final_invoice_triggers_no_rule(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        acme = ledger.customer("ACME")
        ledger.invoice(acme, "5000", 20)
        ledger.dispute(acme, "3000", ledger.invoice(acme, "3000", 3, InvoiceKind.FINAL))
    (row,) = call_list(ctx)
    assert row.reasons == ("$5,000 past due", "$3,000 in dispute, set aside")
    assert row.days_past_due == 20


def test_nothing_past_due_is_not_listed(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        ledger.invoice(ledger.customer("CURRENT"), "5000", 0)  # due today
    assert call_list(ctx) == []


def test_push_down_lists_them_last_with_the_reason_first(ctx: AppContext, tmp_path: Path) -> None:
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text(
        '[exclusions]\nopen_promise = "push_down"\nreached_today = "push_down"\n'
        'plan_in_good_standing = "push_down"\ntried_today = "push_down"\n'
    )
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        promised = ledger.customer("PROMISED")
        ledger.invoice(promised, "90000", 120, InvoiceKind.FINAL)
        _promised_friday(ledger, promised)
        reached = ledger.customer("REACHED")
        ledger.invoice(reached, "50000", 100)
        _reached(ledger, reached)
        ledger.invoice(ledger.customer("SMALL"), "100", 2)
    rows = call_list(ctx)
    assert [r.erp_id for r in rows] == ["SMALL", "PROMISED", "REACHED"]
    assert rows[1].reasons[0] == "promised to pay by 27 Nov"
    assert rows[2].reasons[0] == "reached today"


def test_ignore_ranks_as_if_nothing_happened(ctx: AppContext, tmp_path: Path) -> None:
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text('[exclusions]\ntried_today = "ignore"\nmax_attempts = 2\n')
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        tried = ledger.customer("TRIED")
        ledger.invoice(tried, "5000", 40)
        _tried_three_times(ledger, tried)
    (row,) = call_list(ctx)
    assert not any("tried" in r for r in row.reasons)
