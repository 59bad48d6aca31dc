"""The spreadsheets the team keeps: the weekly report and the activity export, reopened with
openpyxl and read the way Excel would show them (sheets, headers, formats, frozen header,
autofilter), with a formula-looking note and customer name stored as text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import build_parser
from bot.cli_workbooks import run_activity, run_weekly
from commands.context import AppContext
from commands.importing import import_aging_file
from commands.kpi.report import Period
from commands.kpi.workbook import last_week, weekly_sheets
from commands.targets import targets_from_dict
from commands.workbooks import Column, Sheet, write_workbook
from storage.models import Activity, ActivityKind, Customer, Dispute, Outcome, Promise, TeamMember

CHICAGO = ZoneInfo("America/Chicago")
DANA = "dana.reyes@example.com"
HEADER = "Customer ID,Customer Name,Collector,Invoice No.,Invoice Date,Due Date,Original Amount,Amount Due\n"
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))


def _ledger(ctx: AppContext, tmp_path: Path) -> None:
    """Two customers (one named like a formula) and the week's work on them."""
    path = tmp_path / "aging.csv"
    path.write_text(
        HEADER
        + f"A,Acme Dental,{DANA},A1,2026-08-01,2026-08-31,1000.00,1000.00\n"  # 83 days late on 22 Nov
        + f"A,Acme Dental,{DANA},A2,2026-11-17,2026-12-17,250.50,250.50\n"  # current, sold this week
        + f'H,=HYPERLINK("http://x"),{DANA},H1,2026-10-01,2026-10-10,40.00,40.00\n'
    )
    import_aging_file(ctx, path, as_of=date(2026, 11, 20))
    with ctx.sessions.begin() as session:
        acme = session.scalar(select(Customer.id).where(Customer.erp_id == "A"))
        dana = session.scalar(select(TeamMember.id).where(TeamMember.email == DANA))
        session.add_all(
            [
                Activity(
                    customer_id=acme,
                    member_id=dana,
                    kind=ActivityKind.CALL,
                    outcome=Outcome.REACHED,
                    contact_name="Jane Doe",
                    note="=cmd|' /C calc'!A0 said she pays Friday",
                    occurred_at=datetime(2026, 11, 18, 10, 30, tzinfo=CHICAGO),
                ),
                Activity(
                    customer_id=acme,
                    member_id=dana,
                    kind=ActivityKind.VOICEMAIL,
                    outcome=Outcome.VOICEMAIL,
                    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO),
                ),  # next week: not in the sheet
                Promise(
                    customer_id=acme,
                    member_id=dana,
                    amount=Decimal("500.00"),
                    promised_date=date(2026, 11, 20),
                    created_at=datetime(2026, 11, 18, 10, 35, tzinfo=CHICAGO),
                ),
                Dispute(
                    customer_id=acme,
                    amount=Decimal("250.50"),
                    reason="+price was wrong",
                    opened_at=datetime(2026, 11, 17, 12, 0, tzinfo=CHICAGO),
                ),
            ]
        )


def test_the_weekly_workbook(ctx: AppContext, tmp_path: Path) -> None:
    ctx = replace(ctx, team=replace(ctx.team, targets=targets_from_dict({"dso": 35})))
    _ledger(ctx, tmp_path)
    path = tmp_path / "weekly.xlsx"
    with ctx.sessions() as session:
        write_workbook(path, weekly_sheets(ctx, session, WEEK))

    book = load_workbook(path)
    assert book.sheetnames == ["KPIs", "Aging by customer", "Activity", "Promises", "Disputes"]
    for page in book.worksheets:
        assert page.freeze_panes == "A2"
        assert all(cell.font.bold for cell in page[1])
        assert page.auto_filter.ref.startswith("A1:")

    kpis = {row[0]: row[1:] for row in book["KPIs"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert (kpis["Ending receivables (E)"][0], kpis["Credit sales (S)"][0]) == (1290.5, 250.5)
    assert kpis["DSO (days)"] == (36.06, 35, "missed")  # 1290.50 / 250.50 x 7
    assert kpis["CEI (%)"] == (None, None, None)  # undefined (B + S - C is 0) and no target set

    aging = book["Aging by customer"]
    assert [c.value for c in aging[1]] == [
        "Customer",
        "Customer ID",
        "Collector",
        "Current",
        "1-30",
        "31-60",
        "61-90",
        "Over 90",
        "Total",
    ]
    acme = next(r for r in aging.iter_rows(min_row=2) if r[0].value == "Acme Dental")
    assert [float(c.value) for c in acme[3:]] == [250.5, 0, 0, 1000, 0, 1250.5]  # A1: 83 days, in 61-90
    assert acme[8].number_format == "#,##0.00;[Red]-#,##0.00"
    formula_name = next(r for r in aging.iter_rows(min_row=2) if r[1].value == "H")
    assert formula_name[0].value == '=HYPERLINK("http://x")' and formula_name[0].data_type == "s"

    activity = book["Activity"]
    rows = [r for r in activity.iter_rows(min_row=2) if r[1].value]
    assert len(rows) == 1
    when, _, customer, _, kind, contact, outcome, note, promise = rows[0]
    assert when.value == datetime(2026, 11, 18, 10, 30) and when.number_format == "yyyy-mm-dd hh:mm"
    assert (customer.value, kind.value, contact.value, outcome.value) == ("Acme Dental", "call", "Jane Doe", "reached")
    assert note.value.startswith("=cmd|") and note.data_type == "s"
    assert promise.value == "$500.00 by 2026-11-20"
    assert "America/Chicago" in str(activity.cell(row=activity.max_row, column=1).value)

    promises = book["Promises"]
    assert [c.value for c in promises[2]][:4] == ["Acme Dental", "Dana Reyes", 500, datetime(2026, 11, 20)]
    assert promises["D2"].number_format == "yyyy-mm-dd"
    disputes = book["Disputes"]
    assert disputes["C2"].value == "+price was wrong" and disputes["C2"].data_type == "s"


def _cli(ctx: AppContext, argv: list[str]) -> int:
    """The command line as parsed by ``arbot``, run on the test's database."""
    args = build_parser().parse_args(argv)
    run = run_weekly if argv[0] == "report" else run_activity
    return run(ctx, args)


def test_cli_report_weekly_and_export_activity(
    ctx: AppContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ledger(ctx, tmp_path)
    weekly, activity = tmp_path / "w.xlsx", tmp_path / "a.xlsx"
    assert _cli(ctx, ["report", "weekly", str(weekly), "--week-of", "2026-11-18"]) == 0
    assert "2026-11-16 to 2026-11-22" in capsys.readouterr().out
    assert load_workbook(weekly).sheetnames[0] == "KPIs"
    assert _cli(ctx, ["export", "activity", "--from", "2026-11-16", "--to", "2026-11-23", str(activity)]) == 0
    sheet = load_workbook(activity)["Activity"]
    assert [r[4] for r in sheet.iter_rows(min_row=2, values_only=True) if r[1]] == ["call", "voicemail"]
    assert "2 activities" in capsys.readouterr().out

    activity.unlink()
    assert _cli(ctx, ["export", "activity", "--from", "2026-11-23", "--to", "2026-11-16", str(activity)]) == 1
    assert "before --from" in capsys.readouterr().err and not activity.exists()
    assert _cli(ctx, ["export", "activity", "--from", "2026-11-16", "--to", "2026-11-23", str(tmp_path / "a.csv")]) == 1
    assert "must end in .xlsx" in capsys.readouterr().err


def test_last_week_is_monday_to_sunday() -> None:
    assert last_week(date(2026, 11, 23)) == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert last_week(date(2026, 11, 29)) == Period(date(2026, 11, 16), date(2026, 11, 22))


def test_sheet_names_excel_refuses_are_mended(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    write_workbook(path, [Sheet("Q4/2026: [draft]?", (Column("A", "a"),), [{"a": "x"}])])
    assert load_workbook(path).sheetnames == ["Q4-2026- -draft--"]
