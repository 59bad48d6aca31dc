"""The KPI report on a small ledger built by three real imports, every figure worked out by hand
here from the files: a period (October 2026) whose beginning is the 30 Sep snapshot and whose end
is the 31 Oct snapshot, read back after a later 20 Nov snapshot changed the ledger again, with
partly paid items, credit memos, items paid between snapshots, an item without an issue date,
and promises kept and broken in the period."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from commands.context import AppContext
from commands.kpi import Period, as_dict, kpi_report
from commands.kpi.explain import explain
from commands.kpi.formulas import Month, countback_dso
from commands.kpi.receivables import receivables_on
from storage.models import (
    Customer,
    ImportBatch,
    ReceivableRollup,
    TeamMember,
)
from tests.support.approvals import ALEX, PRIYA
from tests.support.harness import Conversation
from tests.support.kpi_ledger import DANA, SAM, build_ledger

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
D2 = Decimal("0.01")


def forget_rollups(ctx: AppContext) -> None:
    """As if every batch had been imported before imports kept their receivables."""
    with ctx.sessions.begin() as session:
        session.execute(delete(ReceivableRollup))
        session.execute(update(ImportBatch).values(rollup_kept=False))


HISTORY = pytest.mark.parametrize("history", ["kept by each import", "rolled back from the ledger"])


def _build(ctx: AppContext, tmp_path: Path, history: str) -> None:
    build_ledger(ctx, tmp_path)
    if history != "kept by each import":
        forget_rollups(ctx)


@HISTORY
def test_receivables_on_each_snapshot(ctx: AppContext, tmp_path: Path, history: str) -> None:
    _build(ctx, tmp_path, history)
    with ctx.sessions() as session:
        sep, octo, nov = (receivables_on(session, date(2026, m, d)) for m, d in ((9, 30), (10, 31), (11, 20)))
        before = receivables_on(session, date(2026, 9, 29))
        mid = receivables_on(session, date(2026, 10, 15))
    assert sep.total == Decimal("3400.00")
    # 31 Oct: A2 200 + A3 700 + B1 500 - BCM 300 + B2 400 + C2 250 - C3 100 + D1 300
    assert octo.total == Decimal("1950.00")
    # 20 Nov: A3 700 - 300 + B2 400 + B3 900 + C2 250 - C3 100 + D1 100
    assert nov.total == Decimal("1950.00") and nov.snapshot.as_of == date(2026, 11, 20)
    assert before.snapshot is None and before.total == 0  # no import that old: the ledger knew nothing
    assert mid.total == sep.total and mid.snapshot.as_of == date(2026, 9, 30)  # between imports: the older one


@HISTORY
def test_october_kpis_worked_by_hand(ctx: AppContext, tmp_path: Path, history: str) -> None:
    _build(ctx, tmp_path, history)
    with ctx.sessions() as session:
        report = kpi_report(ctx, session, OCTOBER)
    b, e, n = Decimal(3400), Decimal(1950), 31
    s = Decimal(700 + 400 + 250 + 300)  # A3, B2, C2 and D1 (dated 16 Oct by its due date); no credit memos
    c = Decimal(700 + 400 + 300)  # due on or after 31 Oct: A3 (4 Nov), B2 (19 Nov), D1 (15 Nov)
    assert (report.beginning.total, report.sales, report.ending.total, report.ending_current) == (b, s, e, c)
    assert report.dso == e / s * n and report.dso.quantize(D2) == Decimal("36.64")
    assert report.best_possible_dso == c / s * n and report.best_possible_dso.quantize(D2) == Decimal("26.30")
    assert report.add.quantize(D2) == ((e - c) / s * n).quantize(D2) == Decimal("10.33")
    assert report.cei == (b + s - e) / (b + s - c) * 100 and report.cei.quantize(D2) == Decimal("84.93")
    # Countback: October's 1650 of sales takes 31 days; the 300 left is 300/1300 of September (A2 500 + C1 800).
    assert report.countback.days == 31 + Decimal(300) / Decimal(1300) * 30
    # On 31 Oct: B1 500 is 122 days past due; BCM -300 is 46 days past due; A2 (21) and C2 (1) are younger.
    assert (report.over_90, report.past_due_31) == (Decimal("500.00"), Decimal("200.00"))
    assert (report.promises.kept, report.promises.broken) == (2, 1)
    assert report.ptp_kept_rate.quantize(D2) == Decimal("66.67")
    assert report.ptp_kept_amount_rate == Decimal(500) / Decimal(1500) * 100
    assert report.contacts == {DANA: 2, SAM: 1}
    assert [(r, s.count, s.average, s.median, s.longest) for r, s in report.disputes.items()] == [
        ("all", 3, Decimal("11.3"), Decimal("3.0"), Decimal("30.0")),
        ("billed twice", 2, Decimal("2.0"), Decimal("2.0"), Decimal("3.0")),
        ("price", 1, Decimal("30.0"), Decimal("30.0"), Decimal("30.0")),
    ]
    assert (
        report.confirmations.hours.average,
        report.confirmations.hours.longest,
        report.confirmations.within_target,
    ) == (Decimal("8.0"), Decimal("11.0"), 1)
    assert (report.approvals.count, report.approvals.average) == (1, Decimal("4.0"))


def test_the_same_figures_before_the_november_import(ctx: AppContext, tmp_path: Path) -> None:
    """With 31 Oct as the latest import, E is read straight from the ledger: the same numbers."""
    build_ledger(ctx, tmp_path, through_november=False)
    with ctx.sessions() as session:
        figures = as_dict(kpi_report(ctx, session, OCTOBER))
    assert (
        figures["beginning_receivables"],
        figures["ending_receivables"],
        figures["ending_current"],
        figures["credit_sales"],
        figures["cei"],
    ) == ("3400.00", "1950.00", "1400.00", "1650.00", "84.93")


@HISTORY
def test_one_collectors_figures(ctx: AppContext, tmp_path: Path, history: str) -> None:
    _build(ctx, tmp_path, history)
    with ctx.sessions() as session:
        dana = session.scalar(select(TeamMember.id).where(TeamMember.email == DANA))
        figures = as_dict(kpi_report(ctx, session, OCTOBER, collector=(DANA, dana)))
    # Dana has A and B. B = A1 600 + A2 500 + B1 2000 - BCM 300; E = A2 200 + A3 700 + B1 500 - 300 + B2 400;
    # S = A3 700 + B2 400; C = A3 + B2; CEI = (2800 + 1100 - 1500) / (2800 + 1100 - 1100) x 100.
    assert {
        k: figures[k]
        for k in (
            "beginning_receivables",
            "ending_receivables",
            "credit_sales",
            "ending_current",
            "dso",
            "cei",
            "ptp_kept_rate",
            "ptp_kept_amount_rate",
            "over_90",
        )
    } == {
        "beginning_receivables": "2800.00",
        "ending_receivables": "1500.00",
        "credit_sales": "1100.00",
        "ending_current": "1100.00",
        "dso": "42.27",
        "cei": "85.71",
        "ptp_kept_rate": "50.00",
        "ptp_kept_amount_rate": "23.08",
        "over_90": "500.00",
    }
    assert figures["meaningful_contacts"] == {DANA: {"contacts": 2, "per_week": "0.45"}}


def test_a_past_month_follows_who_held_the_customers_then(ctx: AppContext, tmp_path: Path) -> None:
    """Birch & Sons moves from Dana to Sam after the November import: Dana's October still
    counts it (the imports kept who held it), Sam's does not."""
    build_ledger(ctx, tmp_path)
    with ctx.sessions.begin() as session:
        member = {e: i for e, i in session.execute(select(TeamMember.email, TeamMember.id))}
        session.execute(update(Customer).where(Customer.erp_id == "B").values(collector_id=member[SAM]))
    with ctx.sessions() as session:
        dana = as_dict(kpi_report(ctx, session, OCTOBER, collector=(DANA, member[DANA])))
        sam = as_dict(kpi_report(ctx, session, OCTOBER, collector=(SAM, member[SAM])))
    assert (dana["beginning_receivables"], dana["ending_receivables"]) == ("2800.00", "1500.00")
    # Sam held C and D: 30 Sep C1 800 - CCM 200; 31 Oct C2 250 - C3 100 + D1 300.
    assert (sam["beginning_receivables"], sam["ending_receivables"]) == ("600.00", "450.00")


def test_cei_keeps_approved_credits_and_write_offs_out_of_the_collectible(ctx: AppContext, tmp_path: Path) -> None:
    """A $200 write-off on Birch & Sons (B) approved in November, not yet in the ERP: not money
    collected, and not money that could have been, so CEI = (B + S − E − (A − P)) / (B + S − C − A)
    with A = P = 200. Finance declining it gives the CRF's formula back."""
    build_ledger(ctx, tmp_path)
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    with ctx.sessions() as session:
        plain = kpi_report(ctx, session, november)
    chat = Conversation(ctx)
    chat.say(DANA, "writeoff B 200 uncollectible after the merger")
    chat.click(ALEX, chat.last_post("approvals"), "Approve")
    with ctx.sessions() as session:
        report = kpi_report(ctx, session, november)
    b, s, e, c = report.beginning.total, report.sales, report.ending.total, report.ending_current
    assert (b, s, e, c) == (plain.beginning.total, plain.sales, plain.ending.total, plain.ending_current)
    assert (report.adjusted.approved, report.adjusted.still_in_ending) == (Decimal("200.00"), Decimal("200.00"))
    assert plain.cei == (b + s - e) / (b + s - c) * 100
    assert report.cei == (b + s - e) / (b + s - c - 200) * 100 and report.cei != plain.cei
    title, lines = explain(report, "cei")
    assert title == "CEI = (B + S − E − (A − P)) / (B + S − C − A) × 100"
    assert lines[4:6] == [
        "A (credits and write-offs approved 2026-11-01 to 2026-11-30) = 200.00",
        "P (part of A the ending receivables still carry) = 200.00",
    ]
    figures = as_dict(report)
    assert (figures["credits_and_writeoffs_approved"], figures["credits_and_writeoffs_in_ending"]) == (
        "200.00",
        "200.00",
    )
    chat.click(PRIYA, chat.last_post("finance"), "Not doing", reason="the customer paid it after all")
    with ctx.sessions() as session:
        declined = kpi_report(ctx, session, november)
    assert declined.cei == plain.cei and explain(declined, "cei")[0] == "CEI = (B + S − E) / (B + S − C) × 100"


def test_json_keys_and_conventions(ctx: AppContext, tmp_path: Path) -> None:
    build_ledger(ctx, tmp_path)
    with ctx.sessions() as session:
        figures = as_dict(kpi_report(ctx, session, OCTOBER))
    assert figures == json.loads(json.dumps(figures))
    assert {
        k: figures[k]
        for k in (
            "dso",
            "best_possible_dso",
            "add",
            "cei",
            "countback_dso",
            "ptp_kept_rate",
            "ptp_kept_amount_rate",
            "over_90",
            "past_due_31",
        )
    } == {
        "dso": "36.64",
        "best_possible_dso": "26.30",
        "add": "10.33",
        "cei": "84.93",
        "countback_dso": "37.92",
        "ptp_kept_rate": "66.67",
        "ptp_kept_amount_rate": "33.33",
        "over_90": "500.00",
        "past_due_31": "200.00",
    }
    assert (figures["beginning_snapshot"], figures["ending_snapshot"], figures["days"]) == (
        "2026-09-30",
        "2026-10-31",
        31,
    )
    assert figures["payment_confirmation_hours"] == {
        "count": 2,
        "average": "8.00",
        "median": "8.00",
        "longest": "11.00",
        "target": "8.00",
        "within_target": 1,
        "within_target_rate": "50.00",
    }


def test_undefined_figures_are_null_not_zero(ctx: AppContext) -> None:
    with ctx.sessions() as session:
        figures = as_dict(kpi_report(ctx, session, OCTOBER))
    assert figures["dso"] is None and figures["cei"] is None and figures["ptp_kept_rate"] is None
    assert figures["ending_receivables"] == "0.00" and figures["countback_dso"] == "0.00"


def test_countback_exhaustion() -> None:
    months = [Month("Oct", Decimal(100), 31), Month("Sep", Decimal(0), 30), Month("Aug", Decimal(200), 31)]
    assert countback_dso(Decimal(100), months).days == 31
    assert countback_dso(Decimal(200), months).days == 31 + 30 + Decimal(31) / 2
    ran_out = countback_dso(Decimal(1000), months)
    assert (ran_out.days, ran_out.exhausted) == (92, False)


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_cli_report_kpi(ctx: AppContext, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    from argparse import Namespace

    from bot.cli_report import run

    build_ledger(ctx, tmp_path)
    args = Namespace(date_from="2026-10-01", date_to="2026-10-31", collector=None, format=fmt)
    assert run(ctx, args) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        figures = json.loads(out)
        assert (figures["cei"], figures["dso"], figures["beginning_receivables"], figures["credit_sales"]) == (
            "84.93",
            "36.64",
            "3400.00",
            "1650.00",
        )
    elif fmt == "csv":
        assert out.splitlines()[0] == "kpi,value" and "cei,84.93" in out.splitlines()
    else:
        assert "cei" in out and "84.93" in out and DANA in out


def test_cli_refuses_a_backwards_period(ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    from argparse import Namespace

    from bot.cli_report import run

    args = Namespace(date_from="2026-10-31", date_to="2026-10-01", collector=None, format="json")
    assert run(ctx, args) == 1
    assert "before --from" in capsys.readouterr().err
