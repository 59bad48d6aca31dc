"""Exports a team opens in Excel never run a customer's name as a formula (OWASP CSV
injection): escaped in CSV, stored as text in XLSX; numbers, credits included, stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from bot.cli_calllist import render_csv
from commands.calllist import build_call_list
from commands.context import AppContext
from commands.exports import csv_text, spreadsheet_text, write_xlsx
from storage.models import Customer
from tests.support.world import seed_world

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_would_start_a_formula_is_escaped(text: str) -> None:
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme Dental", "-250.00", "1200.50", "3", 42, Decimal("-1.00"), None])
def test_ordinary_text_and_numbers_pass_through(value: object) -> None:
    assert spreadsheet_text(value) == value


def test_the_call_list_csv_carries_hostile_names_as_text(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions.begin() as session:
        for customer, name in zip(session.query(Customer).order_by(Customer.id), HOSTILE[:4], strict=False):
            customer.name = name
    with ctx.sessions() as session:
        day = ctx.work_day()
        rows = build_call_list(session, ctx, day=day)
    records = list(csv.DictReader(io.StringIO(render_csv(rows, day, ctx))))
    names = [r["customer_name"] for r in records]
    assert names and all(not n.startswith(("=", "+", "-", "@")) for n in names)
    assert any(n.startswith("'=") or n.startswith("'+") or n.startswith("'-") for n in names)
    assert all(not r["balance_due"].startswith("'") for r in records)


def test_xlsx_stores_hostile_text_as_text_and_money_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    rows = [{"customer": text, "balance": Decimal("-250.00")} for text in HOSTILE]
    write_xlsx(path, rows, ["customer", "balance"])
    sheet = openpyxl.load_workbook(path).active
    cells = list(sheet.iter_rows(min_row=2))
    assert [c[0].value for c in cells] == [t.replace("\r", "\n") for t in HOSTILE]  # XML stores CR as LF
    assert all(c[0].data_type == "s" for c in cells)
    assert all(c[1].data_type == "n" and Decimal(str(c[1].value)) == Decimal("-250.00") for c in cells)


def test_csv_text_writes_a_header_and_rows() -> None:
    assert csv_text([{"a": "=1", "b": "x"}], ["a", "b"]) == "a,b\n'=1,x\n"
