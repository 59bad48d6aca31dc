"""Reading exports exactly: money spellings to the cent, US and ISO dates, headers found under
report titles, column spellings, XLSX cells. No database needed."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import numpy as np
import openpyxl
import pandas as pd
import pytest

from storage.aging import AgingFileError, as_of_from_titles, parse_items, read_table
from storage.aging.columns import match_columns
from storage.aging.dates import iso_dates, parse_dates
from storage.aging.money import parse_money


def _money(*texts: str) -> tuple[list[int], list[str]]:
    parsed = parse_money(pd.Series(texts, dtype="str"))
    return parsed.cents.tolist(), parsed.reason.tolist()


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("$1,234.56", 123456),
        ("(1,234.56)", -123456),
        ("-1,234.56", -123456),
        ("1234.5", 123450),
        ("0.10", 10),
        ("-0.05", -5),
        ("$-5.00", -500),
        ("-$5", -500),
        ("5-", -500),
        (" 33,454.83 ", 3345483),
        ("$393,391.24", 39339124),
        (".5", 50),
        ("(42)", -4200),
        ("1234567890123.99", 123456789012399),
    ],
)
def test_money_spellings_parse_to_exact_cents(text: str, cents: int) -> None:
    assert _money(text) == ([cents], [""])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.005", "'1.005' has fractions of a cent"),
        ("1,234.5678", "'1,234.5678' has fractions of a cent"),
        ("abc", "'abc' is not an amount"),
        ("1,23.4", "'1,23.4' is not an amount"),
        ("(-5)", "'(-5)' is not an amount"),
        ("12345678901234", "'12345678901234' is not an amount"),
    ],
)
def test_bad_money_is_refused_with_a_reason(text: str, reason: str) -> None:
    assert _money(text)[1] == [reason]


def test_blank_money_is_blank_not_zero() -> None:
    parsed = parse_money(pd.Series(["", "1"], dtype="str"))
    assert parsed.blank.tolist() == [True, False]
    assert parsed.reason.tolist() == ["", ""]


def test_dates_read_us_month_first_and_iso() -> None:
    parsed = parse_dates(
        pd.Series(["11/03/2026", "2026-11-03", "11/3/26", "Nov 3, 2026", "13/45/2026", ""], dtype="str")
    )
    assert iso_dates(parsed.days) == ["2026-11-03"] * 4 + [None, None]
    assert parsed.invalid.tolist() == [False] * 4 + [True, False]
    assert parsed.blank.tolist() == [False] * 5 + [True]


def test_as_of_comes_from_the_report_title() -> None:
    assert as_of_from_titles(["A/R Aging Detail", "Ridgeview", "As of November 23, 2026"]) == date(2026, 11, 23)
    assert as_of_from_titles(["Open items", "as of: 2026-11-20"]) == date(2026, 11, 20)
    assert as_of_from_titles(["Open items"]) is None


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["Client", "Invoice #", "Due", "Balance"], {"name": 0, "number": 1, "due_date": 2, "open_balance": 3}),
        (
            ["Account", "Doc No", "Due Date", "Amount Remaining", "Assigned To", "Segment", "Currency"],
            {"name": 0, "number": 1, "due_date": 2, "open_balance": 3, "owner": 4, "segment": 5, "currency": 6},
        ),
        (
            ["Customer ID", "Customer Name", "Invoice No.", "Invoice Type", "Owner"],
            {"erp_id": 0, "name": 1, "number": 2, "kind": 3, "owner": 4},
        ),
        (
            ["", "Date", "Transaction Type", "Num", "Customer", "Due Date", "Amount", "Open Balance"],
            {"issue_date": 1, "kind": 2, "number": 3, "name": 4, "due_date": 5, "amount": 6, "open_balance": 7},
        ),
    ],
)
def test_common_header_spellings_are_recognised(labels: list[str], expected: dict[str, int]) -> None:
    assert match_columns(labels) == expected


def test_quickbooks_report_furniture_is_not_an_item(samples) -> None:
    table = read_table((samples / "quickbooks_ar_aging_detail.csv").read_bytes())
    parsed = parse_items(table)
    assert parsed.layout == "quickbooks_aging_detail"
    assert len(parsed.frame) == 60
    assert not parsed.frame["number"].eq("").any()
    first_item = table.line_numbers()[parsed.frame.index[0]]
    assert first_item == 7  # title lines, a blank line, the header and a bucket heading come first


def test_semicolon_csv_with_a_bom_and_tab_csv_are_read() -> None:
    semicolon = "\ufeffCustomer;Invoice No;Due Date;Balance\nAcme;1;2026-11-01;1.234,00\n".encode()
    tab = b"Customer\tInvoice No\tDue Date\tBalance\nAcme\t1\t2026-11-01\t12.50\n"
    assert read_table(semicolon).labels == ["Customer", "Invoice No", "Due Date", "Balance"]
    assert parse_items(read_table(tab)).frame["open_balance"].tolist() == [1250]


def test_a_file_without_the_needed_columns_is_refused_with_what_is_missing() -> None:
    with pytest.raises(AgingFileError, match="no column for: due date"):
        read_table(b"Customer,Invoice No,Balance\nAcme,1,5.00\n")
    with pytest.raises(AgingFileError, match="no header row found"):
        read_table(b"just,some,words\n1,2,3\n")


def test_xlsx_cells_become_exact_text(tmp_path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Open items", None, None, None])
    sheet.append(["Customer", "Invoice #", "Due Date", "Balance"])
    sheet.append(["Acme Dental Group", 5001, datetime(2026, 11, 18), 1385.02])
    sheet.append([None, None, None, None])
    sheet.append(["Birch & Sons", "5002", "11/25/2026", 0.1 + 0.2])  # a formula's float: shown as 0.3
    buffer = BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue())
    parsed = parse_items(table)
    assert table.kind == "xlsx"
    assert parsed.frame["number"].tolist() == ["5001", "5002"]
    assert parsed.frame["open_balance"].tolist() == [138502, 30]
    assert iso_dates(np.asarray(parsed.frame["due_date"])) == ["2026-11-18", "2026-11-25"]
    assert table.line_numbers().tolist() == [3, 5]  # sheet rows, the blank row 4 skipped
